# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One run of the probe_config module: patch a workload's probes, wait for the rollout the patch starts.

configure(client, params, _checked, check_mode, timeline, warn) -> result (for exit_json)
raises TaskFailed(message, result)                               (for fail_json)
"""

from __future__ import annotations

from ansible_collections.nodowntime.k8s.plugins.module_utils._backends.task_failed import TaskFailed
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s import rollouts
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.client import retry_on_conflict
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.errors import ApiError
from ansible_collections.nodowntime.k8s.plugins.module_utils._plan import probe_patch
from ansible_collections.nodowntime.k8s.plugins.module_utils._status import rollout_status
from ansible_collections.nodowntime.k8s.plugins.module_utils._status import verdict as v


def configure(client, p, _checked, check_mode, timeline, warn):
    result = {"changed": False, "message": "", "reason": None, "failing_pods": [], "timeline": timeline.entries}

    def attempt():
        workload = client.get(p["kind"], p["namespace"], p["name"])
        plan = probe_patch.plan(workload, p)
        refused = plan.ops and p["wait"] and rollout_status.refusal(p["kind"], workload)
        if refused:
            # Before the patch: the wait after it could never judge the rollout it starts.
            raise ValueError(
                f"{refused}; nothing was changed. Set wait: false to change it without waiting; "
                "its pods take the change when they are deleted."
            )
        if not plan.ops:
            return workload, plan, workload
        return (
            workload,
            plan,
            client.patch(p["kind"], p["namespace"], p["name"], plan.ops, patch_type="json", dry_run=check_mode),
        )

    try:
        try:
            workload, plan, after = retry_on_conflict(attempt)
        except ValueError as e:
            raise TaskFailed(str(e), result) from None
        for warning in plan.warnings:
            warn(warning)
        if plan.ops:
            timeline.add(f"{p['kind']} {p['name']!r} patched" + (" (dry run)" if check_mode else ""))
        container = probe_patch.view(after, p["container"])["container"]
        result.update(
            changed=bool(plan.ops),
            container=container,
            probes=probe_patch.view(after, container),
            diff={"before": probe_patch.view(workload, container), "after": probe_patch.view(after, container)},
        )
        if not plan.ops or check_mode or not p["wait"]:
            result["message"] = (
                "no change needed"
                if not plan.ops
                else "dry run: nothing was changed"
                if check_mode
                else "not waiting (wait: false)"
            )
        else:
            verdict, _state = rollouts.wait_for_rollout(client, p["kind"], after, p["wait_timeout"], timeline)
            result.update(message=verdict.message, reason=verdict.reason, failing_pods=list(verdict.failing_pods))
            if verdict.state != v.DONE:
                raise TaskFailed(verdict.message, {"duration_seconds": round(timeline.elapsed(), 3), **result})
    except ApiError as e:
        raise TaskFailed(e.message, result) from None
    return {"duration_seconds": round(timeline.elapsed(), 3), **result}
