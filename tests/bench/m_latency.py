"""(1) Detection latency: from the rollout being complete in the API to the tool returning.

The observer (its own watch) stamps two moments of each rollout:
  complete - the Deployment's status says what kubectl rollout status calls "successfully rolled
             out" (observedGeneration, updated, replicas and available all at spec.replicas);
  settled  - complete, and every old pod has also left the API (Terminating ones included), which
             is what our rollout module waits for in addition (kubernetes/kubectl#1284).
A tool "returns" when its process has exited (the ansible CLI for the two modules).  Latency is
measured from each tool's own criterion: settled for ours, complete for kubernetes.core and
kubectl; every tool's latency from `complete` is recorded too.  A negative value means the tool
returned before the rollout was complete (counted as returned_early).

Workload: pause pods (no process), maxSurge 1, maxUnavailable 0, minReadySeconds so a rollout
lasts several seconds, longer than any tool takes to start.  Each tool makes the change itself,
as its users do (ours: images; kubernetes.core: the whole manifest with wait: true at its
defaults; kubectl: the harness patches the image, then `kubectl rollout status` waits).  The
three tools of a repetition run side by side, each on a Deployment in a namespace of its own
under an observer of its own: a tool's latency is its reaction at the end of its rollout, while
the others wait on theirs (a watch, or kubernetes.core's poll every 5 s).  Ours measured the same
both ways, alternating on one cluster (tests/bench/README.md).
"""

from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from functools import partial

import stats
import tools
from kube import PAUSE, pause_deployment
from observer import Observer

TOOLS = ("ours", "kubernetes.core", "kubectl")


def measure(kube, reps, replicas=3, min_ready=2, k8s_collection=None, kubectl=None, log=print):
    def manifest(ns, tag):
        m = pause_deployment("web", replicas, tag=tag, max_surge=1, max_unavailable=0, min_ready_seconds=min_ready)
        m["metadata"]["namespace"] = ns
        return m

    spaces = {tool: kube.namespace("latency") for tool in TOOLS}
    samples = {tool: [] for tool in TOOLS}
    try:
        for ns in spaces.values():
            kube.apps.create_namespaced_deployment(ns, manifest(ns, "r0"))
        for ns in spaces.values():
            kube.wait_complete(ns, "web")
        with ExitStack() as stack, ThreadPoolExecutor(len(TOOLS)) as pool:
            observers = {tool: stack.enter_context(Observer(kube, ns)) for tool, ns in spaces.items()}

            def one(tool, rep):
                ns = spaces[tool]
                return _one(
                    kube, ns, observers[tool], tool, f"r{rep + 1}", partial(manifest, ns), k8s_collection, kubectl
                )

            for rep in range(reps):
                for tool, sample in zip(TOOLS, pool.map(one, TOOLS, [rep] * len(TOOLS)), strict=True):
                    samples[tool].append(sample)
                    log(
                        f"latency {tool:16s} rep {rep + 1}/{reps}: {sample['latency']:+.3f}s "
                        f"(from complete {sample['from_complete']:+.3f}s)"
                    )
    finally:
        for ns in spaces.values():
            kube.delete_namespace(ns)
    return _summarize(samples, replicas, min_ready, k8s_collection, kubectl)


def _one(kube, ns, obs, tool, tag, manifest, k8s_collection, kubectl):
    image = f"{PAUSE}:{tag}"
    result = {}
    if tool == "ours":
        run = tools.ansible_module(
            "nodowntime.k8s.rollout", {"name": "web", "namespace": ns, "images": {"app": image}}, kube
        ).check("nodowntime.k8s.rollout")
        result = run.result
    elif tool == "kubernetes.core":
        run = tools.ansible_module(
            "kubernetes.core.k8s",
            {"definition": manifest(tag), "wait": True},
            kube,
            extra_collections=[k8s_collection[0]],
        ).check("kubernetes.core.k8s")
    else:
        kube.set_image(ns, "web", image)
        run = tools.command(
            [*kubectl[0], "rollout", "status", "deployment/web", "-n", ns, "--kubeconfig", kube.kubeconfig], kube
        ).check("kubectl rollout status")
    generation = kube.generation(ns, "web")
    complete = obs.wait(lambda: obs.complete_at("web", generation), 300, f"{tool}'s rollout to complete")
    settled = obs.wait(lambda: obs.settled_at("web", generation), 300, f"{tool}'s old pods to go")
    own = settled if tool == "ours" else complete
    sample = {
        "latency": run.ended - own,
        "from_complete": run.ended - complete,
        "settle_gap": settled - complete,
        "wall": run.wall,
    }
    if tool == "ours":
        # Where our latency goes: the module's own verdict (its timeline) vs the CLI's exit after it.
        verdict = tools.timeline_time(result, "successfully rolled out")
        if verdict is not None:
            sample["module_verdict"] = verdict - settled
            sample["cli_exit_after_verdict"] = run.ended - verdict
    return sample


def _summarize(samples, replicas, min_ready, k8s_collection, kubectl):
    out = {
        "workload": {
            "image": PAUSE,
            "replicas": replicas,
            "max_surge": 1,
            "max_unavailable": 0,
            "min_ready_seconds": min_ready,
            "side_by_side": len(TOOLS),
        },
        "versions": {"kubernetes.core": k8s_collection[1], "kubectl": kubectl[1]},
        "criterion": {"ours": "settled", "kubernetes.core": "complete", "kubectl": "complete"},
        "tools": {},
    }
    for tool, rows in samples.items():
        fig = {
            key: stats.summary([r.get(key) for r in rows])
            for key in ("latency", "from_complete", "settle_gap", "wall", "module_verdict", "cli_exit_after_verdict")
            if any(key in r for r in rows)
        }
        fig["returned_early"] = sum(1 for r in rows if r["from_complete"] < 0)
        out["tools"][tool] = fig
    ours = out["tools"]["ours"]["latency"]
    out["ratios"] = {f"{tool}/ours": stats.ratio(out["tools"][tool]["latency"], ours) for tool in TOOLS[1:]}
    out["goal"] = {"ours_median_max_s": 0.2, "met": ours["median"] is not None and ours["median"] <= 0.2}
    return out
