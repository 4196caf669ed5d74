"""Analysis scoring: one measurement's verdict, and the run's phase over a sequence of verdicts."""

import json

import pytest

from ansible_collections.nodowntime.k8s.plugins.module_utils._analysis.scoring import (
    ERROR,
    FAILED,
    INCONCLUSIVE,
    SUCCESSFUL,
    AnalysisError,
    Conditions,
    Limits,
    judge_response,
    run,
)

OK_DOC = {"error_rate": 0.001}
BAD_DOC = {"error_rate": 0.3}
MID_DOC = {"error_rate": 0.02}
SUCCESS = "error_rate < `0.01`"
FAILURE = "error_rate >= `0.05`"


@pytest.mark.parametrize(
    "success,failure,document,verdict",
    [
        # no conditions: any 2xx JSON answer is a success
        (None, None, BAD_DOC, SUCCESSFUL),
        # success only: missing it is a failure
        (SUCCESS, None, OK_DOC, SUCCESSFUL),
        (SUCCESS, None, BAD_DOC, FAILED),
        (SUCCESS, None, MID_DOC, FAILED),
        # failure only: not meeting it is a success
        (None, FAILURE, OK_DOC, SUCCESSFUL),
        (None, FAILURE, MID_DOC, SUCCESSFUL),
        (None, FAILURE, BAD_DOC, FAILED),
        # both: the gap between them is inconclusive
        (SUCCESS, FAILURE, OK_DOC, SUCCESSFUL),
        (SUCCESS, FAILURE, MID_DOC, INCONCLUSIVE),
        (SUCCESS, FAILURE, BAD_DOC, FAILED),
        # both true: failure wins
        ("error_rate < `1`", "error_rate > `0.1`", BAD_DOC, FAILED),
        # a condition that gives null (missing field) or a non-bool is an error, never a pass
        (SUCCESS, None, {"errors": 3}, ERROR),
        (None, FAILURE, {"errors": 3}, ERROR),
        ("error_rate", None, BAD_DOC, ERROR),
        # mismatched types, which the jmespath library raises on
        (SUCCESS, None, {"error_rate": "low"}, ERROR),
        # a Prometheus instant-query answer
        (
            "to_number(data.result[0].value[1]) < `0.5`",
            None,
            {
                "status": "success",
                "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1.7e9, "0.25"]}]},
            },
            SUCCESSFUL,
        ),
    ],
)
def test_judge_table(success, failure, document, verdict):
    value, got, message = judge_response(Conditions(success, failure), 200, json.dumps(document))
    assert (got, value) == (verdict, document), message


@pytest.mark.parametrize(
    "status,text,conditions,verdict,fragment",
    [
        (503, '{"error_rate": 0}', Conditions(SUCCESS), ERROR, "received non 2xx response code: 503"),
        (302, "", Conditions(), ERROR, "received non 2xx response code: 302"),
        (
            None,
            "request to http://127.0.0.1:9/ failed: connection refused",
            Conditions(SUCCESS),
            ERROR,
            "connection refused",
        ),
        (200, "ok\n", Conditions(SUCCESS), ERROR, "response is not JSON"),
        (200, "ok\n", Conditions(), SUCCESSFUL, "no conditions"),
        (204, "{}", Conditions(), SUCCESSFUL, "no conditions"),
    ],
)
def test_judge_response_errors(status, text, conditions, verdict, fragment):
    _value, got, message = judge_response(conditions, status, text)
    assert got == verdict and fragment in message


def test_judge_messages_name_the_deciding_condition():
    _value, _verdict, message = judge_response(Conditions(SUCCESS), 200, json.dumps(BAD_DOC))
    assert message == "success_condition 'error_rate < `0.01`' is not met"
    _value, _verdict, message = judge_response(Conditions(SUCCESS), 200, json.dumps({"errors": 1}))
    assert message == (
        "success_condition 'error_rate < `0.01`' gave null, not true or false; "
        "check the field names and types against the response"
    )


S, F, N, E = SUCCESSFUL, FAILED, INCONCLUSIVE, ERROR

# (verdicts the endpoint gives in turn, limits, expected phase, measurements taken, message start)
SCORING_TABLE = [
    ([S], {}, S, 1, "Successful: count (1) reached (1 successful"),
    ([S, S, S], {"count": 3}, S, 3, "Successful: count (3) reached"),
    ([F], {}, F, 1, "Failed: failed (1) > failure_limit (0)"),
    # the run stops at the first decisive measurement, like an AnalysisRun
    ([S, F, S], {"count": 3}, F, 2, "Failed: failed (1) > failure_limit (0)"),
    # failures within the limit are tolerated and the count still completes
    ([S, F, S], {"count": 3, "failure_limit": 1}, S, 3, "Successful: count (3) reached (2 successful, 1 failed"),
    ([F, F, S], {"count": 3, "failure_limit": 1}, F, 2, "Failed: failed (2) > failure_limit (1)"),
    ([N], {}, N, 1, "Inconclusive: inconclusive (1) > inconclusive_limit (0)"),
    ([N, S], {"count": 2, "inconclusive_limit": 1}, S, 2, "Successful"),
    # errors are retried and do not count towards count
    ([E, S], {}, S, 2, "Successful: count (1) reached (1 successful, 0 failed, 0 inconclusive, 1 errors)"),
    ([E, E, E, E, S], {}, S, 5, "Successful"),
    ([E, E, E, E, E], {}, E, 5, "Error: consecutive errors (5) > consecutive_error_limit (4)"),
    ([E], {"consecutive_error_limit": 0}, E, 1, "Error: consecutive errors (1) > consecutive_error_limit (0)"),
    # a non-error measurement resets the consecutive count
    ([E, E, S, E, E, S], {"count": 2, "consecutive_error_limit": 2}, S, 6, "Successful"),
    ([E, E, S, E, E, E], {"count": 2, "consecutive_error_limit": 2}, E, 6, "Error: consecutive errors (3)"),
    # failure is checked before inconclusive, as in Argo's assessment
    ([N, F], {"count": 2, "inconclusive_limit": 1}, F, 2, "Failed"),
]


@pytest.mark.parametrize("verdicts,limits,phase,taken,message", SCORING_TABLE)
def test_scoring_table(verdicts, limits, phase, taken, message):
    answers = iter(verdicts)
    slept = []
    result = run(
        lambda: (None, next(answers), "m"),
        Limits(**limits),
        interval=5,
        initial_delay=0,
        sleep=slept.append,
        now=lambda: "t",
    )
    assert result["phase"] == phase
    assert len(result["measurements"]) == taken
    assert result["message"].startswith(message), result["message"]
    assert slept == [5] * (taken - 1)  # the interval between measurements, none after the last


def test_error_phase_carries_the_last_error():
    result = run(
        lambda: (None, ERROR, "received non 2xx response code: 503"),
        Limits(consecutive_error_limit=1),
        interval=0,
        initial_delay=0,
        sleep=lambda s: None,
        now=lambda: "t",
    )
    assert result["message"].endswith("; last error: received non 2xx response code: 503")


def test_initial_delay_comes_first_and_measurements_are_recorded():
    events = []
    result = run(
        lambda: events.append("measure") or ({"error_rate": 0}, SUCCESSFUL, "ok"),
        Limits(),
        interval=1,
        initial_delay=30,
        sleep=events.append,
        now=lambda: "2025-01-01T00:00:00Z",
    )
    assert events == [30, "measure"]
    assert result["measurements"] == [
        {"time": "2025-01-01T00:00:00Z", "value": {"error_rate": 0}, "verdict": SUCCESSFUL, "message": "ok"}
    ]


@pytest.mark.parametrize(
    "limits,message",
    [
        ({"count": 0}, "count must be an integer >= 1, got 0"),
        ({"failure_limit": -1}, "failure_limit must be an integer >= 0, got -1"),
        ({"inconclusive_limit": -2}, "inconclusive_limit must be an integer >= 0, got -2"),
        ({"consecutive_error_limit": -1}, "consecutive_error_limit must be an integer >= 0, got -1"),
    ],
)
def test_limits_refuse_bad_values(limits, message):
    with pytest.raises(AnalysisError) as e:
        Limits(**limits)
    assert str(e.value) == message
