package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RequestAPIServerRestart asks the harness running in dir to restart
// kube-apiserver, keeping it down for `down`, and waits until the new one
// answers /readyz (the harness counts it in state.json). Returns the new pid.
func RequestAPIServerRestart(ctx context.Context, dir string, down, timeout time.Duration) (int, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return 0, err
	}
	before, err := readState(dir)
	if err != nil {
		return 0, err
	}
	if before.Status != "ready" {
		return 0, fmt.Errorf("the cluster in %s is %q, not ready", dir, before.Status)
	}
	pid := before.Pids["harness"]
	// Only signal our own harness: the pid could have been reused.
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil || filepath.Base(strings.TrimSuffix(exe, " (deleted)")) != "kws-cluster" {
		return 0, fmt.Errorf("pid %d from %s is not a running kws-cluster harness", pid, filepath.Join(dir, "state.json"))
	}
	if err := os.WriteFile(filepath.Join(dir, "run", RestartRequestFile), []byte(down.String()+"\n"), 0o644); err != nil {
		return 0, err
	}
	if err := syscall.Kill(pid, syscall.SIGUSR1); err != nil {
		return 0, fmt.Errorf("signal harness pid %d: %w", pid, err)
	}
	deadline := time.Now().Add(down + timeout)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		st, err := readState(dir)
		if err != nil {
			// state.json is renamed by `down`; a failed harness says why.
			continue
		}
		if st.Status == "failed" {
			return 0, fmt.Errorf("the cluster failed: %s", st.Error)
		}
		if st.APIServerRestarts > before.APIServerRestarts {
			return st.Pids["kube-apiserver"], nil
		}
	}
	return 0, errors.New("kube-apiserver did not come back within " + (down + timeout).String() + "; see " + filepath.Join(dir, "logs", "harness.log"))
}

func readState(dir string) (*State, error) {
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "state.json"), err)
	}
	if st.Pids == nil {
		return nil, errors.New("no pids in " + filepath.Join(dir, "state.json") + " (pid " + strconv.Itoa(st.PGID) + ")")
	}
	return &st, nil
}
