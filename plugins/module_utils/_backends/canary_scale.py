# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One step of the canary_scale module: split the pods, scale the side that grows first, wait.

check(params) -> the progress to record; ValueError for options the replica math refuses
step(client, params, progress, check_mode, timeline, warn) -> result (for exit_json)
raises TaskFailed(message, result)                            (for fail_json)
to_zero(client, params, progress, cause, timeline, warn, check_mode, known) -> the result of weight 0 (Argo's abort),
    recording progress with phase rolling_back and the cause; raises TaskFailed
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

from ansible_collections.nodowntime.k8s.plugins.module_utils._argspec import check_wait
from ansible_collections.nodowntime.k8s.plugins.module_utils._backends.rolled_back import rolled_back
from ansible_collections.nodowntime.k8s.plugins.module_utils._backends.task_failed import TaskFailed
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s import rollouts
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.client import side_by_side
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.errors import ApiError
from ansible_collections.nodowntime.k8s.plugins.module_utils._plan import autoscaler, canary_replicas
from ansible_collections.nodowntime.k8s.plugins.module_utils._release import progress_record
from ansible_collections.nodowntime.k8s.plugins.module_utils._status import verdict

ROLES = ("canary", "stable")  # canary first: its failures are the ones to see early


class StepFailed(Exception):
    def __init__(self, result):
        super().__init__(result.message)
        self.result = result


def recorded_total(deployments):
    return (deployments["canary"]["metadata"].get("annotations") or {}).get(canary_replicas.TOTAL_ANNOTATION)


def plan(deployments, params, hpa=None):
    """(current, target, total, note): replica counts per role, the total to record, and what an HPA on stable
    changed (stable is never written; the canary's share starts from the HPA's count now); CanaryError if
    impossible."""
    current = {role: deployments[role]["spec"].get("replicas", 1) for role in ROLES}
    if hpa:
        canary_replicas.check_step(params["weight"], params["mode"])
        target, note = autoscaler.canary(current, params["weight"], hpa, params["mode"], params["min_replicas"])
        return current, target, max(1, current["stable"]), note
    total, _source = canary_replicas.resolve_total(
        params["total_replicas"], recorded_total(deployments), current["stable"], current["canary"]
    )
    canary, stable = canary_replicas.split(total, params["weight"], params["mode"], params["min_replicas"])
    return current, {"canary": canary, "stable": stable}, total, ""


def record_for(deployments, total, progress, now):
    """The canary's annotations this step changes: the total, and the progress when given and new."""
    annotations = {}
    if recorded_total(deployments) != str(total):
        annotations[canary_replicas.TOTAL_ANNOTATION] = str(total)
    if progress_record.differs(deployments["canary"], progress):
        annotations.update(progress_record.annotations(progress, now))
    return annotations


def state_for_diff(deployments, replicas, total, progress=None):
    state = {role: {"name": deployments[role]["metadata"]["name"], "replicas": replicas[role]} for role in ROLES}
    state["total_replicas"] = total
    if progress is not None:
        state["progress"] = progress
    return state


def wait_for(client, deployments, roles, timeout, timeline):
    """Wait until every role is rolled out at its count (the canary first, so its fail-fast verdict comes
    first), then ask the earlier roles again: one may have failed while a later one was waited on (a canary
    ready for a moment, crashing while stable shrank). StepFailed on a failed verdict or at the shared
    deadline."""
    deadline = time.monotonic() + timeout
    for role in (*roles, *roles[:-1]):
        result, _state = rollouts.wait_for_rollout(
            client, "Deployment", deployments[role], max(1, deadline - time.monotonic()), timeline
        )
        if result.state != verdict.DONE:
            raise StepFailed(result)


def apply(client, params, deployments, current, target, record, timeline, dry_run, reached=None):
    """Patch in scale_order, waiting after each scale-up; with dry_run only the API's dry run, no waits.
    reached (a dict, when given) follows each role's replicas as patched, for a rollback after a failed wait.

    record (the canary's annotations to change) goes with the first patch: the canary's own when it comes
    first, otherwise alone before it, so a run killed mid-step has recorded the step already."""
    namespace = params["namespace"]
    dry = " (dry run)" if dry_run else ""
    steps = canary_replicas.scale_order(current, target)
    with_canary = bool(steps) and steps[0][0] == "canary"
    if record and not with_canary:
        patch = {"metadata": {"annotations": record}}
        client.patch("Deployment", namespace, params["canary"], patch, patch_type="merge", dry_run=dry_run)
        timeline.add(f"recorded {', '.join(sorted(record))} on {params['canary']}{dry}")
    for index, (role, replicas) in enumerate(steps):
        patch = {"spec": {"replicas": replicas}}
        if index == 0 and with_canary and record:
            patch["metadata"] = {"annotations": record}
        client.patch("Deployment", namespace, params[role], patch, patch_type="merge", dry_run=dry_run)
        timeline.add(f"scaled {role} {params[role]} from {current[role]} to {replicas}{dry}")
        if dry_run:
            continue
        if reached is not None:
            reached[role] = replicas
        grows = replicas > current[role]
        last = (role, replicas) == steps[-1]
        # A side that grows must be serving before the other side shrinks; the last step waits only if asked.
        if (grows and not last) or (last and params["wait"]):
            wait_for(client, deployments, (role,) if not last else ROLES, params["wait_timeout"], timeline)
    if not steps and params["wait"] and not dry_run:
        wait_for(client, deployments, ROLES, params["wait_timeout"], timeline)


def check(params):
    progress = progress_record.validate(params["progress"])
    canary_replicas.check_step(params["weight"], params["mode"])
    if params["stable"] == params["canary"]:
        raise canary_replicas.CanaryError(f"stable and canary must be two Deployments, both are {params['stable']!r}")
    if params["min_replicas"] < 1:
        raise canary_replicas.CanaryError(f"min_replicas must be >= 1, got {params['min_replicas']}")
    if params["min_replicas"] > 1 and params["mode"] != canary_replicas.CAPACITY:
        raise canary_replicas.CanaryError(
            f"min_replicas applies to mode capacity only (the other modes split the pods), got mode {params['mode']}"
        )
    if params.get("rollback_on_failure") and params["mode"] == canary_replicas.CAPACITY:
        # Behind a router the route may still send the canary a share: the route must move back before the pods go.
        raise canary_replicas.CanaryError(
            "rollback_on_failure needs the pods to split the traffic (mode keep_total or surge); with mode "
            "capacity a traffic router sends the canary its share, and the route must go back before the pods"
        )
    if params["total_replicas"] is not None and params["total_replicas"] < 1:
        raise canary_replicas.CanaryError(f"total_replicas must be >= 1, got {params['total_replicas']}")
    check_wait(params)
    return progress


def as_left(deployments, reached, record):
    """The Deployments as a failed step left them (its patches applied), known without reading them again."""
    left = {role: dict(d, spec=dict(d["spec"], replicas=reached[role])) for role, d in deployments.items()}
    meta = left["canary"]["metadata"]
    left["canary"]["metadata"] = dict(meta, annotations=dict(meta.get("annotations") or {}, **record))
    return left


def step(client, params, progress, check_mode, timeline, warn, known=None):
    """known: (deployments, hpa) as they are, when the caller has just seen them (a rollback: no reads first)."""
    changed = False
    step_report = {}  # filled in before anything can raise StepFailed
    try:
        if known:
            deployments, hpa = known
        else:  # side by side: one round trip before the first change (an analysis' abort comes here)
            ns = params["namespace"]
            *found, hpa = side_by_side(
                *(lambda role=role: client.get("Deployment", ns, params[role]) for role in ROLES),
                lambda: rollouts.autoscaler_of(client, ns, params["stable"]),
            )
            deployments = dict(zip(ROLES, found, strict=True))
        current, target, total, note = plan(deployments, params, hpa)
        if note:
            timeline.add(note)
            warn(note)
        recorded = recorded_total(deployments)
        record = record_for(deployments, total, progress, datetime.now(timezone.utc))
        progress_before = progress_record.recorded(deployments["canary"])
        progress_after = progress_record.recorded({"metadata": {"annotations": record}}) or progress_before
        changed = current != target or bool(record)
        step_report = {
            "stable_replicas": target["stable"],
            "canary_replicas": target["canary"],
            "requested_weight": params["weight"],
            "total_replicas": total,
            "actual_weight": canary_replicas.actual_weight(target["canary"], target["stable"]),
            "progress": progress_after,
            "autoscaler": autoscaler.summary(hpa),
        }
        shown = progress is not None
        diff = {
            "before": state_for_diff(deployments, current, recorded, progress_before if shown else None),
            "after": state_for_diff(deployments, target, str(total), progress_after if shown else None),
        }
        reached = dict(current)
        apply(client, params, deployments, current, target, record, timeline, check_mode, reached)
    except canary_replicas.CanaryError as e:
        raise TaskFailed(str(e), {"timeline": timeline.entries}) from None
    except ApiError as e:
        raise TaskFailed(e.message, {"changed": changed, "timeline": timeline.entries}) from None
    except StepFailed as e:
        failed = e.result
        result = {
            "reason": failed.reason,
            "failing_pods": list(failed.failing_pods),
            "changed": changed,
            "timeline": timeline.entries,
            **step_report,
        }
        if params.get("rollback_on_failure") and not check_mode:
            # In this process, on the verdict's own watch event: a rescue task would start ~0.5 s later.
            result = rolled_back(
                result,
                failed.message,
                lambda cause: to_zero(
                    client, params, progress, cause, timeline, warn, known=(as_left(deployments, reached, record), hpa)
                ),
                "the canary to 0",
            )
        raise TaskFailed(failed.message, result) from None
    return {"changed": changed, "diff": diff, "timeline": timeline.entries, **step_report}


def to_zero(client, params, progress, cause, timeline, warn, check_mode=False, known=None):
    """Weight 0 now, as the role's rescue would (stable at its count first, then the canary to 0), recording the
    given progress (if any) with phase rolling_back and the cause, so the rescue's own weight 0 finds nothing to
    change."""
    back = dict(params, weight=0, rollback_on_failure=False)
    record = None if progress is None else dict(progress, phase="rolling_back", cause=cause)
    timeline.add(f"rolling back: {params['canary']} to 0 ({cause})")
    return step(client, back, record, check_mode, timeline, warn, known)
