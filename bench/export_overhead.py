#!/usr/bin/env python3
"""What `export.kafka` costs the ingest, and how far export falls behind.

  export_overhead.py --bench PATH [--pairs N] [--events N] [--rate R]
                     [--seconds S] [--out-prefix bench/results/DATE-export]

Starts a Kafka broker of its own (tests/kafka/up, KWS_KAFKA_DIR in a
temporary directory), then runs kws_real_path_bench (the service's client,
reflector, WATCHER and STORAGE against a local HTTPS apiserver) in
alternating pairs: as fast as the service ingests (--rates 0, --events),
with the EXPORTER sending every record to the broker and without. The pair
by pair ratios of events durable per second and of CPU per event are the
overhead. Then one phase at a steady --rate for --seconds with export, for
export's lag under that load. The broker runs on the same cores as the
bench: its CPU competes with the ingest, as it would not in a deployment.
Writes OUT_PREFIX.json and OUT_PREFIX.md. Standard library only.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
KAFKA = os.path.join(HERE, "..", "tests", "kafka")
TOPIC = "kws-bench"


def run_bench(bench, workdir, name, args):
    out = os.path.join(workdir, name + ".json")
    subprocess.run([bench, "--out", out, *args], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out) as f:
        return json.load(f)["phases"][0]


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True)
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--events", type=int, default=100000)
    ap.add_argument("--rate", type=float, default=2000)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--out-prefix", required=True)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="kws-export-bench-")
    env = dict(os.environ, KWS_KAFKA_DIR=os.path.join(work, "kafka"))
    up = subprocess.run([os.path.join(KAFKA, "up")], env=env, check=True,
                        capture_output=True, text=True)
    bootstrap = up.stdout.strip().splitlines()[-1]
    try:
        subprocess.run([os.path.join(KAFKA, "create-topic"), "--bootstrap",
                        bootstrap, "--topic", TOPIC, "--partitions", "3"],
                       env=env, check=True, capture_output=True)
        fast = ["--rates", "0", "--events", str(a.events)]
        pairs = []
        for i in range(a.pairs):
            exp = run_bench(a.bench, work, f"export-{i}",
                            fast + ["--kafka", bootstrap])
            plain = run_bench(a.bench, work, f"plain-{i}", fast)
            pairs.append({"export": exp, "plain": plain})
            print(f"pair {i}: {exp['events_per_s']:.0f} vs "
                  f"{plain['events_per_s']:.0f} events/s, "
                  f"{exp['cpu_us_per_event']:.0f} vs "
                  f"{plain['cpu_us_per_event']:.0f} us/event", file=sys.stderr)
        steady = run_bench(a.bench, work, "steady",
                           ["--rate", str(a.rate), "--phase-seconds",
                            str(a.seconds), "--events",
                            str(int(a.rate * a.seconds)), "--kafka",
                            bootstrap])
    finally:
        subprocess.run([os.path.join(KAFKA, "down"), "--quiet"], env=env)
    speed = [p["export"]["events_per_s"] / p["plain"]["events_per_s"]
             for p in pairs]
    cpu = [p["export"]["cpu_us_per_event"] / p["plain"]["cpu_us_per_event"]
           for p in pairs]
    result = {
        "events": a.events,
        "pairs": len(pairs),
        "plain_events_per_s_median": median(
            [p["plain"]["events_per_s"] for p in pairs]),
        "export_events_per_s_median": median(
            [p["export"]["events_per_s"] for p in pairs]),
        "export_throughput_cost_median": 1 - median(speed),
        "plain_cpu_us_per_event_median": median(
            [p["plain"]["cpu_us_per_event"] for p in pairs]),
        "export_cpu_us_per_event_median": median(
            [p["export"]["cpu_us_per_event"] for p in pairs]),
        "export_cpu_cost_median": median(cpu) - 1,
        "export_lag_max_records_at_full_speed_median": median(
            [p["export"]["export_lag_max_records"] for p in pairs]),
        "export_catch_up_s_at_full_speed_median": median(
            [p["export"]["export_catch_up_s"] for p in pairs]),
        "plain_peak_rss_mb_median": median(
            [p["plain"]["peak_rss_mb"] for p in pairs]),
        "export_peak_rss_mb_median": median(
            [p["export"]["peak_rss_mb"] for p in pairs]),
        "export_failures": sum(p["export"]["export_failures"] for p in pairs),
        "steady_rate": a.rate,
        "steady_seconds": a.seconds,
        "steady_events_stored": steady["events_stored"],
        "steady_export_records": steady["export_records"],
        "steady_export_lag_max_records": steady["export_lag_max_records"],
        "steady_export_catch_up_s": steady["export_catch_up_s"],
        "steady_freshness_p99_ms": steady["freshness_p99_ms"],
        "runs": pairs,
    }
    with open(a.out_prefix + ".json", "w") as f:
        json.dump(result, f, indent=2)
    r = result
    with open(a.out_prefix + ".md", "w") as f:
        f.write(f"""# Export to Kafka: cost on ingest and lag

`bench/export_overhead.py --bench build/bench/kws_real_path_bench --pairs {a.pairs} --events {a.events} --rate {a.rate:g} --seconds {a.seconds:g}`

kws_real_path_bench runs the service's client, reflector, WATCHER and
STORAGE against a local HTTPS apiserver, as fast as they ingest, with the
EXPORTER sending every record to a Kafka broker (tests/kafka, Kafka 4.4 on
the same two cores) and without, in {len(pairs)} alternating pairs of
{a.events:,} events each. Medians:

| | without export | with export | cost |
|---|---|---|---|
| events durable per second | {r['plain_events_per_s_median']:,.0f} | {r['export_events_per_s_median']:,.0f} | {100 * r['export_throughput_cost_median']:.1f} % (pair by pair) |
| CPU per event (the service's process) | {r['plain_cpu_us_per_event_median']:.0f} us | {r['export_cpu_us_per_event_median']:.0f} us | {100 * r['export_cpu_cost_median']:.1f} % |
| peak RSS | {r['plain_peak_rss_mb_median']:.0f} MB | {r['export_peak_rss_mb_median']:.0f} MB | |

At full speed export trailed the store by at most
{r['export_lag_max_records_at_full_speed_median']:,.0f} records (median over
the runs) and caught up {r['export_catch_up_s_at_full_speed_median']:.2f} s
after the last event was durable; {r['export_failures']} batches failed.

At a steady {a.rate:g} events/s for {a.seconds:g} s: {r['steady_events_stored']:,}
events stored, {r['steady_export_records']:,} records acknowledged by Kafka
(the list's included), export lag at most
{r['steady_export_lag_max_records']:,} records (sampled every 100 ms), caught
up {r['steady_export_catch_up_s']:.2f} s after the last event was durable;
freshness p99 {r['steady_freshness_p99_ms']:.0f} ms.

The broker's JVM shares the two cores with the bench, so the cost on
ingest includes the broker's CPU; in a deployment the brokers run
elsewhere.
""")
    print(json.dumps({k: v for k, v in result.items() if k != "runs"},
                     indent=2))


if __name__ == "__main__":
    main()
