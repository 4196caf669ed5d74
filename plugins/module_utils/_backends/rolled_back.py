# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A failed task that makes its own corrective change (Argo Rollouts' abort) before it fails.

rolled_back(failed, message, correct, what) -> the failed result after correct(cause) ran

The change runs in the task's own process, right after the verdict: a rescue task would start ~0.5 s
later (AnsiballZ, imports) before its first request.  cause is what the role's rescue will call the
failure (report.cause), so the progress the change records is the one the rescue would record.
"""

from __future__ import annotations

from datetime import datetime, timezone

from ansible_collections.nodowntime.k8s.plugins.module_utils._backends.task_failed import TaskFailed
from ansible_collections.nodowntime.k8s.plugins.module_utils._release import progress_record, report


def utc_now():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def rolled_back(failed, message, correct, what):
    """failed (the result the task fails with, message its msg) after correct(cause) -> the change's result.

    outcome rolled_back, rolled_back_at (UTC, when the change began; the timeline has each patch on the
    monotonic clock), its diff, and the change's own result under rollback, its progress without the time "at" (as a
    rescue passes it again to find nothing to change); outcome failed when the change failed too."""
    cause = report.cause(dict(failed, msg=message))
    at = utc_now()
    try:
        done = correct(cause)
    except TaskFailed as e:
        return dict(failed, outcome="failed", rollback={"failed": True, "msg": f"{what} failed: {e.message}"})
    kept = {key: value for key, value in done.items() if key not in ("diff", "timeline")}
    kept["progress"] = {
        key: value for key, value in (done.get("progress") or {}).items() if key != progress_record.STAMP
    }
    return dict(
        failed,
        changed=failed.get("changed", False) or done["changed"],
        outcome="rolled_back",
        rolled_back_at=at,
        diff=done.get("diff", {}),
        progress=done.get("progress", failed.get("progress")),
        rollback=dict(kept, message=f"rolled back in the task: {what}"),
    )
