# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One run of the rollout module: change the Deployment, wait, roll back on failure.

    task(client, params, _checked, check_mode, timeline, warn) -> report (for exit_json)
    raises TaskFailed(message, report)           (for fail_json)
        the module's whole task: run() holding params["lock"] when given, released whatever
        happened, and the report: run()'s result with images, timeline and duration_seconds
    run(client, options, check_mode, timeline, lock=None) -> result
    raises TaskFailed(message, result)

lock: a _backends.lock.Held, taken once the options are checked and before anything changes
(lock.Refused goes through); the caller releases it.

options are the module's parameters.  result carries outcome, reason, message,
revision, previous_revision, replicas, failing_pods, changed, diff and autoscaler (the HPA
that owns the Deployment's replicas, whose count a definition never overwrites, and a note when
the definition asked for another; {} without one); task() adds images, timeline and
duration_seconds, and warns with the note.
"""

from __future__ import annotations

import datetime

from ansible_collections.nodowntime.k8s.plugins.module_utils._backends.lock import Held, Refused
from ansible_collections.nodowntime.k8s.plugins.module_utils._backends.task_failed import TaskFailed
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s import rollouts
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.errors import ApiError
from ansible_collections.nodowntime.k8s.plugins.module_utils._plan import (
    autoscaler,
    deployment_variant,
    revisions,
    rollout_change,
)
from ansible_collections.nodowntime.k8s.plugins.module_utils._status import verdict as v

KIND = "Deployment"


def _get_or_none(client, namespace, name):
    try:
        return client.get(KIND, namespace, name)
    except ApiError as e:
        if e.status == 404:
            return None
        raise


def _result(outcome, message, deployment, previous_revision, changed, reason=None, failing_pods=()):
    return {
        "outcome": outcome,
        "reason": reason,
        "message": message,
        "changed": changed,
        "revision": revisions.revision(deployment) if deployment else None,
        "previous_revision": previous_revision,
        "replicas": rollout_change.replicas(deployment),
        "failing_pods": list(failing_pods),
    }


def _change(client, options, current, check_mode, body=None):
    """Sends the change the state asks for; returns (object after, what was done) or (current, None).

    body: the Deployment to apply when options has a definition."""
    ns, name, state = options["namespace"], options["name"], options["state"]
    paused = bool(current and current["spec"].get("paused"))
    if state in ("paused", "resumed"):
        want = state == "paused"
        if paused == want:
            return current, None
        return client.patch(KIND, ns, name, {"spec": {"paused": want}}, dry_run=check_mode), state
    if state == "restarted":
        if paused:
            raise ValueError(f"cannot restart paused deployment {name!r}; resume it first (state: resumed)")
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return client.patch(KIND, ns, name, rollout_change.restart_patch(now), dry_run=check_mode), "restarted"
    if state == "rolled_back":
        target, after, current = rollouts.undo(client, ns, name, options.get("to_revision"), dry_run=check_mode)
        return (after, f"rolled back to revision {revisions.revision(target)}") if after else (current, None)
    if paused and options["wait"]:
        raise ValueError(
            f"deployment {name!r} is paused, so its rollout would never progress; resume it "
            "(state: resumed) or set wait: false to stage changes while it is paused"
        )
    if body is not None:
        after = client.apply(KIND, ns, body, dry_run=check_mode)
    else:
        patch = rollout_change.change_patch(options, current)
        if not patch:
            return current, None
        after = client.patch(KIND, ns, name, patch, dry_run=check_mode)
    if not rollout_change.spec_changed(current, after):
        return current, None
    return after, "created" if current is None else "updated"


def task(client, params, _checked, check_mode, timeline, warn):
    held = Held(client, params["namespace"], params["lock"], check_mode, timeline.add) if params["lock"] else None
    failure = None
    try:
        result = run(client, params, check_mode, timeline, held)
    except Refused as e:
        refused = {"action": e.result["action"], "holder": e.result["holder"], "message": e.message, "released": False}
        raise TaskFailed(
            e.message, report({"reason": "Locked", "message": e.message}, timeline, lock=refused)
        ) from None
    except TaskFailed as e:
        failure, result = e.message, e.result
    except ApiError as e:
        failure, result = e.message, {"outcome": "failed", "reason": e.reason, "message": e.message, "changed": False}
    # Released whatever happened: the rollout is over, complete, rolled back or failed.
    extra = {"lock": held.release()} if held else {}
    for warning in held.warnings if held else ():
        warn(warning)
    if (result.get("autoscaler") or {}).get("note"):
        warn(result["autoscaler"]["note"])
    if failure is not None:
        raise TaskFailed(failure, report(result, timeline, **extra))
    return report(result, timeline, **extra)


def report(result, timeline, **extra):
    base = {
        "outcome": "failed",
        "reason": None,
        "message": "",
        "revision": None,
        "previous_revision": None,
        "replicas": {},
        "failing_pods": [],
        "changed": False,
        "autoscaler": {},
    }
    # The diff holds the specs before and after the change, so a caller's report needs no read of its own.
    diff = result.get("diff") or {}
    return {
        **base,
        **result,
        "images": {
            side: deployment_variant.images({"spec": diff[side]}) if side in diff else {}
            for side in ("before", "after")
        },
        "timeline": timeline.entries,
        "duration_seconds": round(timeline.elapsed(), 3),
        **extra,
    }


def run(client, options, check_mode, timeline, lock=None):
    ns, name, state = options["namespace"], options["name"], options["state"]
    current = _get_or_none(client, ns, name)
    if current is None and state != "present":
        raise TaskFailed(
            f"Deployment {name!r} not found in namespace {ns!r}",
            _result("failed", "", None, None, False, reason="NotFound"),
        )
    errors = rollout_change.check(options, current)
    if errors:
        raise TaskFailed("; ".join(errors), _result("failed", "", current, None, False, reason="Invalid"))
    if lock is not None:
        try:
            lock.take()
        except ValueError as e:
            raise TaskFailed(f"lock: {e}", _result("failed", "", current, None, False, reason="Invalid")) from None
    previous = revisions.revision(current) if current else None
    # An HPA owns the live replicas: a definition's spec.replicas never overwrites them.
    hpa = rollouts.autoscaler_of(client, ns, name) if current and options.get("definition") is not None else None
    try:
        body, note = (
            autoscaler.held(rollout_change.manifest(options), current, hpa)
            if options.get("definition") is not None
            else (None, "")
        )
        after, done = _change(client, options, current, check_mode, body)
    except (ValueError, revisions.RevisionError) as e:
        raise TaskFailed(str(e), _result("failed", str(e), current, previous, False, reason="Refused")) from None
    scaled = {"autoscaler": dict(autoscaler.summary(hpa), note=note) if hpa else {}}
    if note:
        timeline.add(note)
    changed = done is not None
    if changed:
        timeline.add(f"deployment {name!r} {done}" + (" (dry run)" if check_mode else ""))
    diff = {"before": (current or {}).get("spec", {}), "after": after["spec"]}

    if state != "status" and (check_mode or state == "paused" or not options["wait"]):
        outcome = "complete" if changed else "unchanged"
        said = (
            "dry run: nothing was changed"
            if check_mode
            else "not waiting (wait: false)"
            if changed
            else "no change needed"
        )
        return dict(_result(outcome, said, after, previous, changed), diff=diff, **scaled)

    try:
        return dict(_judge(client, options, after, previous, changed, diff, timeline), **scaled)
    except TaskFailed as e:
        e.result.update(scaled)
        raise
    except ApiError as e:
        # The change went through before the API failed the wait: the result must say it changed.
        failed = _result("failed", e.message, after, previous, changed, reason=e.reason)
        raise TaskFailed(e.message, dict(failed, diff=diff, **scaled)) from None


def _judge(client, options, after, previous, changed, diff, timeline):
    """Waits (or looks once) for the rollout after the change, rolls back on failure; the result."""
    state = options["state"]
    if options["wait"]:
        verdict, state_seen = rollouts.wait_for_rollout(
            client,
            KIND,
            after,
            options["wait_timeout"],
            timeline,
            fail_fast=options["fail_fast"],
            fail_on_unschedulable=options["fail_on_unschedulable"],
            # after is what the change's PATCH returned: the wait begins from it instead of a list.
            fresh=changed,
        )
        final, replica_sets = (state_seen["owner"] or [after])[0], state_seen.get("replica_sets_read")
    else:
        verdict, final, replica_sets = rollouts.status_now(client, KIND, after), after, None
    if verdict.state == v.DONE:
        outcome = "rolled_back" if state == "rolled_back" and changed else "complete" if changed else "unchanged"
        return dict(_result(outcome, verdict.message, final, previous, changed), diff=diff)
    if verdict.state == v.WAITING:  # state=status without waiting
        return dict(_result("unchanged", verdict.message, final, previous, False, reason="Progressing"), diff=diff)

    timeline.add(f"rollout failed ({verdict.reason})")
    failed = _result("failed", verdict.message, final, previous, changed, verdict.reason, verdict.failing_pods)
    failed["diff"] = diff
    if not options["rollback_on_failure"] or state in ("status", "rolled_back"):
        raise TaskFailed(verdict.message, failed)
    back = _roll_back(client, options, verdict, final, replica_sets, previous if changed else None, failed, timeline)
    raise TaskFailed(*back)


def _roll_back(client, options, verdict, failed_deployment, replica_sets, previous, failed, timeline):
    """Undo, wait for the undo; returns (message, result) for the TaskFailed to raise.

    failed_deployment, replica_sets: as the wait last saw them (replica_sets None when it read none)."""
    name, bad = options["name"], revisions.revision(failed_deployment)
    what = f"rollout of deployment {name!r} to revision {bad} failed: {verdict.message}"
    target = options.get("to_revision") or previous
    try:
        # The failed Deployment and its ReplicaSets as the wait last saw them: no read before the first
        # corrective change.
        target_rs, after, live = rollouts.undo(
            client, options["namespace"], name, target, seen=failed_deployment, replica_sets=replica_sets
        )
    except (ApiError, revisions.RevisionError) as e:
        return f"{what}; and it could not be rolled back: {e}", failed
    target = revisions.revision(target_rs)
    timeline.add(f"rolling back to revision {target}")
    # Not failed on Unschedulable pods: the room the failed pods hold comes free as they go.
    undone, seen = rollouts.wait_for_rollout(
        client,
        KIND,
        after or live,
        options["wait_timeout"],
        timeline,
        fail_fast=options["fail_fast"],
        fresh=after is not None,
    )
    final = (seen["owner"] or [after or live])[0]
    if undone.state != v.DONE:
        result = dict(failed, message=f"{what}; the rollback to revision {target} did not complete: {undone.message}")
        return result["message"], dict(
            result, replicas=rollout_change.replicas(final), revision=revisions.revision(final)
        )
    counts = rollout_change.replicas(final)
    message = (
        f"{what}; rolled back: revision {target} serves again as revision {revisions.revision(final)} "
        f"({counts['available']}/{counts['desired']} pods available)"
    )
    result = dict(
        failed,
        outcome="rolled_back",
        message=message,
        changed=True,
        revision=revisions.revision(final),
        replicas=counts,
    )
    return message, result
