"""The release engine's transitions, strategy by strategy: where a run starts, where a killed run
resumes (each phase tests/integration/faults/test_interrupted.py kills a run in), what the rescue undoes."""

import pytest

from ansible_collections.nodowntime.k8s.plugins.module_utils._release import engine

V1, V2 = "shop:1", "shop:2"
HOLDER = "ansible-playbook pid 4242 on ci-1"


def blue_green(**fields):
    """What a blue/green run killed after its switch to green recorded on the Service, with fields changed."""
    last = {"strategy": "blue_green", "holder": HOLDER, "from": V1, "to": V2, "colour": "green", "previous": "blue"}
    return dict(last, **dict({"phase": "switched", "at": "2026-12-05T21:00:00Z"}, **fields))


def canary(**fields):
    """What a canary run killed in its first step recorded on the canary, with fields changed."""
    last = {"strategy": "canary", "holder": HOLDER, "from": V1, "to": V2, "step": 0, "weight": 50}
    return dict(last, **dict({"phase": "step", "at": "2026-12-05T21:00:00Z"}, **fields))


BLUE_LIVE = {"stage": "begin", "live": "blue", "live_version": V1}
GREEN_LIVE = {"stage": "begin", "live": "green", "live_version": V2}
BG = {"strategy": "blue_green", "to": V2}


@pytest.mark.parametrize(
    "recorded, observed, action, phase, colours",
    [
        pytest.param({}, BLUE_LIVE, "deploy", "", ("green", "blue"), id="nothing-recorded-deploys-the-idle-colour"),
        pytest.param({}, GREEN_LIVE, "deploy", "", ("blue", "green"), id="green-live-deploys-blue"),
        pytest.param(
            blue_green(phase="done", outcome="complete"),
            GREEN_LIVE,
            "deploy",
            "",
            ("blue", "green"),
            id="a-finished-release-is-not-resumed",
        ),
        # test_blue_green_killed_after_the_new_colour_was_created_...: nothing recorded before the switch.
        pytest.param({}, BLUE_LIVE, "deploy", "", ("green", "blue"), id="killed-before-the-switch-plans-again"),
        # test_blue_green_killed_after_the_switch_converges_on_the_next_run
        pytest.param(
            blue_green(), GREEN_LIVE, "verify_switch", "switched", ("green", "blue"), id="killed-after-switch"
        ),
        pytest.param(
            blue_green(), BLUE_LIVE, "deploy", "", ("green", "blue"), id="switched-but-the-service-was-put-back"
        ),
        pytest.param(blue_green(to="shop:3"), GREEN_LIVE, "deploy", "", ("blue", "green"), id="another-version"),
        pytest.param(
            dict(blue_green(), strategy="canary"), GREEN_LIVE, "deploy", "", ("blue", "green"), id="another-strategy"
        ),
        # test_blue_green_killed_while_switching_back_finishes_the_rollback_on_the_next_run
        pytest.param(
            blue_green(phase="rolling_back", outcome="switched_back", cause="analysis failed"),
            BLUE_LIVE,
            "finish_rollback",
            "rolling_back",
            ("green", "blue"),
            id="killed-while-switching-back-finishes-it",
        ),
        pytest.param(
            blue_green(phase="rolling_back"),
            GREEN_LIVE,
            "deploy",
            "",
            ("blue", "green"),
            id="rolling-back-but-the-service-shows-the-new-colour",
        ),
        pytest.param(
            {"phase": "unreadable", "text": "{"}, BLUE_LIVE, "deploy", "", ("green", "blue"), id="unreadable-progress"
        ),
    ],
)
def test_blue_green_begins_or_resumes(recorded, observed, action, phase, colours):
    decided = engine.next_step(BG, recorded, observed)
    assert (decided.action, decided.phase, (decided.colour, decided.previous)) == (action, phase, colours)


def test_a_resumed_blue_green_keeps_the_version_the_killed_run_replaced():
    assert engine.next_step(BG, blue_green(), GREEN_LIVE).from_version == V1
    assert engine.next_step(BG, {}, BLUE_LIVE).from_version == V1


@pytest.mark.parametrize(
    "recorded, live, note",
    [
        pytest.param({}, BLUE_LIVE, "", id="nothing-recorded-says-nothing"),
        pytest.param(blue_green(phase="done"), GREEN_LIVE, "", id="a-finished-release-says-nothing"),
        pytest.param(
            blue_green(),
            GREEN_LIVE,
            f"resuming run {HOLDER} stopped at switched ({V1} -> {V2}, blue -> green, at 2026-12-05T21:00:00Z)",
            id="resumed-names-the-run-and-phase",
        ),
        pytest.param(
            blue_green(phase="rolling_back", cause="gate failed"),
            GREEN_LIVE,
            f"not resuming run {HOLDER} stopped at rolling_back ({V1} -> {V2}, blue -> green, at 2026-12-05T21:00:00Z)"
            f": gate failed; this run releases {V2} from what the cluster shows",
            id="not-resumed-says-what-this-run-does",
        ),
        pytest.param(
            {"phase": "unreadable", "text": "{"},
            BLUE_LIVE,
            f"not resuming run ? stopped at unreadable (? -> ?, ? -> ?, at ?); this run releases {V2} from what "
            "the cluster shows",
            id="unreadable-progress-is-named",
        ),
    ],
)
def test_blue_green_says_where_the_last_run_stopped(recorded, live, note):
    assert engine.next_step(BG, recorded, live).note == note


def test_finishing_a_rollback_fails_with_the_killed_runs_cause():
    decided = engine.next_step(BG, blue_green(phase="rolling_back", cause="error_rate < `0.01`"), BLUE_LIVE)
    assert decided.why == f"run {HOLDER} stopped while rolling back: error_rate < `0.01`"


@pytest.mark.parametrize(
    "recorded, reached, action, outcome",
    [
        pytest.param({}, "", "fail", "failed", id="failed-before-any-change"),
        pytest.param({}, "deployed", "scale_down", "rolled_back", id="failed-before-the-switch-removes-the-colour"),
        pytest.param({}, "switched", "switch_back", "switched_back", id="failed-after-the-switch-switches-back"),
        pytest.param(blue_green(), "switched", "switch_back", "switched_back", id="resumed-after-switch-then-failed"),
        pytest.param(
            blue_green(phase="rolling_back", outcome="switched_back"),
            "rolling_back",
            "scale_down",
            "switched_back",
            id="finished-rollback-keeps-the-killed-runs-outcome",
        ),
        pytest.param(
            blue_green(phase="rolling_back"), "rolling_back", "scale_down", "rolled_back", id="no-recorded-outcome"
        ),
    ],
)
def test_blue_green_rescue_undoes_what_the_run_reached(recorded, reached, action, outcome):
    decided = engine.next_step(BG, recorded, {"stage": "failed", "reached": reached})
    assert (decided.action, decided.outcome, decided.undo) == (action, outcome, action != "fail")


STEPS = ({"weight": 50}, {"pause": 1})
CANARY = {"strategy": "canary", "to": V2, "action": "run", "steps": list(STEPS)}
CANARY_SEEN = {"stage": "begin", "stable_version": V1, "stable_replicas": 2, "canary_replicas": 2, "recorded_total": 4}


@pytest.mark.parametrize(
    "recorded, action, phase, step",
    [
        pytest.param({}, "create", "", 0, id="nothing-recorded-creates-the-canary"),
        pytest.param(canary(phase="done", outcome="complete"), "create", "", 0, id="finished-release-starts-again"),
        # test_canary_killed_mid_step_promotes_on_the_next_run
        pytest.param(canary(), "resume_step", "step", 0, id="killed-mid-step-resumes-that-step"),
        pytest.param(canary(weight=25), "create", "", 0, id="other-steps-start-from-the-first"),
        pytest.param(canary(step=5), "create", "", 0, id="a-step-the-steps-do-not-have"),
        pytest.param(canary(step=1, weight=None), "create", "", 0, id="a-step-without-weight-is-not-resumed"),
        pytest.param(canary(to="shop:3"), "create", "", 0, id="another-version-starts-fresh"),
        # test_canary_killed_while_rolling_back_finishes_the_rollback_on_the_next_run
        pytest.param(canary(phase="rolling_back", cause="gate"), "finish_rollback", "rolling_back", 0, id="rollback"),
        pytest.param(canary(phase="promoted"), "finish_promotion", "promoted", 0, id="killed-while-retiring"),
    ],
)
def test_canary_run_begins_or_resumes(recorded, action, phase, step):
    decided = engine.next_step(CANARY, recorded, CANARY_SEEN)
    assert (decided.action, decided.phase, decided.step) == (action, phase, step)
    assert decided.steps == STEPS


@pytest.mark.parametrize(
    "recorded, seen, total, from_version",
    [
        pytest.param({}, CANARY_SEEN, 4, V1, id="fresh-counts-both-sides"),
        pytest.param(canary(), dict(CANARY_SEEN, stable_replicas=1, recorded_total=4), 4, V1, id="resumed-keeps-total"),
        pytest.param(canary(), dict(CANARY_SEEN, recorded_total=None), 4, V1, id="resumed-without-a-total"),
        pytest.param(
            canary(phase="promoted"), dict(CANARY_SEEN, stable_version=V2), 4, V1, id="promoted-keeps-the-old-from"
        ),
        pytest.param({}, dict(CANARY_SEEN, canary_replicas=0, recorded_total=9), 2, V1, id="fresh-ignores-old-total"),
    ],
)
def test_canary_keeps_capacity_and_the_replaced_version(recorded, seen, total, from_version):
    decided = engine.next_step(CANARY, recorded, seen)
    assert (decided.replicas, decided.from_version) == (total, from_version)


ROUTED = dict(CANARY, router="gateway_api")


@pytest.mark.parametrize(
    "recorded, seen, action, total",
    [
        pytest.param({}, CANARY_SEEN, "create", 2, id="gateway-sizes-the-canary-against-stable-alone"),
        pytest.param(canary(), CANARY_SEEN, "resume_step", 4, id="gateway-killed-mid-step-keeps-recorded-total"),
        pytest.param(
            canary(), dict(CANARY_SEEN, recorded_total=None), "resume_step", 2, id="gateway-killed-before-any-total"
        ),
        pytest.param(
            canary(phase="rolling_back", cause="gate"),
            CANARY_SEEN,
            "finish_rollback",
            4,
            id="gateway-killed-rolling-back",
        ),
        pytest.param(canary(phase="promoted"), CANARY_SEEN, "finish_promotion", 4, id="gateway-killed-while-retiring"),
        pytest.param(canary(phase="done", outcome="aborted"), CANARY_SEEN, "create", 2, id="gateway-after-an-abort"),
    ],
)
def test_canary_behind_a_gateway_resumes_like_the_replica_canary(recorded, seen, action, total):
    decided = engine.next_step(ROUTED, recorded, seen)
    assert (decided.action, decided.replicas) == (action, total)


@pytest.mark.parametrize(
    "recorded, note",
    [
        pytest.param({}, "", id="nothing-recorded-says-nothing"),
        pytest.param(
            canary(),
            f"resuming run {HOLDER} stopped at step 0 (weight 50) ({V1} -> {V2}, at 2026-12-05T21:00:00Z)",
            id="mid-step-names-step-and-weight",
        ),
        pytest.param(
            canary(phase="rolling_back", cause="gate"),
            f"resuming run {HOLDER} stopped at rolling_back ({V1} -> {V2}, at 2026-12-05T21:00:00Z): gate",
            id="rolling-back-names-the-cause",
        ),
        pytest.param(
            canary(to="shop:3"),
            f"not resuming run {HOLDER} stopped at step 0 (weight 50) ({V1} -> shop:3, at 2026-12-05T21:00:00Z); "
            f"this run releases {V2} from the first step",
            id="not-resumed-says-what-this-run-does",
        ),
    ],
)
def test_canary_says_where_the_last_run_stopped(recorded, note):
    assert engine.next_step(CANARY, recorded, CANARY_SEEN).note == note


@pytest.mark.parametrize(
    "action, observed, expected",
    [
        pytest.param("promote", {"refusal": "not 1.4.2"}, ("refuse", "refused", 0, ()), id="promote-another-canary"),
        pytest.param("abort", {"refusal": "not 1.4.2"}, ("refuse", "refused", 0, ()), id="abort-another-canary"),
        pytest.param("abort", {}, ("roll_back", "aborted", 0, ()), id="abort-goes-back-to-stable"),
        pytest.param("promote", {"paused_at": None}, ("fail", "", 0, ()), id="promote-with-nothing-paused"),
        pytest.param(
            "promote",
            {"paused_at": 1, "recorded_steps": [{"weight": 25}, {"pause": "manual"}, {"weight": 50}]},
            ("resume_step", "", 2, ({"weight": 25}, {"pause": "manual"}, {"weight": 50})),
            id="promote-carries-on-after-the-pause-with-the-recorded-steps",
        ),
    ],
)
def test_canary_decisions_on_a_paused_canary(action, observed, expected):
    decided = engine.next_step(dict(CANARY, action=action), {}, dict(observed, canary="ns/web-canary"))
    assert (decided.action, decided.outcome, decided.step, decided.steps) == expected


def test_promote_with_nothing_paused_names_the_canary():
    decided = engine.next_step(dict(CANARY, action="promote"), {}, {"canary": "ns/web-canary"})
    assert decided.why == "ns/web-canary has no paused canary release to promote"


@pytest.mark.parametrize(
    "observed, expected",
    [
        pytest.param({"stage": "failed", "refusal": "another canary"}, ("refuse", "refused"), id="refused-undoes-none"),
        pytest.param({"stage": "failed", "failure": {"msg": "gate"}}, ("roll_back", "rolled_back"), id="failed-step"),
    ],
)
def test_canary_rescue(observed, expected):
    decided = engine.next_step(CANARY, canary(), observed)
    assert (decided.action, decided.outcome, decided.undo) == (*expected, expected[0] == "roll_back")


LOCKED_OUT = {"stage": "failed", "lock_in_module": True, "failure": {"reason": "Locked"}}


@pytest.mark.parametrize(
    "strategy, observed, expected",
    [
        # test_rolling_update_killed_mid_rollout_finishes_on_the_next_run: the same change, applied again.
        pytest.param("rolling_update", {"stage": "begin"}, ("roll_out", ""), id="rolling-update-rolls-out"),
        pytest.param("rolling_update", LOCKED_OUT, ("stop", "refused"), id="rolling-update-locked-out-stops"),
        pytest.param(
            "rolling_update",
            dict(LOCKED_OUT, lock_in_module=False),
            ("fail", "failed"),
            id="locked-after-probes-changed-something-fails",
        ),
        # test_rollback_killed_mid_undo_rolls_back_again_on_the_next_run
        pytest.param(
            "rolling_update",
            {"stage": "failed", "failure": {"outcome": "rolled_back"}},
            ("fail", "rolled_back"),
            id="rolling-update-undone-by-the-module",
        ),
        pytest.param(
            "rolling_update", {"stage": "failed", "failure": {"msg": "bad"}}, ("fail", "failed"), id="nothing-undone"
        ),
        pytest.param("rollback", {"stage": "begin"}, ("roll_back", ""), id="rollback-rolls-back"),
        pytest.param("rollback", LOCKED_OUT, ("stop", "refused"), id="rollback-locked-out-stops"),
        # Whatever the module says it did, a rollback that failed reports failed.
        pytest.param(
            "rollback", {"stage": "failed", "failure": {"outcome": "rolled_back"}}, ("fail", "failed"), id="rollback"
        ),
    ],
)
def test_rolling_update_and_rollback_leave_the_undo_to_the_module(strategy, observed, expected):
    decided = engine.next_step({"strategy": strategy, "to": V2}, {}, observed)
    assert (decided.action, decided.outcome, decided.undo) == (*expected, False)


@pytest.mark.parametrize(
    "spec, observed, said",
    [
        pytest.param({"strategy": "recreate"}, {}, "strategy must be one of", id="unknown-strategy"),
        pytest.param(BG, {"stage": "later"}, "observed.stage must be begin or failed", id="unknown-stage"),
    ],
)
def test_what_the_engine_does_not_decide_is_refused(spec, observed, said):
    with pytest.raises(engine.EngineError, match=said):
        engine.next_step(spec, {}, observed)
