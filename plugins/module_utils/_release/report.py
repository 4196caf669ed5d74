# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A release's report, the same for every strategy: outcome, versions, timings, steps and why.  Pure.

The report is the fact (and AWX artifact) nodowntime_report; release_run starts it, adds a step per
module run, records why a release failed and finishes it.  The clock is the caller's: every function
takes the times it writes, so the same inputs give the same report.

    line(name, result, at) -> one line of the report from a module's registered result
    step(report, name, result, at) -> the report with that line added
    cause(failure, given) -> why a release failed, from the failed task's result
    failed(report, outcome, failure, given, task, at) -> the report with the failed task's step, outcome, cause,
                                                         and the rollback the task made itself (rolled_back_at)
    headline(report, serving) -> the message a failed release fails with
"""

from __future__ import annotations

# How each strategy's failure begins; what serves afterwards follows in brackets where it can differ.
TITLES = {
    "rolling_update": "rolling update",
    "blue_green": "blue/green release",
    "canary": "canary release",
    "rollback": "rollback",
}


def _said(result, otherwise):
    # As the roles read it: message where the module set one (even empty), else msg.
    return result["message"] if "message" in result else result.get("msg", otherwise)


def line(name, result, at):
    """What, when, how it went, from the module's own result (its message and duration, if any)."""
    return {
        "step": name,
        "at": at,
        "ok": not result.get("failed", False),
        "message": _said(result, ""),
        # rollout and canary_scale time their wait; switch_selector times the switch.
        "seconds": result["duration_seconds"] if "duration_seconds" in result else result.get("switch_seconds"),
    }


def step(report, name, result, at):
    return dict(report, steps=[*report.get("steps", []), line(name, result, at)])


def cause(failure, given=""):
    """given, else the failure's reason and message; an analysis adds what its last measurement said."""
    if given:
        return given
    failure = failure or {}
    reason = failure.get("reason") or ""
    said = _said(failure, "unknown failure")
    measurements = failure.get("measurements") or [{}]
    measured = (measurements[-1] or {}).get("message") or ""
    return f"{reason + ': ' if reason else ''}{said}{'; ' + measured if measured else ''}"


def failed(report, outcome, failure, given, task, at):
    """The report after a failed task: its step (named after the task), the outcome, the cause; and when the task
    rolled back itself (canary_scale's rollback_on_failure, analysis's abort), that rollback as the next step, at
    the time it began, before the rescue's own steps find it done."""
    failure = failure if failure is not None else {"failed": True}
    task = task or "unknown task"
    done = step(report, task, failure, at)
    if failure.get("rolled_back_at"):
        done = step(done, f"{task}: rollback", failure["rollback"], failure["rolled_back_at"])
    return dict(done, outcome=outcome, rollback_cause=cause(failure, given))


def headline(report, serving=""):
    """The failed task's message: what was released, how it ended, what serves, why."""
    # As a template writes them: a version not known yet (a run that failed before reading it) is empty.
    said = {key: "" if value is None else value for key, value in report.items()}
    where = f"{said['namespace']}/{said['application']}"
    title = TITLES[said["strategy"]]
    if said["strategy"] == "rollback":
        return f"{title} of {where} failed: {said['rollback_cause']}"
    serves = f" ({serving} serving)" if serving else ""
    return f"{title} of {where} to {said['to_version']}: {said['outcome']}{serves}: {said['rollback_cause']}"
