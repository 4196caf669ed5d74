"""(4) Scale: rollouts, a blue/green switch and canary steps at 10, 1000 and 5000 pause pods.

At each size, in one namespace:
  rollout   - `nodowntime.k8s.rollout` rolls `blue` (N pods, maxSurge 25%, maxUnavailable 0) to a new
              image: the module process's peak RSS and CPU time (rusage_python.py wraps the
              interpreter Ansible runs the module with), the controller-inherent time (observer:
              new generation seen until settled), the latency after settled, and where it goes
              (module verdict -> module process exit -> ansible CLI exit);
  blue/green - a second Deployment `green` of N pods; `nodowntime.k8s.switch_selector` moves the
              Service between them, alternately: switch time from the patch until the EndpointSlices
              list only the new side (the module's switch_seconds, and the observer's: from the patch
              it saw on the Service until the slices it saw list exactly the N new pods as ready);
  canary    - `green` scaled to 0 and reused as the canary; `nodowntime.k8s.canary_scale` steps of
              weight 10, 20, 10 (keep_total): the module process's wall, RSS and CPU.
The pods run on kubemark's hollow nodes (not real nodes: the kubelet's code over a fake runtime),
which make them ready at once: every figure of this section comes from hollow nodes.  They take as
many pods as their --max-pods together (settings.hollow_pods each; `make bench` starts its cluster
with 4 of 1600, so a rollout of 5000 with its 25% surge fits): blue/green at N needs 2N pods and is
skipped, with a note, where they do not fit (5000: 10000 pods), so its switch goal is judged at the
largest size it ran at; a rollout's surge beyond it waits.
Several nodes, because each kubelet reports its pods' status one request after another: one node
held the 1000-pod rollouts to about 5 pods a second.  The
controller-manager's and scheduler's client-side throttling during each size is taken from their
logs.  Each size's namespace is deleted and watched until it is gone before the next size starts; the
last size's is left going (scale is the bench's last section: the cluster's stop, or its owner, sees to it).
"""

import stats
import tools
from kube import PAUSE, pause_deployment
from observer import Observer
from throttling import Throttling

from localcluster import workloads

BLUE, GREEN = {"app": "web", "slot": "blue"}, {"app": "web", "slot": "green"}


def measure(
    kube, sizes=(10, 1000, 5000), reps=3, big_reps=2, big=1000, switches=3, canary_steps=(10, 20, 10), log=print
):
    capacity = kube.hollow_pods()
    out = {"sizes": {}, "settings": dict(kube.info.get("settings", {}), hollow_capacity=capacity)}
    for i, size in enumerate(sizes):
        n, last = big_reps if size >= big else reps, i == len(sizes) - 1
        with Throttling() as throttle:
            try:
                out["sizes"][str(size)] = _size(kube, size, n, switches, canary_steps, capacity, log, last)
            except Exception as e:  # noqa: BLE001  keep the smaller sizes' figures
                log(f"scale {size} failed: {e!r}")
                out["sizes"][str(size)] = {"replicas": size, "error": f"{type(e).__name__}: {e}"}
        out["sizes"][str(size)]["throttling"] = throttle.result
    if any("error" in s for s in out["sizes"].values()):
        out["errors"] = "; ".join(f"{k}: {s['error']}" for k, s in out["sizes"].items() if "error" in s)
    out["goal"] = goals(out["sizes"])
    return out


def goals(sizes):
    """Issue 18's scale goals from the figures by size (str(pods) -> _size's result, or one with "error").

    Memory: the module's peak RSS <= 60 MB at every size.  The blue/green switch <= 2 s (median) is judged at
    the largest size blue/green ran at (it is skipped where its 2N pods do not fit); None when it ran at none.
    """
    peaks = [s.get("rollout", {}).get("module_rss_mb", {}).get("max") for s in sizes.values()]
    rss = [peak for peak in peaks if peak is not None]
    switch = {int(k): s.get("bluegreen", {}).get("switch_seconds", {}).get("median") for k, s in sizes.items()}
    largest = max((k for k, median in switch.items() if median is not None), default=None)
    return {
        "module_rss_max_mb": 60,
        "met": bool(rss) and max(rss) <= 60,
        "bluegreen_switch_median_max_s": 2.0,
        "bluegreen_largest_size": largest,
        "bluegreen_met_at_largest": None if largest is None else switch[largest] <= 2.0,
    }


def _size(kube, size, reps, switches, canary_steps, capacity, log, last=False):
    """last: the section's last size, whose namespace is left going (nothing of the bench comes after it)."""
    ns = kube.namespace(f"scale{size}")
    timeout = 120 + size  # 1000 pods take about a minute to create or roll on this node
    notes = []
    if -(-size * 5 // 4) > capacity:
        notes.append(f"the rollout's surge is capped by the hollow nodes' {capacity} pods")
    if 2 * size > capacity:
        switches = 0
        notes.append(
            f"blue/green skipped: {2 * size} pods do not fit the hollow nodes' {capacity} "
            "(start the cluster with more: `localcluster up --hollow-pods N --hollow-nodes M`)"
        )
        log(f"scale {size}: {notes[-1]}")
    switch = []
    try:
        kube.create_deployment(ns, pause_deployment("blue", size, tag="s0", max_surge="25%", labels=BLUE), timeout)
        kube.core.create_namespaced_service(
            ns, {"metadata": {"name": "web"}, "spec": {"selector": dict(BLUE), "ports": [{"port": 80}]}}
        )
        with Observer(kube, ns, kinds=("deployments", "pods", "endpointslices", "services")) as obs:
            rollout = [_rollout(kube, ns, obs, size, rep, timeout, log) for rep in range(reps)]
            green = pause_deployment("green", size if switches else 0, tag="g0", max_surge="25%", labels=GREEN)
            kube.create_deployment(ns, green, timeout)
            switch = [_switch(kube, ns, obs, size, i, log) for i in range(switches)]
            if switches % 2:  # back to blue, so stable serves while green becomes the canary
                _switch(kube, ns, obs, size, switches, log)
            if switches:
                kube.apps.patch_namespaced_deployment_scale("green", ns, {"spec": {"replicas": 0}})
                kube.wait_complete(ns, "green", timeout)
            canary = [_canary_step(kube, ns, size, weight, timeout, log) for weight in canary_steps]
    finally:
        kube.delete_namespace(ns)
    if not last:
        workloads.wait_gone(kube.core.list_namespace, ns, timeout * 2, f"namespace {ns} to go")
    return {
        "replicas": size,
        "rollout": _figures(rollout),
        "bluegreen": _figures(switch),
        "canary": _figures(canary),
        "canary_steps": list(canary_steps),
        "notes": notes,
    }


def _figures(samples):
    keys = sorted({k for s in samples for k in s})
    return {k: stats.summary([s.get(k) for s in samples], unit="MB" if k.endswith("_mb") else "s") for k in keys}


def _usage(run, module):
    usage = [u for u in run.usage if module in (u["argv"] or [""])[0]]
    return usage[-1] if usage else None


def _rollout(kube, ns, obs, size, rep, timeout, log):
    run = tools.ansible_module(
        "nodowntime.k8s.rollout",
        {
            "name": "blue",
            "namespace": ns,
            "images": {"app": f"{PAUSE}:s{rep + 1}"},
            "max_surge": "25%",
            "max_unavailable": 0,
            "wait_timeout": timeout,
        },
        kube,
        measure=True,
    )
    run.check(f"rollout of {size}")
    generation = kube.generation(ns, "blue")
    changed = obs.wait(lambda: obs.changed_at("blue", generation), 60, "the change")
    settled = obs.wait(lambda: obs.settled_at("blue", generation), timeout, "the rollout")
    sample = {"wall": run.wall, "inherent": settled - changed, "latency": run.ended - settled}
    usage = _usage(run, "AnsiballZ_rollout")
    verdict = tools.timeline_time(run.result, "successfully rolled out")
    if usage:
        sample.update(module_rss_mb=usage["maxrss_kb"] / 1024, module_cpu=usage["cpu_s"])
        if verdict is not None:
            sample.update(
                verdict_after_settled=verdict - settled,
                module_exit_after_verdict=usage["ended"] - verdict,
                cli_exit_after_module_exit=run.ended - usage["ended"],
            )
    log(
        f"scale {size:5d} rollout {rep + 1}: wall {run.wall:.1f}s, inherent {sample['inherent']:.1f}s, "
        f"latency {sample['latency']:.2f}s, module {sample.get('module_rss_mb', 0):.0f} MB / "
        f"{sample.get('module_cpu', 0):.2f}s CPU"
    )
    return sample


def _switch(kube, ns, obs, size, i, log):
    to = GREEN if i % 2 == 0 else BLUE
    prefix = f"{to['slot']}-"
    run = tools.ansible_module(
        "nodowntime.k8s.switch_selector",
        {"service": "web", "namespace": ns, "selector": to, "wait_timeout": 300},
        kube,
        measure=True,
    )
    run.check(f"switch_selector at {size}")
    sample = {"switch_seconds": run.result.get("switch_seconds"), "wall": run.wall}
    patched = obs.wait(lambda: obs.selector_at("web", to, after=run.started), 30, "the selector patch")
    if patched is not None:
        seen = obs.wait(
            lambda: obs.endpoints_at(
                "web", lambda names: len(names) == size and all(n.startswith(prefix) for n in names), after=patched
            ),
            60,
            "the EndpointSlices to switch",
        )
        sample["observer_switch_seconds"] = seen - patched
    usage = _usage(run, "AnsiballZ_switch_selector")
    if usage:
        sample.update(module_rss_mb=usage["maxrss_kb"] / 1024, module_cpu=usage["cpu_s"])
    log(
        f"scale {size:5d} switch to {to['slot']}: {sample['switch_seconds']}s (observer "
        f"{sample.get('observer_switch_seconds', float('nan')):.3f}s), wall {run.wall:.1f}s"
    )
    return sample


def _canary_step(kube, ns, size, weight, timeout, log):
    run = tools.ansible_module(
        "nodowntime.k8s.canary_scale",
        {
            "namespace": ns,
            "stable": "blue",
            "canary": "green",
            "weight": weight,
            "total_replicas": size,
            "wait_timeout": timeout,
        },
        kube,
        measure=True,
    )
    run.check(f"canary_scale at {size}")
    usage = _usage(run, "AnsiballZ_canary_scale")
    sample = {"wall": run.wall}
    if usage:
        sample.update(module_wall=usage["wall_s"], module_rss_mb=usage["maxrss_kb"] / 1024, module_cpu=usage["cpu_s"])
    log(
        f"scale {size:5d} canary step to {weight}%: module {sample.get('module_wall', 0):.1f}s, "
        f"{sample.get('module_rss_mb', 0):.0f} MB"
    )
    return sample
