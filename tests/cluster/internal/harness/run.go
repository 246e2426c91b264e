// Package harness runs a local Kubernetes control plane: embedded etcd, kube-apiserver,
// kube-controller-manager and kube-scheduler as child processes, and a fake kubelet.
package harness

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	etcdversion "go.etcd.io/etcd/api/v3/version"
	"go.etcd.io/etcd/server/v3/embed"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"k8s-watch-server/tests/cluster/internal/fakekubelet"
	"k8s-watch-server/tests/cluster/internal/pki"
)

const (
	serviceCIDR       = "10.96.0.0/16"
	saIssuer          = "https://kubernetes.default.svc.cluster.local"
	readerNamespace   = "kws-system"
	readerName        = "kws-reader"
	adminUser         = "kws-admin"
	adminTokenUser    = "kws-admin-token"
	stateSchema       = 1
	stopGrace         = 15 * time.Second
	restartGrace      = 3 * time.Second
	childStartTimeout = 2 * time.Minute
)

type proc struct {
	name string
	args []string
	cmd  *exec.Cmd
	logf *os.File
	done chan struct{}
	err  error
	// expected marks an exit the harness asked for (a restart), which must not
	// stop the cluster.
	expected atomic.Bool
}

// Harness holds a running cluster.
type Harness struct {
	o     Options
	state State

	etcd  *embed.Etcd
	procs []*proc
	died  chan *proc

	caPEM       []byte
	adminConfig *rest.Config
	client      kubernetes.Interface

	kubeletCancel context.CancelFunc
	mu            sync.Mutex
}

func (h *Harness) path(p ...string) string { return filepath.Join(append([]string{h.o.Dir}, p...)...) }

// Run starts the cluster, writes state.json, and blocks until ctx is cancelled or a
// component dies; then it stops everything.
func Run(ctx context.Context, o Options) error {
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return err
	}
	o.Dir = dir
	h := &Harness{o: o, died: make(chan *proc, 8)}
	startErr := h.start(ctx)
	if startErr != nil {
		log.Printf("start failed: %v", startErr)
		h.state.Status = "failed"
		h.state.Error = startErr.Error()
		_ = h.writeState()
		h.stop()
		return startErr
	}
	log.Printf("cluster ready: %s (kubeconfig %s)", h.state.APIURL, h.state.Kubeconfig)

	// SIGUSR1 asks for a kube-apiserver restart (kws-cluster restart-apiserver).
	restart := make(chan os.Signal, 1)
	signal.Notify(restart, syscall.SIGUSR1)
	defer signal.Stop(restart)
	var runErr error
wait:
	for {
		select {
		case <-ctx.Done():
			log.Printf("shutting down")
			break wait
		case <-restart:
			if err := h.restartAPIServer(ctx); err != nil {
				runErr = fmt.Errorf("restarting kube-apiserver: %w", err)
				log.Printf("%v; stopping the cluster", runErr)
				break wait
			}
		case p := <-h.died:
			runErr = fmt.Errorf("%s exited: %v", p.name, p.err)
			log.Printf("%v; stopping the cluster", runErr)
			break wait
		case err := <-h.etcd.Err():
			runErr = fmt.Errorf("etcd: %v", err)
			log.Printf("%v; stopping the cluster", runErr)
			break wait
		}
	}
	if runErr != nil {
		h.state.Status = "failed"
		h.state.Error = runErr.Error()
	} else {
		h.state.Status = "stopping"
	}
	_ = h.writeState()
	h.stop()
	return runErr
}

func (h *Harness) writeState() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return writeJSONAtomic(h.path("state.json"), &h.state)
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func (h *Harness) start(ctx context.Context) error {
	o := h.o
	// Fresh state every run: remove what a previous run generated (logs are kept and
	// overwritten file by file).
	for _, p := range []string{"pki", "etcd", "sa", "run", "audit", "state.json", "admin.kubeconfig",
		"kcm.kubeconfig", "scheduler.kubeconfig", "reader.kubeconfig", "admin.token", "audit-policy.yaml", "tokens.csv"} {
		if err := os.RemoveAll(h.path(p)); err != nil {
			return err
		}
	}
	for _, d := range []string{"pki", "etcd", "sa", "run", "logs", "audit"} {
		if err := os.MkdirAll(h.path(d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(h.path("etcd"), 0o700); err != nil {
		return err
	}

	ports, err := freePorts(5)
	if err != nil {
		return fmt.Errorf("pick ports: %w", err)
	}
	if o.APIServerPort != 0 {
		ports[2] = o.APIServerPort
	}
	pm := map[string]int{"etcd_client": ports[0], "etcd_peer": ports[1], "kube-apiserver": ports[2],
		"kube-controller-manager": ports[3], "kube-scheduler": ports[4]}

	h.state = State{
		Schema:            stateSchema,
		Status:            "starting",
		Dir:               o.Dir,
		KubernetesVersion: o.KubernetesVersion,
		EtcdVersion:       etcdversion.Version,
		StartedAt:         time.Now().UTC().Format(time.RFC3339),
		APIURL:            fmt.Sprintf("https://127.0.0.1:%d", pm["kube-apiserver"]),
		EtcdURL:           fmt.Sprintf("http://127.0.0.1:%d", pm["etcd_client"]),
		Kubeconfig:        h.path("admin.kubeconfig"),
		AuditLog:          h.path("audit", "audit.log"),
		AuditPolicy:       h.path("audit-policy.yaml"),
		Ports:             pm,
		PGID:              syscall.Getpgrp(),
		Pids:              map[string]int{"harness": os.Getpid()},
		Logs: map[string]string{
			"harness": h.path("logs", "harness.log"),
			"etcd":    h.path("logs", "etcd.log"),
		},
		Bin: o.BinDir,
		Knobs: map[string]string{
			"etcd_compaction_interval": o.EtcdCompactionInterval,
			"watch_cache":              strconv.FormatBool(o.WatchCache),
			"watch_cache_sizes":        o.WatchCacheSizes,
			"event_ttl":                o.EventTTL,
			"audit_level":              o.AuditLevel,
			"audit_create_level":       o.AuditCreateLevel,
			"nodes":                    strconv.Itoa(o.Nodes),
		},
	}
	if err := os.WriteFile(h.path("run", "harness.pid"), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(h.path("run", "pgid"), []byte(strconv.Itoa(h.state.PGID)+"\n"), 0o644); err != nil {
		return err
	}
	if err := h.writeState(); err != nil {
		return err
	}

	if err := h.makePKI(); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if err := h.writeAuditPolicy(); err != nil {
		return err
	}
	t0 := time.Now()
	if err := h.startEtcd(pm["etcd_client"], pm["etcd_peer"]); err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	log.Printf("etcd %s ready at %s (%s)", etcdversion.Version, h.state.EtcdURL, time.Since(t0).Round(time.Millisecond))

	if err := h.startAPIServer(ctx, pm["kube-apiserver"]); err != nil {
		return err
	}
	log.Printf("kube-apiserver ready at %s (%s)", h.state.APIURL, time.Since(t0).Round(time.Millisecond))

	if err := h.startControllers(ctx, pm["kube-controller-manager"], pm["kube-scheduler"]); err != nil {
		return err
	}
	log.Printf("kube-controller-manager and kube-scheduler healthy (%s)", time.Since(t0).Round(time.Millisecond))

	kctx, cancel := context.WithCancel(context.Background())
	h.kubeletCancel = cancel
	kl := fakekubelet.New(h.client, fakekubelet.Config{
		Nodes:          o.Nodes,
		KubeletVersion: o.KubernetesVersion,
		StartDelay:     o.PodStartDelay,
		RunDuration:    o.PodRunDuration,
		DeleteDelay:    o.PodDeleteDelay,
		Events:         o.KubeletEvents,
	})
	if err := kl.RegisterNodes(ctx); err != nil {
		return fmt.Errorf("register nodes: %w", err)
	}
	if err := kl.Run(kctx); err != nil {
		return fmt.Errorf("fake kubelet: %w", err)
	}
	h.state.Nodes = kl.NodeNames()

	if err := h.setupReader(ctx); err != nil {
		return fmt.Errorf("reader service account: %w", err)
	}
	if err := h.waitWorkloadReady(ctx); err != nil {
		return err
	}
	h.state.Status = "ready"
	h.state.ReadyAt = time.Now().UTC().Format(time.RFC3339)
	log.Printf("ready after %s", time.Since(t0).Round(time.Millisecond))
	return h.writeState()
}

func (h *Harness) makePKI() error {
	dir := h.path("pki")
	ca, err := pki.NewCA(dir, "kws-cluster-ca")
	if err != nil {
		return err
	}
	h.caPEM, err = os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		return err
	}
	leaves := []pki.Leaf{
		{Name: "apiserver", CN: "kube-apiserver", Server: true,
			DNS: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
			IPs: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1"), net.ParseIP("10.96.0.1")}},
		{Name: "admin", CN: adminUser, Orgs: []string{"system:masters"}, Client: true},
		{Name: "kcm", CN: "system:kube-controller-manager", Client: true},
		{Name: "scheduler", CN: "system:kube-scheduler", Client: true},
	}
	for _, l := range leaves {
		if _, _, err := ca.Issue(dir, l); err != nil {
			return err
		}
	}
	if _, _, err := pki.NewServiceAccountKey(dir); err != nil {
		return err
	}
	token := pki.RandomToken()
	if err := os.WriteFile(h.path("pki", "tokens.csv"),
		[]byte(fmt.Sprintf("%s,%s,%s,\"system:masters\"\n", token, adminTokenUser, adminTokenUser)), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(h.path("admin.token"), []byte(token+"\n"), 0o600); err != nil {
		return err
	}
	h.state.CAFile = filepath.Join(dir, "ca.crt")
	h.state.AdminCertFile = filepath.Join(dir, "admin.crt")
	h.state.AdminKeyFile = filepath.Join(dir, "admin.key")
	h.state.AdminToken = token
	h.state.AdminTokenFile = h.path("admin.token")

	read := func(n string) []byte { b, _ := os.ReadFile(filepath.Join(dir, n)); return b }
	users := map[string]*clientcmdapi.AuthInfo{
		adminUser:      {ClientCertificateData: read("admin.crt"), ClientKeyData: read("admin.key")},
		adminTokenUser: {Token: token},
	}
	if err := h.writeKubeconfig(h.state.Kubeconfig, users, []string{adminUser, adminTokenUser}); err != nil {
		return err
	}
	for _, n := range []string{"kcm", "scheduler"} {
		u := map[string]*clientcmdapi.AuthInfo{n: {ClientCertificateData: read(n + ".crt"), ClientKeyData: read(n + ".key")}}
		if err := h.writeKubeconfig(h.path(n+".kubeconfig"), u, []string{n}); err != nil {
			return err
		}
	}
	h.adminConfig = &rest.Config{
		Host:            h.state.APIURL,
		TLSClientConfig: rest.TLSClientConfig{CAData: h.caPEM, CertData: read("admin.crt"), KeyData: read("admin.key")},
		QPS:             100, Burst: 200,
		UserAgent: "kws-cluster-harness",
	}
	h.client, err = kubernetes.NewForConfig(h.adminConfig)
	return err
}

// writeKubeconfig writes a kubeconfig with one cluster "kws" and one context per user;
// the first user's context (named "kws" for the admin file) is current.
func (h *Harness) writeKubeconfig(path string, users map[string]*clientcmdapi.AuthInfo, order []string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["kws"] = &clientcmdapi.Cluster{Server: h.state.APIURL, CertificateAuthorityData: h.caPEM}
	cfg.AuthInfos = users
	for i, u := range order {
		name := u
		switch u {
		case adminUser:
			name = "kws"
		case adminTokenUser:
			name = "kws-token"
		}
		cfg.Contexts[name] = &clientcmdapi.Context{Cluster: "kws", AuthInfo: u, Namespace: "default"}
		if i == 0 {
			cfg.CurrentContext = name
		}
	}
	return clientcmd.WriteToFile(*cfg, path)
}

func (h *Harness) writeAuditPolicy() error {
	policy := fmt.Sprintf(`apiVersion: audit.k8s.io/v1
kind: Policy
omitStages:
  - RequestReceived
rules:
  - level: None
    verbs: ["get", "list", "watch"]
  - level: %s
    verbs: ["create"]
  - level: %s
    verbs: ["update", "patch", "delete", "deletecollection"]
  - level: None
`, h.o.AuditCreateLevel, h.o.AuditLevel)
	return os.WriteFile(h.state.AuditPolicy, []byte(policy), 0o644)
}

func (h *Harness) startEtcd(clientPort, peerPort int) error {
	cfg := embed.NewConfig()
	cfg.Name = "kws"
	cfg.Dir = h.path("etcd")
	c := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", clientPort)}
	p := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", peerPort)}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{c}, []url.URL{c}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{p}, []url.URL{p}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.UnsafeNoFsync = true
	cfg.Logger = "zap"
	cfg.LogLevel = "warn"
	cfg.LogOutputs = []string{h.state.Logs["etcd"]}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return err
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		e.Server.Stop()
		return errors.New("etcd did not become ready within 60s")
	}
	h.etcd = e
	return nil
}

func (h *Harness) spawn(name string, args []string) (*proc, error) {
	logPath := h.path("logs", name+".log")
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	for _, q := range h.procs {
		if q.name == name {
			// A restart appends: the log of the earlier run stays.
			flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
		}
	}
	f, err := os.OpenFile(logPath, flags, 0o644)
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(h.o.BinDir, name)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Dir = h.o.Dir
	// Children stay in the harness's process group (the group `down` kills) and get
	// SIGKILL if the harness dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	fmt.Fprintf(f, "# %s %s\n", bin, strings.Join(args, " "))
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, args: args, cmd: cmd, logf: f, done: make(chan struct{})}
	replaced := false
	for i, q := range h.procs {
		if q.name == name {
			h.procs[i], replaced = p, true
		}
	}
	if !replaced {
		h.procs = append(h.procs, p)
	}
	h.mu.Lock()
	h.state.Pids[name] = cmd.Process.Pid
	h.state.Logs[name] = logPath
	h.mu.Unlock()
	_ = os.WriteFile(h.path("run", name+".pid"), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644)
	go func() {
		p.err = cmd.Wait()
		close(p.done)
		if p.expected.Load() {
			return
		}
		select {
		case h.died <- p:
		default:
		}
	}()
	log.Printf("started %s pid %d (log %s)", name, cmd.Process.Pid, logPath)
	return p, h.writeState()
}

func (h *Harness) startAPIServer(ctx context.Context, port int) error {
	o := h.o
	pk := func(n string) string { return h.path("pki", n) }
	args := []string{
		"--etcd-servers=" + h.state.EtcdURL,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--advertise-address=127.0.0.1",
		"--endpoint-reconciler-type=none",
		"--tls-cert-file=" + pk("apiserver.crt"),
		"--tls-private-key-file=" + pk("apiserver.key"),
		"--client-ca-file=" + pk("ca.crt"),
		"--token-auth-file=" + pk("tokens.csv"),
		"--service-account-issuer=" + saIssuer,
		"--service-account-key-file=" + pk("sa.pub"),
		"--service-account-signing-key-file=" + pk("sa.key"),
		"--service-cluster-ip-range=" + serviceCIDR,
		"--authorization-mode=Node,RBAC",
		"--allow-privileged=true",
		"--cert-dir=" + h.path("pki", "apiserver-generated"),
		"--event-ttl=" + o.EventTTL,
		"--etcd-compaction-interval=" + o.EtcdCompactionInterval,
		"--watch-cache=" + strconv.FormatBool(o.WatchCache),
		"--audit-policy-file=" + h.state.AuditPolicy,
		"--audit-log-path=" + h.state.AuditLog,
		"--audit-log-format=json",
		"--audit-log-maxsize=" + strconv.Itoa(o.AuditLogMaxSizeMB),
		"--audit-log-maxbackup=0",
		"--audit-log-maxage=0",
		"--profiling=false",
		"--v=" + strconv.Itoa(o.LogVerbosity),
	}
	if o.WatchCacheSizes != "" {
		args = append(args, "--watch-cache-sizes="+o.WatchCacheSizes)
	}
	args = append(args, o.ExtraAPIServerArgs...)
	p, err := h.spawn("kube-apiserver", args)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(h.caPEM)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if err := h.waitHTTP(ctx, p, hc, h.state.APIURL+"/readyz"); err != nil {
		return err
	}
	// The default namespace is created by a post-start hook; wait for it like upstream's
	// test server does.
	return h.poll(ctx, p, "namespace default", func(ctx context.Context) (bool, error) {
		_, err := h.client.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
}

// RestartRequestFile (in <dir>/run) holds how long a requested kube-apiserver
// restart keeps it down, as a Go duration; absent means no wait.
const RestartRequestFile = "restart-apiserver"

// restartAPIServer stops kube-apiserver (SIGTERM, SIGKILL after 3 s), keeps it down for the
// requested time, starts it again with the same flags and port, waits for
// /readyz and counts the restart in state.json. Its exit is expected, so it
// does not stop the cluster; any other component exit still does.
func (h *Harness) restartAPIServer(ctx context.Context) error {
	var old *proc
	for _, p := range h.procs {
		if p.name == "kube-apiserver" {
			old = p
		}
	}
	if old == nil {
		return errors.New("kube-apiserver is not running")
	}
	var down time.Duration
	if b, err := os.ReadFile(h.path("run", RestartRequestFile)); err == nil {
		d, err := time.ParseDuration(strings.TrimSpace(string(b)))
		if err != nil {
			return fmt.Errorf("%s: %w", h.path("run", RestartRequestFile), err)
		}
		down = d
	}
	log.Printf("restarting kube-apiserver pid %d (down for %s)", old.cmd.Process.Pid, down)
	old.expected.Store(true)
	// Its graceful shutdown waits for open watches; an outage need not.
	h.stopProc(old, restartGrace)
	select {
	case <-time.After(down):
	case <-ctx.Done():
		return ctx.Err()
	}
	p, err := h.spawn("kube-apiserver", old.args)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(h.caPEM)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if err := h.waitHTTP(ctx, p, hc, h.state.APIURL+"/readyz"); err != nil {
		return err
	}
	h.mu.Lock()
	h.state.APIServerRestarts++
	h.mu.Unlock()
	log.Printf("kube-apiserver restarted, pid %d", p.cmd.Process.Pid)
	return h.writeState()
}

func (h *Harness) startControllers(ctx context.Context, kcmPort, schedPort int) error {
	o := h.o
	pk := func(n string) string { return h.path("pki", n) }
	kcmCfg := h.path("kcm.kubeconfig")
	kcmArgs := []string{
		"--kubeconfig=" + kcmCfg,
		"--authentication-kubeconfig=" + kcmCfg,
		"--authorization-kubeconfig=" + kcmCfg,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(kcmPort),
		"--cert-dir=" + h.path("pki", "kcm-generated"),
		"--use-service-account-credentials=true",
		"--root-ca-file=" + pk("ca.crt"),
		"--service-account-private-key-file=" + pk("sa.key"),
		"--cluster-signing-cert-file=" + pk("ca.crt"),
		"--cluster-signing-key-file=" + pk("ca.key"),
		"--service-cluster-ip-range=" + serviceCIDR,
		"--kube-api-qps=100",
		"--kube-api-burst=200",
		"--leader-elect=" + strconv.FormatBool(o.LeaderElect),
		"--profiling=false",
		"--v=" + strconv.Itoa(o.LogVerbosity),
	}
	kcmArgs = append(kcmArgs, o.ExtraKCMArgs...)
	kcm, err := h.spawn("kube-controller-manager", kcmArgs)
	if err != nil {
		return err
	}
	schedCfg := h.path("scheduler.kubeconfig")
	schedArgs := []string{
		"--kubeconfig=" + schedCfg,
		"--authentication-kubeconfig=" + schedCfg,
		"--authorization-kubeconfig=" + schedCfg,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(schedPort),
		"--cert-dir=" + h.path("pki", "scheduler-generated"),
		"--leader-elect=" + strconv.FormatBool(o.LeaderElect),
		"--profiling=false",
		"--v=" + strconv.Itoa(o.LogVerbosity),
	}
	schedArgs = append(schedArgs, o.ExtraSchedulerArgs...)
	sched, err := h.spawn("kube-scheduler", schedArgs)
	if err != nil {
		return err
	}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	if err := h.waitHTTP(ctx, kcm, hc, fmt.Sprintf("https://127.0.0.1:%d/healthz", kcmPort)); err != nil {
		return err
	}
	return h.waitHTTP(ctx, sched, hc, fmt.Sprintf("https://127.0.0.1:%d/healthz", schedPort))
}

// poll runs cond until it returns true, the child p exits, or the ready timeout passes.
func (h *Harness) poll(ctx context.Context, p *proc, what string, cond wait.ConditionWithContextFunc) error {
	ctx, cancel := context.WithTimeout(ctx, h.o.ReadyTimeout)
	defer cancel()
	var lastErr error
	err := wait.PollUntilContextCancel(ctx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		if p != nil {
			select {
			case <-p.done:
				return false, fmt.Errorf("%s exited while waiting for %s: %v (see %s)", p.name, what, p.err, h.state.Logs[p.name])
			default:
			}
		}
		ok, err := cond(ctx)
		if err != nil {
			lastErr = err
			return false, nil
		}
		return ok, nil
	})
	if err != nil {
		if lastErr != nil {
			return fmt.Errorf("waiting for %s: %w (last error: %v)", what, err, lastErr)
		}
		return fmt.Errorf("waiting for %s: %w", what, err)
	}
	return nil
}

func (h *Harness) waitHTTP(ctx context.Context, p *proc, hc *http.Client, u string) error {
	return h.poll(ctx, p, u, func(ctx context.Context) (bool, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := hc.Do(req)
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false, fmt.Errorf("%s: HTTP %d", u, resp.StatusCode)
		}
		return true, nil
	})
}

// setupReader creates a ServiceAccount with cluster-wide get/list/watch and writes an
// in-cluster style token mount (token, ca.crt, namespace) and a kubeconfig for it.
func (h *Harness) setupReader(ctx context.Context) error {
	c := h.client
	ignoreExists := func(err error) error {
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return err
	}
	if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: readerNamespace}}, metav1.CreateOptions{}); ignoreExists(err) != nil {
		return err
	}
	if _, err := c.CoreV1().ServiceAccounts(readerNamespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: readerName}}, metav1.CreateOptions{}); ignoreExists(err) != nil {
		return err
	}
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: readerName},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"get", "list", "watch"}},
			{NonResourceURLs: []string{"*"}, Verbs: []string{"get"}},
		},
	}
	if _, err := c.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); ignoreExists(err) != nil {
		return err
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: readerName},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: readerName},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: readerName, Namespace: readerNamespace}},
	}
	if _, err := c.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); ignoreExists(err) != nil {
		return err
	}
	secs := int64(h.o.ServiceAccountTokenTTL / time.Second)
	tr, err := c.CoreV1().ServiceAccounts(readerNamespace).CreateToken(ctx, readerName,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &secs}}, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	dir := h.path("sa")
	files := map[string][]byte{"token": []byte(tr.Status.Token), "ca.crt": h.caPEM, "namespace": []byte(readerNamespace)}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			return err
		}
	}
	kc := h.path("reader.kubeconfig")
	if err := h.writeKubeconfig(kc, map[string]*clientcmdapi.AuthInfo{readerName: {TokenFile: filepath.Join(dir, "token")}}, []string{readerName}); err != nil {
		return err
	}
	h.state.ServiceAccount = ServiceAccountState{
		Namespace: readerNamespace, Name: readerName, ClusterRole: readerName,
		TokenDir: dir, TokenFile: filepath.Join(dir, "token"), CAFile: filepath.Join(dir, "ca.crt"),
		NamespaceFile: filepath.Join(dir, "namespace"), Kubeconfig: kc,
		ExpiresAt: tr.Status.ExpirationTimestamp.UTC().Format(time.RFC3339),
	}
	return nil
}

// waitWorkloadReady waits until pods can be created and scheduled: the fake nodes are
// Ready without the not-ready taint and the default ServiceAccount exists.
func (h *Harness) waitWorkloadReady(ctx context.Context) error {
	if err := h.poll(ctx, nil, "fake nodes Ready and untainted", func(ctx context.Context) (bool, error) {
		for _, n := range h.state.Nodes {
			node, err := h.client.CoreV1().Nodes().Get(ctx, n, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			for _, t := range node.Spec.Taints {
				if t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable {
					return false, fmt.Errorf("node %s still has taint %s", n, t.Key)
				}
			}
		}
		return true, nil
	}); err != nil {
		return err
	}
	return h.poll(ctx, nil, "ServiceAccount default/default", func(ctx context.Context) (bool, error) {
		_, err := h.client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, err
	})
}

func (h *Harness) stopProc(p *proc, grace time.Duration) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		log.Printf("%s did not stop within %s; killing", p.name, grace)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	p.logf.Close()
	_ = os.Remove(h.path("run", p.name+".pid"))
}

func (h *Harness) stop() {
	if h.kubeletCancel != nil {
		h.kubeletCancel()
	}
	// Controllers first, then the apiserver, then etcd.
	for i := len(h.procs) - 1; i >= 0; i-- {
		h.stopProc(h.procs[i], stopGrace)
	}
	if h.etcd != nil {
		h.etcd.Close()
	}
	log.Printf("stopped")
}
