"""(8) The automatic failure path: from the moment a failure is visible to the first corrective change the
running task makes on its own watch (no new task in between), and on until the old version serves all traffic.

Each case on the real node, the demo app (readiness probe every 1 s, preStop sleep) behind a NodePort Service
under the traffic meter (50 requests/s, each on a new connection), in a namespace of its own:
  rolling, crash loop         `nodowntime.k8s.rollout` (defaults: fail_fast, rollback_on_failure) of a v2 that
                              exits at start; visible: the observer first sees a new pod that the collection's
                              fail-fast rule (_status/pod_failures, the module's own) calls failing.
  rolling, progress deadline  the same with a v2 that is never ready (FAIL_READINESS) and
                              progress_deadline_seconds=PROGRESS_DEADLINE; visible: the Deployment's condition
                              Progressing=False, reason ProgressDeadlineExceeded. One run (it waits out the deadline).
  canary, crash loop          `canary_scale` rollback_on_failure=true, weight 34 of the pods, a canary that exits
                              at start; visible as for rolling.
  canary, analysis            1 ready canary pod (v2) beside N-1 stable (v1); `analysis` with abort.canary_scale;
                              visible: the moment the bench's metrics stub (127.0.0.1) sent the failing measurement.
  blue/green, analysis        the Service selects green (v2); `analysis` after the switch with
                              abort.switch_selector back to blue; visible as for canary analysis.
  blue/green, never ready     `switch_selector` to a green whose pods never get ready: refused before any change;
                              the meter says how many requests green answered (the claim: none). One run.
Figures per case (min/median/max over the reps): first_change (visible -> the observer's first Deployment
generation or Service selector after it: the corrective change), task_reacts (visible -> the task's own
timeline entry "rolling back...": its decision, before its first request), all_old (visible -> the first metered request
after which every request was answered by v1; 0 when v2 never served), failed requests. One clock:
time.monotonic(), shared by the observer, the meter and the metrics endpoint.
"""

import time

import m_rollback
import stats
import tools
from m_rollback import all_old_since, container, service, settle, wait_answers, wait_versions
from observer import Observer

from ansible_collections.nodowntime.k8s.plugins.module_utils._status import pod_failures, rollout_status
from localcluster import workloads
from localcluster.meter import Meter
from localcluster.metrics_stub import MetricsStub

REPLICAS = 3
PROGRESS_DEADLINE = 3
GOAL = 0.1  # seconds from visible to the first corrective change
KINDS = ("deployments", "pods", "services", "endpointslices")
CRASH = workloads.CRASH_LOOP
NEVER_READY = {"FAIL_READINESS": "1"}
FAILED_RUN = {"error_rate": 0.5, "requests": 100, "errors": 50}
CONDITION = "error_rate < `0.01`"


def _failing_pod(pod):
    return bool(pod_failures.container_failures(pod))


def _deadline_passed(deployment):
    return any(
        c.get("type") == "Progressing" and c.get("status") == "False" and c.get("reason") == rollout_status.TIMED_OUT
        for c in (deployment.get("status") or {}).get("conditions") or []
    )


MARKS = {"failing_pod": ("pods", _failing_pod), "deadline": ("deployments", _deadline_passed)}


def measure(kube, reps, replicas=REPLICAS, cases=None, log=print):
    """cases: the names of CASES to run (all by default)."""
    out = {
        "workload": {
            "image": workloads.DEMO_IMAGE,
            "replicas": replicas,
            "pre_stop_seconds": m_rollback.PRE_STOP,
            "meter_rps": m_rollback.RPS,
            "progress_deadline_seconds": PROGRESS_DEADLINE,
            "proxy_sync_delay": kube.info["settings"]["proxy_sync_delay"],
        },
        "goal_first_change_s": GOAL,
        "cases": {},
    }
    with MetricsStub(FAILED_RUN) as metrics:
        for name, fn, most in CASES:
            if cases and name not in cases:
                continue
            ns = kube.namespace("failure")
            try:
                samples = fn(kube, ns, min(reps, most), replicas, metrics, log)
            finally:
                kube.delete_namespace(ns)
            out["cases"][name] = _summary(samples)
    timed = [c["first_change"]["max"] for c in out["cases"].values() if c.get("first_change", {}).get("n")]
    out["goal_met"] = bool(timed) and max(timed) <= GOAL
    return out


def _summary(samples):
    if "green_answers" in samples[0]:
        return {
            "refused": all(s["refused"] for s in samples),
            "green_answers": sum(s["green_answers"] for s in samples),
            "failed_requests": sum(s["failed"] for s in samples),
            "n": len(samples),
        }
    keys = ("first_change", "task_reacts", "all_old", "task_wall")
    figures = {key: stats.summary([s[key] for s in samples]) for key in keys}
    figures["failed_requests"] = sum(s["failed"] for s in samples)
    figures["outcomes"] = sorted({s["outcome"] for s in samples})
    return figures


def _metered(kube, ns, url, action, visible, settle_s):
    """Run action() -> Run under the meter and the observer; visible(obs, run) -> when the failure was visible."""
    with (
        Observer(kube, ns, kinds=KINDS, marks=MARKS) as obs,
        Meter(url, rps=m_rollback.RPS, max_duration=300) as meter,
    ):
        time.sleep(0.5)
        run = action()
        time.sleep(settle_s)
        seen = visible(obs, run)
        first = seen and obs.first_change(seen)
    reacted = tools.timeline_time(run.result, "rolling back")
    all_old, failed = all_old_since(meter, seen or run.started, "1")
    return {
        "first_change": first and first - seen,
        "task_reacts": reacted and seen and reacted - seen,
        "all_old": all_old if seen else None,
        "failed": failed,
        "task_wall": run.wall,
        "outcome": run.result.get("outcome") or ("failed" if run.rc else "ok"),
    }


def _log(name, rep, reps, s, log):
    def f(x):
        return "never" if x is None else f"{x:.3f}s"

    log(
        f"failure {name:28s} rep {rep + 1}/{reps}: first change {f(s['first_change'])} after visible "
        f"(the task's 'rolling back' {f(s['task_reacts'])}), "
        f"all old {f(s['all_old'])}, task {s['task_wall']:.2f}s, {s['outcome']}, {s['failed']} failed requests"
    )
    return s


def _marked(mark):
    return lambda obs, run: obs.marked_at(mark, after=run.started)


def _endpoint_sent(metrics):
    return lambda obs, run: next((t for t in metrics.sent if t >= run.started), None)


def _rolling(env, mark, extra=None):
    patch = {"containers": [{"name": "app", "image": f"{workloads.DEMO_IMAGE}:2", "env": _env(env)}]}

    def case(kube, ns, reps, replicas, metrics, log):
        manifest = workloads.deployment("web", container(1), replicas=replicas, max_surge="25%", max_unavailable=0)
        kube.create_deployment(ns, manifest)
        url = service(kube, ns, {"app": "web"})
        args = {"name": "web", "namespace": ns, "template_patch": {"spec": patch}, "wait_timeout": 60, **(extra or {})}
        return _repeat(kube, ns, url, "nodowntime.k8s.rollout", args, mark, f"rolling ({mark})", reps, log)

    return case


def _repeat(kube, ns, url, module, args, mark, name, reps, log):
    """reps runs of module (whose failure shows as mark), each under the meter; the traffic stays on v1 throughout."""
    samples = []
    for rep in range(reps):
        run = _metered(kube, ns, url, lambda: tools.ansible_module(module, args, kube), _marked(mark), 0.5)
        samples.append(_log(name, rep, reps, run, log))
    return samples


def _env(env):
    return [{"name": k, "value": v} for k, v in env.items()]


def _canary_deployments(kube, ns, replicas, canary_env, canary_replicas=0):
    kube.create_deployment(
        ns,
        workloads.deployment("web", container(1), replicas=replicas, labels={"app": "web", "track": "stable"}),
    )
    canary = workloads.deployment(
        "web-canary", container(2), replicas=canary_replicas, labels={"app": "web", "track": "canary"}
    )
    canary["spec"]["template"]["spec"]["containers"][0]["env"] = _env(canary_env)
    kube.create_deployment(ns, canary)
    return service(kube, ns, {"app": "web"})


def _canary_crash(kube, ns, reps, replicas, metrics, log):
    url = _canary_deployments(kube, ns, replicas, CRASH)
    args = {"namespace": ns, "stable": "web", "canary": "web-canary", "weight": 34, "rollback_on_failure": True}
    return _repeat(kube, ns, url, "nodowntime.k8s.canary_scale", args, "failing_pod", "canary (crash loop)", reps, log)


def _analysis(metrics, abort, kube):
    args = {"url": metrics.url, "success_condition": CONDITION, "count": 1, "abort": abort}
    return lambda: tools.ansible_module("nodowntime.k8s.analysis", args, kube)


def _canary_analysis(kube, ns, reps, replicas, metrics, log):
    url = _canary_deployments(kube, ns, replicas - 1, {}, canary_replicas=1)
    abort = {"canary_scale": {"namespace": ns, "stable": "web", "canary": "web-canary"}}
    samples = []
    for rep in range(reps):
        if rep:  # the release under way again: one canary pod beside N-1 stable
            kube.apps.patch_namespaced_deployment_scale("web-canary", ns, {"spec": {"replicas": 1}})
            kube.wait_complete(ns, "web-canary", 120)
            kube.apps.patch_namespaced_deployment_scale("web", ns, {"spec": {"replicas": replicas - 1}})
            kube.wait_complete(ns, "web", 120)
        wait_versions_both(url)
        sample = _metered(
            kube, ns, url, _analysis(metrics, abort, kube), _endpoint_sent(metrics), settle(kube) + m_rollback.PRE_STOP
        )
        samples.append(_log("canary (analysis)", rep, reps, sample, log))
    return samples


def wait_versions_both(url):
    """Until both versions answered (kube-proxy has the canary's endpoint), so the abort has traffic to move."""
    wait_answers(url, lambda answers: {"1", "2"} <= set(answers), "not both versions 1 and 2")


def _colours(kube, ns, replicas, green_env):
    blue, green = {"app": "web", "slot": "blue"}, {"app": "web", "slot": "green"}
    kube.create_deployment(ns, workloads.deployment("blue", container(1), replicas=replicas, labels=blue))
    manifest = workloads.deployment("green", container(2), replicas=replicas, labels=green)
    manifest["spec"]["template"]["spec"]["containers"][0]["env"] = _env(green_env)
    if green_env:
        kube.apps.create_namespaced_deployment(ns, manifest)  # never complete: not waited for
    else:
        kube.create_deployment(ns, manifest)
    return blue, green


def _bluegreen_analysis(kube, ns, reps, replicas, metrics, log):
    blue, green = _colours(kube, ns, replicas, {})
    url = service(kube, ns, green)
    abort = {"switch_selector": {"namespace": ns, "service": "web", "selector": blue}}
    samples = []
    for rep in range(reps):
        if rep:
            kube.core.patch_namespaced_service("web", ns, {"spec": {"selector": green}})
        wait_versions(url, "2")
        sample = _metered(kube, ns, url, _analysis(metrics, abort, kube), _endpoint_sent(metrics), settle(kube) + 1.0)
        samples.append(_log("blue/green (analysis)", rep, reps, sample, log))
    return samples


def _bluegreen_never_ready(kube, ns, reps, replicas, metrics, log):
    blue, green = _colours(kube, ns, replicas, NEVER_READY)
    url = service(kube, ns, blue)
    args = {"service": "web", "namespace": ns, "selector": green, "wait_timeout": 30}
    samples = []
    for rep in range(reps):
        with Meter(url, rps=m_rollback.RPS, max_duration=60) as meter:
            time.sleep(0.5)
            run = tools.ansible_module("nodowntime.k8s.switch_selector", args, kube)
            time.sleep(settle(kube))
        records = meter.sorted_records()
        sample = {
            "refused": run.rc != 0 and not run.result.get("changed"),
            "green_answers": sum(1 for r in records if r.ok and r.version == "2"),
            "failed": sum(1 for r in records if not r.ok),
        }
        log(
            f"failure blue/green (never ready)     rep {rep + 1}/{reps}: switch "
            f"{'refused' if sample['refused'] else 'NOT refused'} ({run.result.get('msg', '')[:80]}), green answered "
            f"{sample['green_answers']} of {len(records)} requests, {sample['failed']} failed"
        )
        samples.append(sample)
    return samples


# (name, case, most reps): the deadline case waits out its deadline each time (one run keeps the section short);
# never ready is a claim (no traffic reaches green), not a timing.
CASES = (
    ("rolling, crash loop", _rolling(CRASH, "failing_pod"), 3),
    (
        "rolling, progress deadline",
        _rolling(NEVER_READY, "deadline", {"progress_deadline_seconds": PROGRESS_DEADLINE}),
        1,
    ),
    ("canary, crash loop", _canary_crash, 3),
    ("canary, analysis", _canary_analysis, 3),
    ("blue/green, analysis", _bluegreen_analysis, 3),
    ("blue/green, never ready", _bluegreen_never_ready, 1),
)
