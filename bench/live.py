#!/usr/bin/env python3
"""Measurements against the real server and a real control plane.

  live.py freshness --kws URL --state STATE.json --writes N --out FILE.json
      N writes (ConfigMap merge patches, one at a time) through the
      apiserver with the admin token; for each, the time from the write's
      answer until a query of the REST API returns the record of that
      resourceVersion.

  live.py http --kws URL --seconds S --out FILE.json
      wrk against small queries of the server: an object history, the
      newest ten records, and /health (the HTTP stack's own limit).

Both add their metrics to the JSON object in --out (created if missing).
Standard library only; wrk must be on PATH for `http`.
"""
import argparse
import json
import os
import re
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def save(path, extra):
    r = load(path)
    r.update(extra)
    with open(path, "w") as f:
        json.dump(r, f, indent=2)
        f.write("\n")


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * (len(xs) - 1) + 0.5))]


def get_json(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, json.load(r)


def wait_ready(kws, timeout_s, path="/readyz"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(kws + path, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.2)
    sys.exit(f"live: {kws} not ready after {timeout_s} s")


class apiserver:
    def __init__(self, state):
        self.url = state["api_url"]
        self.ctx = ssl.create_default_context(cafile=state["ca_file"])
        with open(state["admin_token_file"]) as f:
            self.token = f.read().strip()

    def call(self, method, path, body=None, ctype="application/json"):
        req = urllib.request.Request(self.url + path, method=method)
        req.add_header("Authorization", "Bearer " + self.token)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            req.add_header("Content-Type", ctype)
        try:
            with urllib.request.urlopen(req, data, context=self.ctx,
                                        timeout=10) as r:
                return r.status, json.load(r)
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")


def freshness(a):
    with open(a.state) as f:
        state = json.load(f)
    api = apiserver(state)
    wait_ready(a.kws, 120)
    ns = "kws-freshness"
    code, _ = api.call("POST", "/api/v1/namespaces",
                       {"apiVersion": "v1", "kind": "Namespace",
                        "metadata": {"name": ns}})
    if code not in (201, 409):
        sys.exit(f"live: cannot create namespace {ns}: {code}")
    names = [f"fresh-{i}" for i in range(10)]
    for name in names:
        api.call("POST", f"/api/v1/namespaces/{ns}/configmaps",
                 {"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": name}, "data": {"n": "0"}})
    # A value no earlier run wrote, so every patch changes the object.
    nonce = f"{time.time_ns():x}"
    after_ack, after_send, missing = [], [], 0
    for i in range(a.writes):
        name = names[i % len(names)]
        t_send = time.monotonic()
        code, obj = api.call(
            "PATCH", f"/api/v1/namespaces/{ns}/configmaps/{name}",
            {"data": {"n": f"{nonce}-{i}"}}, "application/merge-patch+json")
        t_ack = time.monotonic()
        if code != 200:
            sys.exit(f"live: write {i} failed: {code} {obj}")
        rv = obj["metadata"]["resourceVersion"]
        q = a.kws + "/api/v1/events?" + urllib.parse.urlencode(
            {"namespace": ns, "resourceType": "configmaps",
             "resourceName": name, "order": "desc", "limit": 5})
        deadline = t_ack + 10
        found = None
        while time.monotonic() < deadline:
            try:
                _, recs = get_json(q)
            except (urllib.error.URLError, OSError):
                recs = []
            if any(r.get("resourceVersion") == rv for r in recs):
                found = time.monotonic()
                break
            time.sleep(a.poll_ms / 1000)
        if found is None:
            missing += 1
            continue
        after_ack.append((found - t_ack) * 1e3)
        after_send.append((found - t_send) * 1e3)
    if not after_ack:
        sys.exit("live: no write became queryable")
    res = {
        "freshness_writes": a.writes,
        "freshness_missing": missing,
        "freshness_poll_ms": a.poll_ms,
        "freshness_p50_ms": pct(after_ack, 0.5),
        "freshness_p99_ms": pct(after_ack, 0.99),
        "freshness_max_ms": max(after_ack),
        "freshness_from_send_p50_ms": pct(after_send, 0.5),
        "freshness_from_send_p99_ms": pct(after_send, 0.99),
    }
    print(json.dumps(res), file=sys.stderr)
    save(a.out, res)


def wrk(url, seconds, threads, conns):
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{seconds}s",
         "--latency", url], check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    lat = {}
    for p in ("50", "99"):
        m = re.search(rf"^\s+{p}(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if m:
            scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
            lat[p] = float(m.group(1)) * scale
    return rps, lat, int(non2xx.group(1)) if non2xx else 0


def http(a):
    # Queries need only the store: serving, not every watcher synced.
    wait_ready(a.kws, 120, "/health")
    # An object the store holds: the newest pod record names one.
    _, recs = get_json(a.kws + "/api/v1/events?resourceType=pods&limit=1")
    if not recs:
        sys.exit("live: the store holds no pod record")
    r = recs[0]
    history = (f"{a.kws}/api/v1/events/{r['namespace']}/pods/"
               f"{urllib.parse.quote(r['resourceName'])}")
    code, body = get_json(history)
    targets = {
        "history": history,
        "events_limit10": a.kws + "/api/v1/events?limit=10",
        "health": a.kws + "/health",
    }
    res = {"http_seconds": a.seconds, "http_connections": a.connections,
           "http_history_records": len(body.get("watchEvents", []))
           + len(body.get("relatedEvents", []))}
    for name, url in targets.items():
        rps, lat, bad = wrk(url, a.seconds, a.threads, a.connections)
        res[f"http_{name}_rps"] = rps
        res[f"http_{name}_p50_ms"] = lat.get("50", -1)
        res[f"http_{name}_p99_ms"] = lat.get("99", -1)
        res[f"http_{name}_errors"] = bad
        print(f"{name}: {rps:.0f} req/s {lat} non-2xx {bad}", file=sys.stderr)
    save(a.out, res)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("freshness")
    f.add_argument("--kws", required=True)
    f.add_argument("--state", required=True)
    f.add_argument("--writes", type=int, default=200)
    f.add_argument("--poll-ms", type=float, default=5)
    f.add_argument("--out", required=True)
    h = sub.add_parser("http")
    h.add_argument("--kws", required=True)
    h.add_argument("--seconds", type=int, default=10)
    h.add_argument("--threads", type=int, default=2)
    h.add_argument("--connections", type=int, default=16)
    h.add_argument("--out", required=True)
    a = p.parse_args()
    {"freshness": freshness, "http": http}[a.cmd](a)


if __name__ == "__main__":
    main()
