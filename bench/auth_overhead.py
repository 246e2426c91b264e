#!/usr/bin/env python3
"""What `auth.mode: token` adds to a query whose reviews are cached.

  auth_overhead.py --state STATE.json --binary PATH [--requests N] [--out F]

Starts two servers on the control plane of STATE.json (tests/cluster/up),
one with AUTH_MODE=none and one with AUTH_MODE=token, each on its own store,
and a ServiceAccount bound to the built-in `view` ClusterRole. Then asks the
same queries of both over one keep-alive connection each, one request at a
time, in alternating rounds of 100 (so that drift hits both alike), and
reports per query the latency percentiles of each server and the p50/p99
differences. The token server's answers are narrowed (view has no Secrets):
the all-type queries show the filter's cost as well as the review lookups.
Standard library only.
"""
import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

QUERIES = [
    ("one type, one namespace, limit=10",
     "/api/v1/events?namespace=kube-system&resourceType=configmaps&limit=10"),
    ("every type, one namespace, limit=10",
     "/api/v1/events?namespace=kube-system&limit=10"),
    ("every type and namespace, limit=10", "/api/v1/events?limit=10"),
    ("changes, every type and namespace", "/api/v1/changes?limit=10"),
]


def kubectl(state, *args, stdin=None):
    return subprocess.run(
        [state["kubectl"], "--kubeconfig", state["kubeconfig"], *args],
        input=stdin, capture_output=True, text=True, check=True).stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, state, mode, workdir):
    port = free_port()
    store = os.path.join(workdir, mode)
    env = dict(os.environ, KUBECONFIG=state["kubeconfig"], STORAGE_PATH=store,
               SERVER_PORT=str(port), AUTH_MODE=mode,
               CONFIG_PATH=os.path.join(workdir, "none.yaml"))
    log = open(os.path.join(workdir, mode + ".log"), "w")
    proc = subprocess.Popen([binary], env=env, stdout=log, stderr=log)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/readyz")
            if c.getresponse().status == 200:
                return proc, port
        except OSError:
            pass
        time.sleep(0.2)
    proc.kill()
    sys.exit(f"the {mode} server never became ready; log in {log.name}")


def measure(conn, path, headers, n):
    out = []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        conn.request("GET", path, headers=headers)
        res = conn.getresponse()
        res.read()
        out.append((time.perf_counter_ns() - t0) / 1e6)
        if res.status != 200:
            sys.exit(f"{path}: {res.status}")
    return out


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--state", required=True)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--out")
    args = ap.parse_args()
    with open(args.state) as f:
        raw = json.load(f)
    state = {"kubeconfig": raw["kubeconfig"],
             "kubectl": os.path.join(raw["bin_dir"], "kubectl")}
    ns = f"kws-auth-bench-{os.getpid()}"
    workdir = tempfile.mkdtemp(prefix="kws-auth-bench-")
    open(os.path.join(workdir, "none.yaml"), "w").close()
    kubectl(state, "create", "namespace", ns)
    procs = []
    try:
        kubectl(state, "create", "serviceaccount", "viewer", "-n", ns)
        kubectl(state, "create", "clusterrolebinding", ns, "--clusterrole=view",
                f"--serviceaccount={ns}:viewer")
        token = kubectl(state, "create", "token", "viewer", "-n", ns).strip()
        none_proc, none_port = start(args.binary, state, "none", workdir)
        procs.append(none_proc)
        token_proc, token_port = start(args.binary, state, "token", workdir)
        procs.append(token_proc)
        results = []
        auth = {"Authorization": f"Bearer {token}"}
        for name, path in QUERIES:
            conns = {"none": http.client.HTTPConnection("127.0.0.1", none_port),
                     "token": http.client.HTTPConnection("127.0.0.1", token_port)}
            hdrs = {"none": {}, "token": auth}
            lat = {"none": [], "token": []}
            for mode in lat:  # warm-up: caches, page cache, connections
                measure(conns[mode], path, hdrs[mode], 100)
            rounds = max(1, args.requests // 100)
            for _ in range(rounds):
                for mode in lat:
                    lat[mode] += measure(conns[mode], path, hdrs[mode], 100)
            row = {"query": name, "path": path, "requests": len(lat["none"])}
            for mode in lat:
                for p in (50, 90, 99):
                    row[f"{mode}_p{p}_ms"] = round(pct(lat[mode], p), 3)
            row["added_p50_ms"] = round(row["token_p50_ms"] - row["none_p50_ms"], 3)
            row["added_p99_ms"] = round(row["token_p99_ms"] - row["none_p99_ms"], 3)
            results.append(row)
            print(f"{name:40} none p50 {row['none_p50_ms']:.3f} p99 "
                  f"{row['none_p99_ms']:.3f} | token p50 {row['token_p50_ms']:.3f}"
                  f" p99 {row['token_p99_ms']:.3f} | added p50 "
                  f"{row['added_p50_ms']:+.3f} p99 {row['added_p99_ms']:+.3f} ms")
        if args.out:
            with open(args.out, "w") as f:
                json.dump({"results": results}, f, indent=2)
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=20)
        subprocess.run([state["kubectl"], "--kubeconfig", state["kubeconfig"],
                        "delete", "clusterrolebinding", ns], capture_output=True)
        subprocess.run([state["kubectl"], "--kubeconfig", state["kubeconfig"],
                        "delete", "namespace", ns, "--wait=false"],
                       capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
