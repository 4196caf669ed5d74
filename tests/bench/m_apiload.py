"""(2) API load: requests to kube-apiserver for one rollout of fixed length, ours against kubernetes.core.

apiserver_request_total has no user-agent or user label, so a tool's share is isolated by
subtraction.  Every sample is one rollout of the same Deployment (pause pods, 3 replicas,
maxSurge 1, maxUnavailable 0, minReadySeconds chosen so it lasts about `seconds`), counted over
a fixed window of the same length from the same starting state:
  baseline        - the harness patches the image and does nothing else (the controllers', the
                    scheduler's, the kubelets' and the observer's own requests);
  ours            - `nodowntime.k8s.rollout` makes the same change and waits;
  kubernetes.core - `kubernetes.core.k8s` with the whole manifest and wait: true, at its defaults.
A tool's requests = its window's counts - the median baseline, per (verb, resource); the change
itself (one PATCH in the baseline) is thus subtracted, so the figure is what the tool adds to make
the change and wait.  Kinds run interleaved, their order rotating each repetition, so slow drift
in the background affects all alike; the spread of the baselines is reported as the noise floor.
The counter counts a watch when it ends: every watch a tool opens ends when the tool exits,
inside the window; the observer's long watches outlast the windows.
Run it on a quiet cluster: other clients' requests land in the same counter.
"""

import statistics
import time

import apimetrics
import stats
import tools
from kube import PAUSE, pause_deployment
from observer import Observer

KINDS = ("baseline", "ours", "kubernetes.core")
REPLICAS = 3


def measure(kube, reps, seconds=60, margin=8, warmup=5, k8s_collection=None, log=print):
    ns = kube.namespace("apiload")
    min_ready = max(0, round(seconds / REPLICAS))
    window = seconds + margin  # the rollout, plus tool start-up and exit
    counter = [0]

    def manifest(tag):
        m = pause_deployment("web", REPLICAS, tag=tag, max_surge=1, max_unavailable=0, min_ready_seconds=min_ready)
        m["metadata"]["namespace"] = ns
        return m

    kube.create_deployment(ns, manifest("a0"))
    time.sleep(warmup)  # a new namespace and Deployment keep controllers busy for a few seconds
    windows = {kind: [] for kind in KINDS}
    durations = {kind: [] for kind in KINDS}
    try:
        with Observer(kube, ns, watch_seconds=3600) as obs:
            for rep in range(reps):
                for kind in KINDS[rep % 3 :] + KINDS[: rep % 3]:  # no kind always first
                    counter[0] += 1
                    tag = f"a{counter[0]}"
                    time.sleep(1.0)  # let the last window's stragglers (events, status writes) land first
                    before = apimetrics.scrape(kube)
                    t0 = time.monotonic()
                    _change(kube, ns, kind, tag, manifest, k8s_collection)
                    generation = kube.generation(ns, "web")
                    settled = obs.wait(lambda g=generation: obs.settled_at("web", g), window * 2, f"{kind} rollout")
                    left = t0 + window - time.monotonic()
                    if left < 0:
                        log(f"apiload {kind}: the rollout outlasted the {window}s window by {-left:.1f}s")
                    time.sleep(max(0.0, left))
                    counts = apimetrics.delta(before, apimetrics.scrape(kube))
                    windows[kind].append(counts)
                    durations[kind].append(settled - obs.changed_at("web", generation))
                    log(
                        f"apiload {kind:16s} rep {rep + 1}/{reps}: {apimetrics.flow(counts, 'exempt')} admin requests, "
                        f"{sum(apimetrics.requests(counts).values())} in all, in the window"
                    )
    finally:
        kube.delete_namespace(ns)
    return _summarize(windows, durations, seconds, window, min_ready, k8s_collection)


def _change(kube, ns, kind, tag, manifest, k8s_collection):
    image = f"{PAUSE}:{tag}"
    if kind == "baseline":
        kube.set_image(ns, "web", image)
    elif kind == "ours":
        tools.ansible_module(
            "nodowntime.k8s.rollout", {"name": "web", "namespace": ns, "images": {"app": image}}, kube
        ).check("nodowntime.k8s.rollout")
    else:
        tools.ansible_module(
            "kubernetes.core.k8s",
            {"definition": manifest(tag), "wait": True},
            kube,
            extra_collections=[k8s_collection[0]],
        ).check("kubernetes.core.k8s")


def _summarize(windows, durations, seconds, window, min_ready, k8s_collection):
    out = {
        "workload": {
            "image": PAUSE,
            "replicas": REPLICAS,
            "max_surge": 1,
            "max_unavailable": 0,
            "min_ready_seconds": min_ready,
            "target_seconds": seconds,
            "window_seconds": window,
        },
        "method": METHOD,
        "kubernetes.core": k8s_collection[1],
        "rollout_seconds": {kind: stats.summary(d) for kind, d in durations.items()},
    }
    # Exact: requests of the admin identity only (flow schema "exempt"), tool window - baseline window.
    admin = {kind: [apimetrics.flow(c, "exempt") for c in w] for kind, w in windows.items()}
    # Every client (apiserver_request_total): what the issue asks for, but the controllers' own
    # requests vary from window to window; their spread is the noise floor.
    every = {kind: [sum(apimetrics.requests(c).values()) for c in w] for kind, w in windows.items()}
    out["admin_requests_in_window"] = {kind: stats.summary(v, unit="requests", digits=1) for kind, v in admin.items()}
    out["all_requests_in_window"] = {kind: stats.summary(v, unit="requests", digits=1) for kind, v in every.items()}
    base_admin, base_every = statistics.median(admin["baseline"]), statistics.median(every["baseline"])
    out["tool_requests"] = {
        kind: stats.summary([v - base_admin for v in admin[kind]], unit="requests", digits=1) for kind in KINDS[1:]
    }
    out["tool_requests_all_clients"] = {
        kind: stats.summary([v - base_every for v in every[kind]], unit="requests", digits=1) for kind in KINDS[1:]
    }
    spread = out["all_requests_in_window"]["baseline"]
    out["noise_floor_all_clients"] = None if spread["n"] < 2 else round(spread["max"] - spread["min"], 1)
    keys = sorted({k for w in windows.values() for c in w for k in apimetrics.requests(c)})
    base = {k: statistics.median(c.get(k, 0) for c in windows["baseline"]) for k in keys}
    out["by_request_all_clients"] = {}
    for kind in KINDS[1:]:
        by = {apimetrics.label(k): statistics.median(c.get(k, 0) for c in windows[kind]) - base[k] for k in keys}
        out["by_request_all_clients"][kind] = {
            k: v for k, v in sorted(by.items(), key=lambda kv: -abs(kv[1])) if abs(v) >= 1
        }
    out["ratios"] = {
        "kubernetes.core/ours": stats.ratio(out["tool_requests"]["kubernetes.core"], out["tool_requests"]["ours"])
    }
    return out


METHOD = (
    "counters before and after a fixed window around one rollout; a tool's requests = its window - the "
    "median baseline window (the same rollout made by one PATCH from the harness). tool_requests counts the "
    "admin identity only (apiserver_flowcontrol_dispatched_requests_total, flow schema exempt), which the "
    "controllers never use; tool_requests_all_clients uses apiserver_request_total, with the controllers' "
    "window-to-window spread as its noise floor"
)
