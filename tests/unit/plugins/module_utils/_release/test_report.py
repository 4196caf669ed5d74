"""The report every strategy writes: its steps from module results, why a release failed, the failure's words."""

import pytest

from ansible_collections.nodowntime.k8s.plugins.module_utils._release import report

AT = "2026-12-05T21:00:00.000Z"
RUNNING = {
    "strategy": "blue_green",
    "application": "web",
    "namespace": "shop",
    "outcome": "running",
    "from_version": "shop:1",
    "to_version": "shop:2",
    "rollback_cause": None,
    "steps": [],
}


@pytest.mark.parametrize(
    "result, expected",
    [
        pytest.param(
            {"message": "rolled out", "msg": "ignored", "duration_seconds": 4.2},
            {"ok": True, "message": "rolled out", "seconds": 4.2},
            id="rollout-message-and-duration",
        ),
        pytest.param(
            {"msg": "selector switched", "switch_seconds": 0.3},
            {"ok": True, "message": "selector switched", "seconds": 0.3},
            id="switch-msg-and-switch-time",
        ),
        pytest.param(
            {"message": "", "msg": "ignored"}, {"ok": True, "message": "", "seconds": None}, id="empty-message-kept"
        ),
        pytest.param({"failed": True}, {"ok": False, "message": "", "seconds": None}, id="failed-without-words"),
        pytest.param(
            {"duration_seconds": None, "switch_seconds": 1}, {"ok": True, "message": "", "seconds": None}, id="untimed"
        ),
    ],
)
def test_a_step_is_the_modules_own_result(result, expected):
    assert report.line("deploy green", result, AT) == dict(expected, step="deploy green", at=AT)


def test_a_step_is_added_to_a_copy_of_the_report():
    added = report.step(RUNNING, "switch to green", {"msg": "switched"}, AT)
    assert [s["step"] for s in added["steps"]] == ["switch to green"] and RUNNING["steps"] == []


@pytest.mark.parametrize(
    "failure, given, cause",
    [
        pytest.param({"msg": "boom"}, "", "boom", id="the-message"),
        pytest.param({"reason": "Timeout", "message": "not ready"}, "", "Timeout: not ready", id="reason-first"),
        pytest.param(
            {"msg": "analysis failed", "measurements": [{"message": "ok"}, {"message": "error_rate < `0.01`: no"}]},
            "",
            "analysis failed; error_rate < `0.01`: no",
            id="analysis-adds-its-last-measurement",
        ),
        pytest.param({}, "", "unknown failure", id="nothing-said"),
        pytest.param(None, "", "unknown failure", id="no-result"),
        pytest.param({"msg": "boom"}, "aborted by playbook abort.yml", "aborted by playbook abort.yml", id="given"),
    ],
)
def test_the_cause_says_why(failure, given, cause):
    assert report.cause(failure, given) == cause


def test_a_failure_adds_its_step_outcome_and_cause():
    failed = report.failed(RUNNING, "switched_back", {"failed": True, "msg": "gate"}, "", "Post-switch analysis", AT)
    assert failed["steps"] == [
        {"step": "Post-switch analysis", "at": AT, "ok": False, "message": "gate", "seconds": None}
    ]
    assert (failed["outcome"], failed["rollback_cause"]) == ("switched_back", "gate")
    assert RUNNING["steps"] == []  # the report given is left as it was


def test_a_task_that_rolled_back_itself_adds_the_rollback_as_a_step_at_its_time():
    failure = {
        "failed": True,
        "msg": "gate",
        "outcome": "rolled_back",
        "rolled_back_at": "2026-12-05T21:00:01.250Z",
        "rollback": {"changed": True, "message": "rolled back in the task: web-canary to 0, web serving"},
    }
    failed = report.failed(RUNNING, "rolled_back", failure, "", "Analysis: step 1", AT)
    assert failed["steps"][1] == {
        "step": "Analysis: step 1: rollback",
        "at": "2026-12-05T21:00:01.250Z",
        "ok": True,
        "message": "rolled back in the task: web-canary to 0, web serving",
        "seconds": None,
    }
    assert failed["rollback_cause"] == "gate"


def test_a_failure_with_no_task_or_result_still_records_a_step():
    failed = report.failed(RUNNING, "failed", None, "", None, AT)
    assert failed["steps"][0]["step"] == "unknown task" and failed["steps"][0]["ok"] is False


@pytest.mark.parametrize(
    "strategy, outcome, serving, headline",
    [
        pytest.param(
            "blue_green",
            "switched_back",
            "blue colour",
            "blue/green release of shop/web to shop:2: switched_back (blue colour serving): why",
            id="blue-green-names-the-serving-colour",
        ),
        pytest.param(
            "canary",
            "rolled_back",
            "stable",
            "canary release of shop/web to shop:2: rolled_back (stable serving): why",
            id="canary-says-stable-serves",
        ),
        pytest.param(
            "rolling_update", "failed", "", "rolling update of shop/web to shop:2: failed: why", id="rolling-update"
        ),
        pytest.param("rollback", "failed", "", "rollback of shop/web failed: why", id="rollback"),
    ],
)
def test_the_headline_a_failed_release_fails_with(strategy, outcome, serving, headline):
    failed = dict(RUNNING, strategy=strategy, outcome=outcome, rollback_cause="why")
    assert report.headline(failed, serving) == headline


def test_a_version_not_known_yet_is_left_empty_in_the_headline():
    failed = dict(RUNNING, strategy="rolling_update", to_version=None, outcome="failed", rollback_cause="bad option")
    assert report.headline(failed) == "rolling update of shop/web to : failed: bad option"
