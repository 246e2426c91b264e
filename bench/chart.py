"""The chart of a kws_bench result: ingest against its limits, and query
p99s while ingest runs against the same queries at rest, each beside its
goal.

    python bench/chart.py RESULT.json OUT.png

bench/run calls it with the matplotlib of bench/requirements.txt.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)


def ingest_bars(r):
    bars = [("raw limit, empty database", r["raw_events_per_s"])]
    if "physical_limit_events_per_s" in r:
        bars += [("physical limit", r["physical_limit_events_per_s"]),
                 ("same-keys limit", r["same_keys_limit_events_per_s"])]
    bars += [("pipeline", r["ingest_events_per_s"]), ("goal", 30000)]
    return bars


def query_rows(r):
    # (label, at rest, during ingest, goal) in milliseconds.
    rows = [("history p99", r["history_p99_ms"],
             r.get("history_p99_ms_during_ingest"), 5),
            ("1000-record page p99", r["page_p99_ms"],
             r.get("page_p99_ms_during_ingest"), 50)]
    if "changes_p99_ms_during_ingest" in r:
        rows.append(("last hour's changes p99", None,
                     r["changes_p99_ms_during_ingest"], 200))
    return rows


def main(src, dst):
    r = json.load(open(src))
    during = "history_p99_ms_during_ingest" in r
    fig, axes = plt.subplots(1, 2 if during else 1,
                             figsize=(11 if during else 6, 3.2))
    ax = axes[0] if during else axes
    bars = ingest_bars(r)
    ax.barh([b[0] for b in bars], [b[1] for b in bars],
            color=["#999999"] * (len(bars) - 2) + ["#1f77b4", "#2ca02c"])
    ax.set_xlabel("events/s")
    ax.set_title("ingest")
    if during:
        ax = axes[1]
        rows = query_rows(r)
        labels = [row[0] for row in rows]
        ys = range(len(rows))
        height = 0.27
        for offset, idx, name, color in ((-height, 1, "at rest", "#999999"),
                                         (0, 2, "during ingest", "#1f77b4"),
                                         (height, 3, "goal", "#2ca02c")):
            ax.barh([y + offset for y in ys],
                    [row[idx] or 0 for row in rows], height, label=name,
                    color=color)
        ax.set_yticks(list(ys))
        ax.set_yticklabels(labels)
        ax.set_xscale("log")
        ax.set_xlabel("ms (log scale)")
        ax.set_title(f"queries while ingesting "
                     f"{r['during_ingest_events_per_s']:,.0f} events/s")
        ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(dst)


if __name__ == "__main__":
    main(*sys.argv[1:3])
