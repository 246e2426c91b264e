// Command kws-cluster runs and exercises a local Kubernetes control plane for tests.
//
//	kws-cluster run   --dir DIR --bin BIN   start the cluster and supervise it until SIGTERM
//	kws-cluster churn --kubeconfig FILE ... generate a seeded workload
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"k8s-watch-server/tests/cluster/internal/churn"
	"k8s-watch-server/tests/cluster/internal/harness"
)

func usage() {
	fmt.Fprintf(os.Stderr, "usage: kws-cluster run|churn [flags]\n")
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	switch os.Args[1] {
	case "run":
		fs := flag.NewFlagSet("run", flag.ExitOnError)
		var o harness.Options
		fs.StringVar(&o.Dir, "dir", "/tmp/kws-cluster", "state directory")
		fs.StringVar(&o.BinDir, "bin", "", "directory holding kube-apiserver, kube-controller-manager, kube-scheduler")
		fs.StringVar(&o.KubernetesVersion, "kubernetes-version", "", "version of the binaries (for state.json and node info)")
		_ = fs.Parse(os.Args[2:])
		if o.BinDir == "" {
			log.Fatal("--bin is required")
		}
		if err := harness.FromEnv(&o); err != nil {
			log.Fatal(err)
		}
		if err := harness.Run(ctx, o); err != nil {
			log.Printf("error: %v", err)
			os.Exit(1)
		}
	case "churn":
		if err := churn.Main(ctx, os.Args[2:]); err != nil {
			log.Printf("churn: %v", err)
			os.Exit(1)
		}
	default:
		usage()
	}
}
