"""The demo's report: a console table, JSON, and Markdown with a timeline picture (SVG)."""

import json
import os

COLUMNS = ("strategy", "release", "outcome", "duration_s", "requests", "failed")


def table(steps):
    rows = [COLUMNS] + [tuple(str(s[c]) for c in COLUMNS) for s in steps]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    rows.insert(1, tuple("-" * w for w in widths))
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows)


def write(out_dir, node, steps, meters, pod_samples, failures):
    """Write demo-report.json, demo-report.md and demo-timeline.svg into out_dir."""
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "demo-report.json"), "w") as f:
        json.dump({"node": node, "steps": steps, "meters": meters, "ready_pods": pod_samples}, f, indent=2)
    svg = "demo-timeline.svg"
    _plot(os.path.join(out_dir, svg), steps, pod_samples, failures)
    md = [
        "# nodowntime.k8s demo",
        "",
        f"Node {node}.",
        "",
        (
            "Every request was sent by a traffic meter: to shop's NodePort, through kube-proxy's rules, and for "
            "the gateway canary to the Gateway API gateway (Traefik), which sends it to a pod; "
            "`failed` counts what it saw (non-200 answers, refused, reset, timed out)."
        ),
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    md += ["| " + " | ".join(str(s[c]) for c in COLUMNS) + " |" for s in steps]
    md += ["", f"![ready pods per version and failed requests over time]({svg})", ""]
    md += [f"- **{s['strategy']} to {s['release']}**: {s['message']}" for s in steps]
    with open(os.path.join(out_dir, "demo-report.md"), "w") as f:
        f.write("\n".join(md) + "\n")


def _plot(path, steps, pod_samples, failures):
    import matplotlib

    matplotlib.use("svg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 5.5), sharex=True, height_ratios=(3, 1))
    times = [t for t, _counts in pod_samples]
    versions = sorted({v for _t, counts in pod_samples for v in counts})
    for version in versions:
        ready = [counts.get(version, 0) for _t, counts in pod_samples]
        top.step(times, ready, where="post", label=f"version {version}")
    for s in steps:
        for ax in (top, bottom):
            ax.axvspan(s["start_s"], s["end_s"], alpha=0.08, color="grey")
        top.annotate(s["strategy"], (s["start_s"], 0), xytext=(2, 2), textcoords="offset points", fontsize=7)
    top.set_ylabel("ready pods")
    top.yaxis.get_major_locator().set_params(integer=True)
    top.legend(loc="upper left", fontsize=7, ncols=max(1, len(versions)))
    bottom.bar([t for t, _n in failures], [n for _t, n in failures], width=1.0, color="tab:red")
    bottom.set_ylabel("failed / s")
    bottom.set_xlabel("seconds since the meter started")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
