// Command kws-cluster runs and exercises a local Kubernetes control plane for tests.
//
//	kws-cluster run   --dir DIR --bin BIN   start the cluster and supervise it until SIGTERM
//	kws-cluster churn --kubeconfig FILE ... generate a seeded workload
//	kws-cluster restart-apiserver --dir DIR [--down 2s] [--timeout 2m]
//	                                         restart kube-apiserver of a running cluster
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"k8s-watch-server/tests/cluster/internal/churn"
	"k8s-watch-server/tests/cluster/internal/harness"
)

func usage() {
	fmt.Fprintf(os.Stderr, "usage: kws-cluster run|churn|restart-apiserver [flags]\n")
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
	case "restart-apiserver":
		fs := flag.NewFlagSet("restart-apiserver", flag.ExitOnError)
		dir := fs.String("dir", "/tmp/kws-cluster", "state directory of the running cluster")
		down := fs.Duration("down", 0, "how long kube-apiserver stays stopped")
		timeout := fs.Duration("timeout", 2*time.Minute, "how long to wait for the new kube-apiserver to be ready")
		_ = fs.Parse(os.Args[2:])
		if *down < 0 || *timeout <= 0 {
			log.Fatal("--down must be >= 0 and --timeout > 0")
		}
		pid, err := harness.RequestAPIServerRestart(ctx, *dir, *down, *timeout)
		if err != nil {
			log.Printf("restart-apiserver: %v", err)
			os.Exit(1)
		}
		fmt.Println(pid)
	default:
		usage()
	}
}
