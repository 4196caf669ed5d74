# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a release does next, for every strategy: the decisions the strategy roles ask for.  Pure.

    next_step(spec, recorded, observed) -> Next

spec is what the run was asked to do: {"strategy": "rolling_update" | "blue_green" | "canary" | "rollback",
"to": the version it releases, "action": "run" | "promote" | "abort" (canary), "steps": [...] (canary),
"router": "replicas" | "gateway_api" (canary)}.
recorded is the progress the last run left on the release's anchor (the Service for blue/green, the
canary Deployment for a canary; see progress_record.py), {} when none.  observed is what this run sees:
its "stage" ("begin" before any change, "failed" in the rescue), the cluster as read, and in the
rescue what this run "reached" and the "failure" (the failed task's result).

At "begin" a run resumes the last one only for the same release (same strategy, same version) and
only from a phase the cluster still shows; anything else, a finished release included, starts from
what the cluster shows.  In the rescue the action says what to undo: the outcome and the undo follow
from how far the release got, so a run killed while undoing finishes that undo when run again.

Actions, by stage:
    begin   rolling_update: roll_out;  rollback: roll_back
            blue_green: deploy | verify_switch (resumed after the switch) | finish_rollback
            canary: create | resume_step | finish_promotion | finish_rollback (run);
                    resume_step | refuse | fail (promote: no paused canary); roll_back | refuse (abort)
    failed  stop (refused before any change: not this run's lock or report) | refuse (nothing changed,
            the report says why) | fail (nothing to undo) | switch_back | scale_down (blue_green) |
            roll_back (canary)
"""

from __future__ import annotations

from dataclasses import dataclass

# rollback is playbooks/rollback.yml: a rolling update's undo, with a rescue of its own.
STRATEGIES = ("rolling_update", "blue_green", "canary", "rollback")
FINISHED = "done"


@dataclass(frozen=True)
class Next:
    """The next action and why; the rest is what that action needs, empty where it needs nothing."""

    action: str
    phase: str = ""  # the phase a resumed run starts from, "" for a fresh start
    why: str = ""
    note: str = ""  # where the last run stopped, to say and record; "" when it finished or there was none
    outcome: str = ""  # the report's outcome, set where this action decides it
    undo: bool = False  # in the rescue: the strategy has something to put back (its undo tasks run)
    step: int = 0  # canary: the first step to run
    steps: tuple = ()  # canary: the steps to run them from
    replicas: int | None = None  # canary: the total both Deployments keep
    colour: str = ""  # blue/green: the new colour
    previous: str = ""  # blue/green: the colour serving before this release
    from_version: str | None = None  # what served before the release


class EngineError(ValueError):
    """The spec or the observed state is not one the engine decides on; the message says which."""


def next_step(spec, recorded, observed):
    strategy = spec.get("strategy")
    if strategy not in STRATEGIES:
        raise EngineError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
    stage = observed.get("stage", "begin")
    if stage not in ("begin", "failed"):
        raise EngineError(f"observed.stage must be begin or failed, got {stage!r}")
    return _DECIDE[strategy, stage](spec, recorded or {}, observed)


def _same_release(spec, recorded):
    return recorded.get("strategy") == spec["strategy"] and recorded.get("to", "") == spec.get("to", "")


def _stopped(recorded, resumed, where, after):
    """Where the last run stopped, unless it finished: the note a re-run says and records."""
    if recorded.get("phase", FINISHED) == FINISHED:
        return ""
    last = recorded.get
    cause = f": {last('cause')}" if last("cause") else ""
    return (
        f"{'resuming run ' if resumed else 'not resuming run '}{last('holder', '?')} stopped at {last('phase')}"
        f"{where} ({last('from', '?')} -> {last('to', '?')}{after}, at {last('at', '?')}){cause}"
    )


def _rolling_back(recorded):
    """The failure a resumed rollback is finished with: the rescue does the undo the killed run was doing."""
    return f"run {recorded.get('holder')} stopped while rolling back: {recorded.get('cause') or ''}"


def _locked_out(observed):
    # The changing module held the lock in its own call and found another run holding it: nothing
    # changed, and the lock and the report are that run's.
    return bool(observed.get("lock_in_module")) and (observed.get("failure") or {}).get("reason") == "Locked"


def _rolling_update_begin(spec, recorded, observed):
    # The Deployment is declarative: a re-run applies the same change and the controller carries on.
    return Next("roll_out", why="a rolling update resumes by applying the same change again")


def _rolling_update_failed(spec, recorded, observed):
    if _locked_out(observed):
        return Next("stop", why="another run holds the lock; nothing changed", outcome="refused")
    undone = (observed.get("failure") or {}).get("outcome") == "rolled_back"
    return Next(
        "fail",
        why="the rollout module undid its change" if undone else "nothing was undone",
        outcome="rolled_back" if undone else "failed",
    )


def _rollback_begin(spec, recorded, observed):
    # The undo is one module run that waits for itself: a re-run undoes again from what the cluster shows.
    return Next("roll_back", why="roll the Deployment back to the revision asked for")


def _rollback_failed(spec, recorded, observed):
    if _locked_out(observed):
        return Next("stop", why="another run holds the lock; nothing changed", outcome="refused")
    return Next("fail", why="the rollback did not finish", outcome="failed")


def _blue_green_resume(spec, recorded, live):
    if not _same_release(spec, recorded):
        return ""
    phase = recorded.get("phase")
    # The Service shows the phase: the selector on the new colour after the switch, on the old one
    # while rolling back.
    if phase == "switched" and live == recorded.get("colour"):
        return phase
    if phase == "rolling_back" and live == recorded.get("previous"):
        return phase
    return ""


def _blue_green_begin(spec, recorded, observed):
    live = observed["live"]
    resume = _blue_green_resume(spec, recorded, live)
    after = f", {recorded.get('previous', '?')} -> {recorded.get('colour', '?')}"
    note = _stopped(recorded, resume, "", after)
    if note and not resume:
        note += f"; this run releases {spec.get('to')} from what the cluster shows"
    plan = {"phase": resume, "note": note}
    if resume == "switched":
        return Next(
            "verify_switch",
            why="the last run switched the Service: verify the new colour and retire the old one",
            colour=recorded.get("colour"),
            previous=recorded.get("previous"),
            from_version=recorded.get("from"),
            **plan,
        )
    if resume == "rolling_back":
        return Next(
            "finish_rollback",
            why=_rolling_back(recorded),
            colour=recorded.get("colour"),
            previous=live,
            from_version=recorded.get("from"),
            **plan,
        )
    return Next(
        "deploy",
        why="no release of this version to resume: deploy the idle colour next to the live one",
        colour="green" if live == "blue" else "blue",
        previous=live,
        from_version=observed.get("live_version"),
        **plan,
    )


def _blue_green_failed(spec, recorded, observed):
    reached = observed.get("reached", "")
    if reached == "rolling_back":
        # Resumed to finish a rollback: the outcome is the one the killed run decided.
        outcome = recorded.get("outcome") or "rolled_back"
        return Next("scale_down", why="finish the rollback the last run started", outcome=outcome, undo=True)
    if reached == "switched":
        return Next(
            "switch_back", why="the new colour is live: switch back to the old one", outcome="switched_back", undo=True
        )
    if reached == "deployed":
        return Next(
            "scale_down", why="the new colour took no traffic yet: remove its pods", outcome="rolled_back", undo=True
        )
    return Next("fail", why="nothing changed yet", outcome="failed")


def _canary_same_step(spec, recorded):
    steps = spec.get("steps") or []
    index = recorded.get("step", 0)
    step = steps[index] if isinstance(index, int) and 0 <= index < len(steps) else {}
    # The same step only with the same steps: the recorded step's weight is the one asked for now.
    return "weight" in step and step["weight"] == recorded.get("weight", -1)


def _canary_resume(spec, recorded):
    if not _same_release(spec, recorded):
        return ""
    phase = recorded.get("phase")
    if phase in ("rolling_back", "promoted") or (phase == "step" and _canary_same_step(spec, recorded)):
        return phase
    return ""


def _canary_run(spec, recorded, observed):
    resume = _canary_resume(spec, recorded)
    where = f" {recorded.get('step')} (weight {recorded.get('weight')})" if recorded.get("phase") == "step" else ""
    note = _stopped(recorded, resume, where, "")
    if note and not resume:
        note += f"; this run releases {spec.get('to')} from the first step"
    stable = observed.get("stable_replicas") or 0
    # Behind a traffic router (gateway_api) the pods are capacity: the canary is sized against stable
    # alone, and pods an older canary left are not traffic to keep. Without one both sides' pods count.
    fresh = stable if spec.get("router") == "gateway_api" else stable + (observed.get("canary_replicas") or 0)
    # A run killed mid-step left stable shrunk and the canary grown: the total it recorded is kept
    # (without one, the fresh count), so capacity never drops on a re-run.
    total = (observed.get("recorded_total") or fresh) if resume else fresh
    plan = {
        "phase": resume,
        "note": note,
        "replicas": int(total),
        "steps": tuple(spec.get("steps") or ()),
        "from_version": recorded.get("from") if resume else observed.get("stable_version"),
    }
    if resume == "step":
        step = recorded["step"]
        return Next("resume_step", why=f"the last run stopped in step {step}: run it again", step=step, **plan)
    if resume == "promoted":
        return Next("finish_promotion", why="stable already runs the new version: retire the canary", **plan)
    if resume == "rolling_back":
        return Next("finish_rollback", why=_rolling_back(recorded), **plan)
    return Next("create", why="no release of this version to resume: create the canary, then the steps", **plan)


def _canary_begin(spec, recorded, observed):
    action = spec.get("action", "run")
    if action == "run":
        return _canary_run(spec, recorded, observed)
    refusal = observed.get("refusal") or ""
    if refusal:
        return Next("refuse", why=refusal, outcome="refused")
    if action == "abort":
        return Next("roll_back", why="aborted by playbook abort.yml", outcome="aborted")
    paused = observed.get("paused_at")
    if paused is None:
        return Next("fail", why=f"{observed.get('canary')} has no paused canary release to promote")
    # The steps the paused run recorded, not today's defaults: promote carries on the run that paused.
    return Next(
        "resume_step",
        why=f"promoted after the manual pause at step {paused}",
        step=int(paused) + 1,
        steps=tuple(observed.get("recorded_steps") or ()),
    )


def _canary_failed(spec, recorded, observed):
    refusal = observed.get("refusal") or ""
    if refusal:
        return Next("refuse", why=refusal, outcome="refused")
    return Next("roll_back", why="send all traffic back to stable", outcome="rolled_back", undo=True)


_DECIDE = {
    ("rolling_update", "begin"): _rolling_update_begin,
    ("rolling_update", "failed"): _rolling_update_failed,
    ("rollback", "begin"): _rollback_begin,
    ("rollback", "failed"): _rollback_failed,
    ("blue_green", "begin"): _blue_green_begin,
    ("blue_green", "failed"): _blue_green_failed,
    ("canary", "begin"): _canary_begin,
    ("canary", "failed"): _canary_failed,
}
