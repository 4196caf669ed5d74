"""(2) API load: every request a tool sends to kube-apiserver for one ~60 s rollout, ours against the baselines.

Every sample is one rollout of a Deployment of its own (pause pods, 3 replicas, maxSurge 1,
maxUnavailable 0, minReadySeconds chosen so it lasts about `seconds`) made by one tool:
  ours            - `nodowntime.k8s.rollout` makes the change and waits;
  kubernetes.core - `kubernetes.core.k8s` with the whole manifest and wait: true, at its defaults;
  kubectl         - `kubectl set image`, then `kubectl rollout status` (each with a discovery cache
                    of its own, empty: as on a first run).
Each sample runs in a namespace of its own as a client identity of its own (identity.py: a
ServiceAccount whose every request API Priority and Fairness sorts into FlowSchemas of that identity
alone, which kube-apiserver counts per verb and resource), so a tool's count is exact: every request
it made, watches included, and nothing of the controllers', the scheduler's, the kubelets', the
observer's or the other samples'.  No baseline window is subtracted, and so every sample (reps x
tools) runs at the same time, each in its own namespace: the section takes one rollout's time.
The change itself (the PATCH) is counted: it is the tool's.
"""

import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import apimetrics
import stats
import tools
from identity import Identity
from kube import PAUSE, pause_deployment
from observer import Observer

KINDS = ("ours", "kubernetes.core", "kubectl")
REPLICAS = 3


def measure(kube, reps, seconds=60, k8s_collection=None, kubectl=None, log=print):
    min_ready = max(0, round(seconds / REPLICAS))
    samples = [(kind, rep) for rep in range(reps) for kind in KINDS]
    windows, t0 = [], time.monotonic()
    try:
        for kind, rep in samples:  # set up one after another: the admin's requests, counted nowhere
            ns = kube.namespace("apiload")
            windows.append({"kind": kind, "rep": rep, "ns": ns})
            kube.apps.create_namespaced_deployment(ns, _manifest(ns, "a0", min_ready))
            windows[-1]["identity"] = Identity.create(kube, ns)
        for w in windows:  # minReadySeconds makes each take that long: they are all under way by now
            kube.wait_complete(w["ns"], "web")
            w["identity"].wait_counted()
        log(f"apiload: {len(windows)} namespaces, Deployments and identities set up in {time.monotonic() - t0:.0f} s")
        before, t0 = apimetrics.scrape(kube), time.monotonic()
        with ThreadPoolExecutor(len(windows)) as pool:
            durations = list(
                pool.map(lambda w: _sample(kube, w, min_ready, seconds, k8s_collection, kubectl, log), windows)
            )
        counts = apimetrics.delta(before, apimetrics.scrape(kube))
        log(f"apiload: {len(windows)} rollouts side by side in {time.monotonic() - t0:.0f} s")
    finally:
        for w in windows:
            if "identity" in w:
                w["identity"].delete()
            kube.delete_namespace(w["ns"])
    for w, duration in zip(windows, durations, strict=True):
        w["requests"], w["rollout_seconds"] = w["identity"].requests(counts), duration
        log(f"apiload {w['kind']:16s} rep {w['rep'] + 1}/{reps}: {sum(w['requests'].values())} requests")
    return _summarize(windows, seconds, min_ready, k8s_collection, kubectl)


def _manifest(ns, tag, min_ready):
    m = pause_deployment("web", REPLICAS, tag=tag, max_surge=1, max_unavailable=0, min_ready_seconds=min_ready)
    m["metadata"]["namespace"] = ns
    return m


def _sample(kube, w, min_ready, seconds, k8s_collection, kubectl, log):
    """One tool's rollout as its identity; the rollout's length as the observer saw it."""
    ns, ident = w["ns"], w["identity"]
    image = f"{PAUSE}:a1"
    with Observer(kube, ns) as obs:
        if w["kind"] == "ours":
            tools.ansible_module(
                "nodowntime.k8s.rollout", {"name": "web", "namespace": ns, "images": {"app": image}}, ident
            ).check("nodowntime.k8s.rollout")
        elif w["kind"] == "kubernetes.core":
            tools.ansible_module(
                "kubernetes.core.k8s",
                {"definition": _manifest(ns, "a1", min_ready), "wait": True},
                ident,
                extra_collections=[k8s_collection[0]],
            ).check("kubernetes.core.k8s")
        else:
            cache = tempfile.mkdtemp(prefix="bench-kubectl-cache-")
            try:
                common = ["-n", ns, "--kubeconfig", ident.kubeconfig, "--cache-dir", cache]
                tools.command([*kubectl[0], "set", "image", "deployment/web", f"app={image}", *common], ident).check(
                    "kubectl set image"
                )
                tools.command([*kubectl[0], "rollout", "status", "deployment/web", *common], ident).check(
                    "kubectl rollout status"
                )
            finally:
                shutil.rmtree(cache, ignore_errors=True)
        generation = kube.generation(ns, "web")
        changed = obs.wait(lambda: obs.changed_at("web", generation), 60, f"{w['kind']}'s change")
        settled = obs.wait(lambda: obs.settled_at("web", generation), seconds * 3, f"{w['kind']}'s rollout")
    return settled - changed


def _summarize(windows, seconds, min_ready, k8s_collection, kubectl):
    by_kind = {kind: [w for w in windows if w["kind"] == kind] for kind in KINDS}
    out = {
        "workload": {
            "image": PAUSE,
            "replicas": REPLICAS,
            "max_surge": 1,
            "max_unavailable": 0,
            "min_ready_seconds": min_ready,
            "target_seconds": seconds,
            "side_by_side": len(windows),
        },
        "method": METHOD,
        "versions": {"kubernetes.core": k8s_collection[1], "kubectl": kubectl[1]},
        "rollout_seconds": {k: stats.summary([w["rollout_seconds"] for w in ws]) for k, ws in by_kind.items()},
        "tool_requests": {
            k: stats.summary([sum(w["requests"].values()) for w in ws], unit="requests", digits=1)
            for k, ws in by_kind.items()
        },
        "by_request": {},
    }
    for kind, ws in by_kind.items():
        labels = [label for label in ws[0]["requests"] if any(w["requests"][label] for w in ws)]
        out["by_request"][kind] = {
            label: stats.summary([w["requests"][label] for w in ws], unit="requests", digits=1) for label in labels
        }
    out["ratios"] = {
        f"{kind}/ours": stats.ratio(out["tool_requests"][kind], out["tool_requests"]["ours"]) for kind in KINDS[1:]
    }
    out["goal"] = {"ours_max_requests": 4, "met": (out["tool_requests"]["ours"]["max"] or 99) <= 4}
    return out


METHOD = (
    "each sample is one rollout made by one tool in a namespace of its own, as a client identity of its own "
    "(a ServiceAccount token); API Priority and Fairness FlowSchemas match that identity only, one per verb "
    "and resource, and apiserver_flowcontrol_dispatched_requests_total counts their requests: every request "
    "of the tool, watches included (counted when they start), and nothing of any other client. All samples "
    "run at the same time."
)
