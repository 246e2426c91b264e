package harness

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Options configures a cluster run. FromEnv fills it from KWS_* environment variables.
type Options struct {
	Dir    string
	BinDir string

	KubernetesVersion string

	Nodes                  int
	APIServerPort          int
	EtcdCompactionInterval string
	WatchCache             bool
	WatchCacheSizes        string
	EventTTL               string
	AuditLevel             string
	AuditCreateLevel       string
	AuditLogMaxSizeMB      int
	LogVerbosity           int
	ServiceAccountTokenTTL time.Duration
	LeaderElect            bool

	PodStartDelay  time.Duration
	PodRunDuration time.Duration
	PodDeleteDelay time.Duration
	KubeletEvents  bool

	ReadyTimeout time.Duration

	ExtraAPIServerArgs []string
	ExtraKCMArgs       []string
	ExtraSchedulerArgs []string
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func envInt(name string, def int) (int, error) {
	v := env(name, strconv.Itoa(def))
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: %w", name, v, err)
	}
	return n, nil
}

func envBool(name string, def bool) (bool, error) {
	v := env(name, strconv.FormatBool(def))
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: %w", name, v, err)
	}
	return b, nil
}

func envDuration(name string, def time.Duration) (time.Duration, error) {
	v := env(name, def.String())
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: %w", name, v, err)
	}
	return d, nil
}

// FromEnv reads the knobs documented in tests/cluster/README.md.
func FromEnv(o *Options) error {
	var errs []error
	must := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	var err error
	o.Nodes, err = envInt("KWS_NODES", 3)
	must(err)
	o.APIServerPort, err = envInt("KWS_APISERVER_PORT", 0)
	must(err)
	o.EtcdCompactionInterval = env("KWS_ETCD_COMPACTION_INTERVAL", "5m")
	must(checkDuration("KWS_ETCD_COMPACTION_INTERVAL", o.EtcdCompactionInterval))
	o.WatchCache, err = envBool("KWS_WATCH_CACHE", true)
	must(err)
	o.WatchCacheSizes = env("KWS_WATCH_CACHE_SIZES", "")
	o.EventTTL = env("KWS_EVENT_TTL", "1h")
	must(checkDuration("KWS_EVENT_TTL", o.EventTTL))
	o.AuditLevel = env("KWS_AUDIT_LEVEL", "Metadata")
	switch o.AuditLevel {
	case "Metadata", "Request", "RequestResponse":
	default:
		errs = append(errs, fmt.Errorf("KWS_AUDIT_LEVEL=%q: want Metadata, Request or RequestResponse", o.AuditLevel))
	}
	o.AuditCreateLevel = env("KWS_AUDIT_CREATE_LEVEL", o.AuditLevel)
	switch o.AuditCreateLevel {
	case "Metadata", "Request", "RequestResponse":
	default:
		errs = append(errs, fmt.Errorf("KWS_AUDIT_CREATE_LEVEL=%q: want Metadata, Request or RequestResponse", o.AuditCreateLevel))
	}
	o.AuditLogMaxSizeMB, err = envInt("KWS_AUDIT_LOG_MAXSIZE_MB", 0)
	must(err)
	o.LogVerbosity, err = envInt("KWS_LOG_V", 1)
	must(err)
	o.ServiceAccountTokenTTL, err = envDuration("KWS_SA_TOKEN_TTL", 720*time.Hour)
	must(err)
	o.LeaderElect, err = envBool("KWS_LEADER_ELECT", true)
	must(err)
	o.PodStartDelay, err = envDuration("KWS_POD_START_DELAY", time.Second)
	must(err)
	o.PodRunDuration, err = envDuration("KWS_POD_RUN_DURATION", 3*time.Second)
	must(err)
	o.PodDeleteDelay, err = envDuration("KWS_POD_DELETE_DELAY", time.Second)
	must(err)
	o.KubeletEvents, err = envBool("KWS_KUBELET_EVENTS", true)
	must(err)
	o.ReadyTimeout, err = envDuration("KWS_READY_TIMEOUT", 3*time.Minute)
	must(err)
	o.ExtraAPIServerArgs = strings.Fields(env("KWS_APISERVER_EXTRA_ARGS", ""))
	o.ExtraKCMArgs = strings.Fields(env("KWS_KCM_EXTRA_ARGS", ""))
	o.ExtraSchedulerArgs = strings.Fields(env("KWS_SCHEDULER_EXTRA_ARGS", ""))
	if len(errs) > 0 {
		return fmt.Errorf("bad configuration: %v", errs)
	}
	return nil
}

func checkDuration(name, v string) error {
	if _, err := time.ParseDuration(v); err != nil {
		return fmt.Errorf("%s=%q: %w", name, v, err)
	}
	return nil
}
