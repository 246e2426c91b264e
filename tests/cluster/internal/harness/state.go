package harness

import (
	"encoding/json"
	"os"
	"path/filepath"
)

// State is written to <dir>/state.json. Paths are absolute.
type State struct {
	Schema            int    `json:"schema"`
	Status            string `json:"status"` // starting | ready | stopping | failed
	Error             string `json:"error,omitempty"`
	Dir               string `json:"dir"`
	KubernetesVersion string `json:"kubernetes_version"`
	EtcdVersion       string `json:"etcd_version"`
	StartedAt         string `json:"started_at"`
	ReadyAt           string `json:"ready_at,omitempty"`

	APIURL         string `json:"api_url"`
	EtcdURL        string `json:"etcd_url"`
	CAFile         string `json:"ca_file"`
	AdminCertFile  string `json:"admin_cert_file"`
	AdminKeyFile   string `json:"admin_key_file"`
	AdminToken     string `json:"admin_token"`
	AdminTokenFile string `json:"admin_token_file"`
	Kubeconfig     string `json:"kubeconfig"`

	ServiceAccount ServiceAccountState `json:"service_account"`

	AuditLog    string `json:"audit_log"`
	AuditPolicy string `json:"audit_policy"`

	Nodes []string          `json:"nodes"`
	Ports map[string]int    `json:"ports"`
	PGID  int               `json:"pgid"`
	Pids  map[string]int    `json:"pids"`
	Logs  map[string]string `json:"logs"`
	Bin   string            `json:"bin_dir"`
	Knobs map[string]string `json:"knobs"`
	// APIServerRestarts counts completed `kws-cluster restart-apiserver` runs.
	APIServerRestarts int `json:"apiserver_restarts"`
}

// ServiceAccountState describes the read-only ServiceAccount and its in-cluster style mount.
type ServiceAccountState struct {
	Namespace     string `json:"namespace"`
	Name          string `json:"name"`
	ClusterRole   string `json:"cluster_role"`
	TokenDir      string `json:"token_dir"`
	TokenFile     string `json:"token_file"`
	CAFile        string `json:"ca_file"`
	NamespaceFile string `json:"namespace_file"`
	Kubeconfig    string `json:"kubeconfig"`
	ExpiresAt     string `json:"expires_at"`
}

func writeJSONAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
