"""`make bench`: measure, write build/bench/results.json and results.md, print the table.

    python tests/bench/run.py [--quick | --smoke] [--scale-sizes 10,1000,5000] [--out DIR]
        [--only latency,apiload,overhead,overhead_real,rollback,failure,podstart,scale,fleet]

Runs on the cluster of NODOWNTIME_CLUSTER_DIR (default .cluster/), with KUBECONFIG if set;
`make bench` starts one for the run if none is up.  The fleet section starts control-plane-only
clusters of its own and needs none (`--only fleet` runs without one).  --quick: a first look in about
3 minutes, every measurement once and small (the results say "quick").  --smoke: one tiny run of each
measurement (the harness's own test, tests/integration/test_bench_smoke.py).  A measurement that fails is
recorded as {"error": ...}, the others still run, and the exit code is 1.
"""

import argparse
import json
import os
import platform
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

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
        "latency": {"reps": 3, "replicas": 3, "min_ready": 2},
        "apiload": {"reps": 3, "seconds": 60},
        "overhead": {"reps": 5, "replicas": 10},
        "overhead_real": {"reps": 5, "replicas": 3, "node": "real"},
        "scale": {"sizes": (10, 1000), "reps": 3, "big_reps": 3, "switches": 3, "canary_steps": (10, 20, 10)},
        "rollback": {"reps": 3},
        "failure": {"reps": 3},
        "podstart": {"reps": 5, "replicas": 4},
        "fleet": {"sizes": (3, 5), "reps": 2},
    },
    # A first look in about 3 minutes: every section once, small; its figures are marked quick.
    "quick": {
        "latency": {"reps": 1, "replicas": 3, "min_ready": 2},
        "apiload": {"reps": 1, "seconds": 20},
        "overhead": {"reps": 1, "replicas": 10},
        "overhead_real": {"reps": 1, "replicas": 3, "node": "real"},
        "scale": {"sizes": (10, 100), "reps": 1, "big_reps": 1, "switches": 1, "canary_steps": (10,)},
        "rollback": {"reps": 1},
        "failure": {"reps": 1, "cases": ("rolling, crash loop", "canary, analysis", "blue/green, analysis")},
        "podstart": {"reps": 1, "replicas": 4},
        "fleet": {"sizes": (2,), "reps": 1},
    },
    "smoke": {
        "latency": {"reps": 1, "replicas": 3, "min_ready": 0},
        "apiload": {"reps": 1, "seconds": 2},
        "overhead": {"reps": 1, "replicas": 3},
        "overhead_real": {"reps": 1, "replicas": 2, "node": "real"},
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
# Steps one after another; the sections of one step run side by side.  apiload's figures are request
# counts of identities of its own, which the load does not change, and fleet's are CPU time and memory
# (its clusters' start is not timed), so the two share a step; every section that times traffic, the
# node or a wait runs alone.  scale after the others on the main cluster: thousands of pods take a while
# to go.
ORDER = (
    ("latency",),
    ("apiload", "fleet"),
    ("overhead",),
    ("overhead_real",),
    ("rollback",),
    ("failure",),
    ("podstart",),
    ("scale",),
)
NAMES = tuple(name for step in ORDER for name in step)


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--smoke", action="store_true", help="one tiny run of each measurement")
    mode.add_argument("--quick", action="store_true", help="a first look: every measurement once, small")
    ap.add_argument("--only", help="comma-separated measurements: " + ",".join(NAMES))
    ap.add_argument("--scale-sizes", help="the scale section's pod counts instead of the profile's, e.g. 10,1000,5000")
    ap.add_argument("--out", default=os.path.join(paths.REPO_ROOT, "build", "bench"))
    ap.add_argument("--shared", action="store_true", help="say in the results that the machine was shared")
    args = ap.parse_args(argv)
    profile = "smoke" if args.smoke else "quick" if args.quick else "full"
    params = {name: dict(p) for name, p in PROFILES[profile].items()}
    if args.scale_sizes:
        params["scale"]["sizes"] = tuple(int(n) for n in args.scale_sizes.split(","))
    only = args.only.split(",") if args.only else NAMES
    unknown = set(only) - set(NAMES)
    if unknown:
        ap.error(f"unknown measurement(s): {', '.join(sorted(unknown))}")

    kube = Kube() if any(NODE_OF[name] != "own" for name in only) else None
    if any(NODE_OF[name] == "hollow" for name in only):
        kube.require_hollow_node()
    started, t0 = time.strftime("%Y-%m-%dT%H:%M:%S%z"), time.monotonic()
    load_start = os.getloadavg()
    k8s_collection = baselines.kubernetes_core() if {"latency", "apiload"} & set(only) else (None, None)
    kubectl = baselines.kubectl(kube.binary) if kube else (None, None)
    shared = {"kube": kube, "k8s_collection": k8s_collection, "kubectl": kubectl}
    results, loads = {}, [load_start]
    for step in ORDER:
        names = [name for name in step if name in only]
        if len(names) > 1:
            log(f"side by side: {', '.join(names)}")
        with ThreadPoolExecutor(max(1, len(names))) as pool:
            for name, section in zip(names, pool.map(lambda n: _section(n, params[n], shared), names), strict=True):
                results[name] = section
                loads.append(section["load_average"])
    failed = any("error" in s or "errors" in s for s in results.values())
    results["meta"] = {
        "profile": profile,
        "started": started,
        "duration_s": round(time.monotonic() - t0, 1),
        "cpus": os.cpu_count(),
        "load_start": load_start,
        "load_end": os.getloadavg(),
        # The 1-minute load average over the run (each section's start and end): a shared machine shows here.
        "load_average": {"min": round(min(min(x) for x in loads), 1), "max": round(max(max(x) for x in loads), 1)},
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
        "parameters": {name: params[name] for name in only},
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


def _section(name, params, shared):
    """One measurement: its figures, or {"error": ...}; with its time and the load average around it."""
    kube = shared["kube"]
    log(f"{name}: {params}")
    load, t0 = os.getloadavg(), time.monotonic()
    try:
        if name == "latency":
            result = m_latency.measure(
                kube, k8s_collection=shared["k8s_collection"], kubectl=shared["kubectl"], log=log, **params
            )
        elif name == "apiload":
            result = m_apiload.measure(
                kube, k8s_collection=shared["k8s_collection"], kubectl=shared["kubectl"], log=log, **params
            )
        elif name in ("overhead", "overhead_real"):
            result = m_overhead.measure(kube, log=log, **params)
        elif name == "rollback":
            result = m_rollback.measure(kube, log=log, **params)
        elif name == "failure":
            result = m_failure.measure(kube, log=log, **params)
        elif name == "podstart":
            result = m_podstart.measure(kube, log=log, **params)
        elif name == "scale":
            result = m_scale.measure(kube, log=log, **params)
        else:
            result = m_fleet.measure(log=log, **params)
    except Exception as e:  # noqa: BLE001  record it, go on with the others
        log(f"{name} failed: {e!r}")
        result = {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()[-4000:]}
    # The 1-minute load average before and after: on a shared machine, which figures were disturbed.
    result["load_average"] = [round(load[0], 1), round(os.getloadavg()[0], 1)]
    # Each section's own time, so a full run's length can be told from a partial one.
    result["duration_s"] = round(time.monotonic() - t0, 1)
    log(f"{name}: {result['duration_s']:.0f} s")
    return result


def _version(dist):
    from importlib.metadata import version

    return version(dist)


if __name__ == "__main__":
    sys.exit(main())
