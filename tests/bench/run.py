"""`make bench`: measure, write build/bench/results.json and results.md, print the table.

    python tests/bench/run.py [--smoke] [--out DIR]
        [--only latency,apiload,overhead,rollback,failure,podstart,scale,fleet]

Runs on the cluster of NODOWNTIME_CLUSTER_DIR (default .cluster/), with KUBECONFIG if set;
`make bench` starts one for the run if none is up.  The fleet section starts control-plane-only
clusters of its own and needs none (`--only fleet` runs without one).  --smoke: one tiny run of each measurement
(the harness's own test, tests/integration/test_bench_smoke.py).  A measurement that fails is
recorded as {"error": ...}, the others still run, and the exit code is 1.
"""

import argparse
import json
import os
import platform
import sys
import time
import traceback

import baselines
import m_apiload
import m_failure
import m_fleet
import m_latency
import m_overhead
import m_podstart
import m_rollback
import m_scale
import report
from kube import NODE_OF, Kube

from localcluster import paths

PROFILES = {
    "full": {
        "latency": {"reps": 5, "replicas": 3, "min_ready": 2},
        "apiload": {"reps": 3, "seconds": 60},
        "overhead": {"reps": 5, "replicas": 10},
        "scale": {"sizes": (10, 100, 1000), "reps": 3, "big_reps": 3, "switches": 3, "canary_steps": (10, 20, 10)},
        "rollback": {"reps": 3},
        "failure": {"reps": 3},
        "podstart": {"reps": 5, "replicas": 4},
        "fleet": {"sizes": (3, 4, 5), "reps": 2},
    },
    "smoke": {
        "latency": {"reps": 1, "replicas": 3, "min_ready": 0},
        "apiload": {"reps": 1, "seconds": 2, "margin": 4, "warmup": 0},
        "overhead": {"reps": 1, "replicas": 3},
        "scale": {"sizes": (3,), "reps": 1, "switches": 1, "canary_steps": (34,)},
        "rollback": {"reps": 1, "replicas": 2},
        # One case per strategy; the full run has the other three.
        "failure": {
            "reps": 1,
            "replicas": 2,
            "cases": ("rolling, crash loop", "canary, analysis", "blue/green, analysis"),
        },
        "podstart": {"reps": 1, "replicas": 2},
        "fleet": {"sizes": (1,), "reps": 1},
    },
}
# scale after the others on the main cluster: 1000 pods take a while to go; fleet starts clusters of its own.
ORDER = ("latency", "apiload", "overhead", "rollback", "failure", "podstart", "scale", "fleet")


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    ap.add_argument("--smoke", action="store_true", help="one tiny run of each measurement")
    ap.add_argument("--only", help="comma-separated measurements: " + ",".join(ORDER))
    ap.add_argument("--out", default=os.path.join(paths.REPO_ROOT, "build", "bench"))
    ap.add_argument("--shared", action="store_true", help="say in the results that the machine was shared")
    args = ap.parse_args(argv)
    profile = "smoke" if args.smoke else "full"
    only = args.only.split(",") if args.only else ORDER
    unknown = set(only) - set(ORDER)
    if unknown:
        ap.error(f"unknown measurement(s): {', '.join(sorted(unknown))}")

    kube = Kube() if any(NODE_OF[name] != "own" for name in only) else None
    if any(NODE_OF[name] == "hollow" for name in only):
        kube.require_hollow_node()
    started, t0 = time.strftime("%Y-%m-%dT%H:%M:%S%z"), time.monotonic()
    load_start = os.getloadavg()
    k8s_collection = baselines.kubernetes_core() if {"latency", "apiload"} & set(only) else (None, None)
    kubectl = baselines.kubectl(kube.binary) if kube else (None, None)
    results, failed = {}, False
    for name in ORDER:
        if name not in only:
            continue
        params = PROFILES[profile][name]
        log(f"{name}: {params}")
        load, section_t0 = os.getloadavg(), time.monotonic()
        try:
            if name == "latency":
                results[name] = m_latency.measure(
                    kube, k8s_collection=k8s_collection, kubectl=kubectl, log=log, **params
                )
            elif name == "apiload":
                results[name] = m_apiload.measure(kube, k8s_collection=k8s_collection, log=log, **params)
            elif name == "overhead":
                results[name] = m_overhead.measure(kube, log=log, **params)
            elif name == "rollback":
                results[name] = m_rollback.measure(kube, log=log, **params)
            elif name == "failure":
                results[name] = m_failure.measure(kube, log=log, **params)
            elif name == "podstart":
                results[name] = m_podstart.measure(kube, log=log, **params)
            elif name == "scale":
                results[name] = m_scale.measure(kube, log=log, **params)
            elif name == "fleet":
                results[name] = m_fleet.measure(log=log, **params)
        except Exception as e:  # noqa: BLE001  record it, go on with the others
            failed = True
            log(f"{name} failed: {e!r}")
            results[name] = {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()[-4000:]}
        failed = failed or "errors" in results[name]
        # The 1-minute load average before and after: on a shared machine, which figures were disturbed.
        results[name]["load_average"] = [round(load[0], 1), round(os.getloadavg()[0], 1)]
        # Each section's own time, so a full run's length can be told from a partial one.
        results[name]["duration_s"] = round(time.monotonic() - section_t0, 1)
        log(f"{name}: {results[name]['duration_s']:.0f} s")
    results["meta"] = {
        "profile": profile,
        "started": started,
        "duration_s": round(time.monotonic() - t0, 1),
        "cpus": os.cpu_count(),
        "load_start": load_start,
        "load_end": os.getloadavg(),
        "shared": args.shared,
        "cluster": kube.info["server"] if kube else None,
        "cluster_settings": kube.info.get("settings", {}) if kube else {},
        "nodes": {name: NODE_OF[name] for name in only},
        "versions": {
            "python": platform.python_version(),
            "ansible-core": _version("ansible-core"),
            "kubernetes-client": _version("kubernetes"),
            "kubernetes.core": k8s_collection[1],
            "kubectl": kubectl[1],
            "kubernetes": "v1.37.2 (tests/cluster/controlplane)",
        },
        "parameters": {name: PROFILES[profile][name] for name in only},
    }
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1, default=list)
    table = report.markdown(results)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(table + "\n")
    print(table)
    log(f"wrote {args.out}/results.json and results.md in {results['meta']['duration_s']:.0f} s")
    return 1 if failed else 0


def _version(dist):
    from importlib.metadata import version

    return version(dist)


if __name__ == "__main__":
    sys.exit(main())
