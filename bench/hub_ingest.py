#!/usr/bin/env python3
"""How fast a hub stores what servers export, and how far behind it runs.

  hub_ingest.py --bench PATH --server PATH [--events N] [--rate R]
                [--seconds S] --out-prefix bench/results/DATE-hub

Starts a Kafka broker of its own (tests/kafka/up, KWS_KAFKA_DIR in a
temporary directory). Backlog: kws_real_path_bench (the service's client,
reflector, WATCHER, STORAGE and EXPORTER against a local HTTPS apiserver)
exports --events records to a topic as fast as it ingests; then a hub
(`k8s-watch-server hub`, the real binary, its HTTP server and a fresh
store) starts and consumes the whole topic; measured from the hub's start to
`kws_hub_records_total` reaching the records exported, with the hub's CPU
from /proc. Live: a second hub on a second topic while the bench exports a
steady --rate for --seconds; the hub's `kws_hub_delay_seconds` (from a
change recorded by its server to the hub storing it: the EXPORTER's batches,
the broker and the hub) gives the delay under that load, and /metrics is
sampled every 0.5 s for the records the hub trails the exporter by. Every
process runs on the same cores. Writes OUT_PREFIX.json and OUT_PREFIX.md.
Standard library only.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
KAFKA = os.path.join(HERE, "..", "tests", "kafka")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metrics(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                timeout=5) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def delay_quantile(before, after, q):
    """The upper bound of the bucket holding quantile q of the delays
    observed between two scrapes of kws_hub_delay_seconds."""
    prefix = 'kws_hub_delay_seconds_bucket{le="'
    buckets = []
    for name, value in after.items():
        if name.startswith(prefix):
            le = name[len(prefix):-2]
            bound = float("inf") if le == "+Inf" else float(le)
            buckets.append((bound, value - before.get(name, 0)))
    buckets.sort()
    total = buckets[-1][1] if buckets else 0
    for bound, count in buckets:
        if total and count >= q * total:
            return bound
    return float("nan")


class Hub:
    def __init__(self, server, work, name, bootstrap, topic):
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir)
        self.port = free_port()
        config = os.path.join(self.dir, "config.yaml")
        with open(config, "w") as f:
            f.write(f'hub:\n  kafka:\n    brokers: ["{bootstrap}"]\n'
                    f"    topic: {topic}\n    group: {name}\n"
                    "  clusters: [bench]\nauth: {mode: none}\n"
                    "accessLog: false\n")
        env = dict(os.environ, STORAGE_PATH=os.path.join(self.dir, "store"),
                   SERVER_PORT=str(self.port), CONFIG_PATH=config)
        self.log = open(os.path.join(self.dir, "hub.log"), "w")
        self.started = time.monotonic()
        self.proc = subprocess.Popen([server, "hub"], env=env,
                                     stdout=self.log, stderr=self.log)
        while True:
            try:
                metrics(self.port)
                return
            except OSError:
                if self.proc.poll() is not None:
                    sys.exit(f"the hub exited; see {self.log.name}")
                time.sleep(0.05)

    def records(self):
        return metrics(self.port).get("kws_hub_records_total", 0)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


def run_bench(bench, work, name, args):
    out = os.path.join(work, name + ".json")
    subprocess.run([bench, "--out", out, *args], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out) as f:
        return json.load(f)["phases"][0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True)
    ap.add_argument("--server", required=True)
    ap.add_argument("--events", type=int, default=200000)
    ap.add_argument("--rate", type=float, default=2000)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--out-prefix", required=True)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="kws-hub-bench-")
    env = dict(os.environ, KWS_KAFKA_DIR=os.path.join(work, "kafka"))
    up = subprocess.run([os.path.join(KAFKA, "up")], env=env, check=True,
                        capture_output=True, text=True)
    bootstrap = up.stdout.strip().splitlines()[-1]
    try:
        for topic in ("kws-backlog", "kws-live"):
            subprocess.run([os.path.join(KAFKA, "create-topic"), "--bootstrap",
                            bootstrap, "--topic", topic, "--partitions", "3"],
                           env=env, check=True, capture_output=True)
        filled = run_bench(a.bench, work, "fill",
                           ["--rates", "0", "--events", str(a.events),
                            "--kafka", bootstrap, "--kafka-topic",
                            "kws-backlog"])
        exported = filled["export_records"]
        hub = Hub(a.server, work, "backlog", bootstrap, "kws-backlog")
        while hub.records() < exported:
            if time.monotonic() - hub.started > 600:
                sys.exit("the hub did not store the backlog in 600 s")
            time.sleep(0.1)
        backlog_s = time.monotonic() - hub.started
        backlog_cpu = cpu_seconds(hub.proc.pid)
        backlog_rss = peak_rss_mb(hub.proc.pid)
        hub.stop()

        live = Hub(a.server, work, "live", bootstrap, "kws-live")
        before = metrics(live.port)
        cpu_before = cpu_seconds(live.proc.pid)
        bench = subprocess.Popen(
            [a.bench, "--out", os.path.join(work, "live.json"), "--rate",
             str(a.rate), "--phase-seconds", str(a.seconds), "--events",
             str(int(a.rate * a.seconds)), "--kafka", bootstrap,
             "--kafka-topic", "kws-live"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples = []
        while bench.poll() is None:
            samples.append(live.records())
            time.sleep(0.5)
        with open(os.path.join(work, "live.json")) as f:
            steady = json.load(f)["phases"][0]
        deadline = time.monotonic() + 120
        while (live.records() < steady["export_records"]
               and time.monotonic() < deadline):
            time.sleep(0.1)
        after = metrics(live.port)
        live_cpu = cpu_seconds(live.proc.pid) - cpu_before
        live_records = after.get("kws_hub_records_total", 0)
        live.stop()
    finally:
        subprocess.run([os.path.join(KAFKA, "down"), "--quiet"], env=env)
    result = {
        "events": a.events,
        "backlog_records": exported,
        "backlog_seconds": backlog_s,
        "hub_records_per_s_backlog": exported / backlog_s,
        "hub_cpu_us_per_record_backlog": 1e6 * backlog_cpu / exported,
        "hub_peak_rss_mb_backlog": backlog_rss,
        "bench_events_per_s_fill": filled["events_per_s"],
        "live_rate": a.rate,
        "live_seconds": a.seconds,
        "live_records_exported": steady["export_records"],
        "live_records_stored": live_records,
        "live_delay_p50_s": delay_quantile(before, after, 0.5),
        "live_delay_p99_s": delay_quantile(before, after, 0.99),
        "live_hub_cpu_us_per_record": 1e6 * live_cpu / max(live_records, 1),
        "live_samples": samples,
    }
    with open(a.out_prefix + ".json", "w") as f:
        json.dump(result, f, indent=2)
    r = result
    with open(a.out_prefix + ".md", "w") as f:
        f.write(f"""# A hub: ingest from Kafka and delay under load

`bench/hub_ingest.py --bench build/bench/kws_real_path_bench --server build/k8s-watch-server --events {a.events} --rate {a.rate:g} --seconds {a.seconds:g}`

Backlog: kws_real_path_bench exported {exported:,} records of generated Pods
(the service's real watch path, {r['bench_events_per_s_fill']:,.0f} events/s)
to a topic of three partitions on a Kafka 4.4 broker (tests/kafka, same two
cores); then `k8s-watch-server hub` started on a fresh store and consumed it:

| | |
|---|---|
| from the hub's start to the last record stored | {r['backlog_seconds']:.1f} s |
| records stored per second | {r['hub_records_per_s_backlog']:,.0f} |
| the hub's CPU per record | {r['hub_cpu_us_per_record_backlog']:.0f} us |
| the hub's peak RSS | {r['hub_peak_rss_mb_backlog']:.0f} MB |

Live: a second hub on a second topic while the bench exported
{a.rate:g} events/s for {a.seconds:g} s ({r['live_records_exported']:,}
records exported, {r['live_records_stored']:,.0f} stored by the hub). From a
change recorded by its server to the hub storing it (the EXPORTER's
batches, the broker and the hub; bucket upper bounds of
`kws_hub_delay_seconds`): p50 at most {r['live_delay_p50_s']} s, p99 at most
{r['live_delay_p99_s']} s. The hub's CPU: {r['live_hub_cpu_us_per_record']:.0f} us
per record.
""")
    print(open(a.out_prefix + ".md").read())


if __name__ == "__main__":
    main()
