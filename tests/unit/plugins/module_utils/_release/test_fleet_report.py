"""The fleet report: waves as ansible-core batches serial, one row per cluster, the tables and the picture."""

import json
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.nodowntime.k8s.plugins.module_utils._release import fleet_report

HOSTS = [f"c{n}" for n in range(1, 8)]
T0, T1, T2 = "2026-12-05T10:00:00Z", "2026-12-05T10:00:30Z", "2026-12-05T10:01:10Z"
DONE = {"strategy": "rolling_update", "outcome": "complete", "from_version": "v1", "to_version": "v2"}
DOWN = "Unreachable: cannot reach the API server at https://10.0.0.1:6443 to get deployments.apps: refused"
UNDONE = dict(DONE, outcome="rolled_back", rollback_cause="ProgressDeadlineExceeded: pod web-x never ready")


@pytest.mark.parametrize(
    "serial, hosts, expected",
    [
        pytest.param([1, "10%", "100%"], HOSTS, [["c1"], ["c2"], HOSTS[2:]], id="default-waves-ten-percent-of-7-is-1"),
        pytest.param([1, 1, 1], HOSTS[:3], [["c1"], ["c2"], ["c3"]], id="one-by-one"),
        pytest.param([2], HOSTS[:5], [["c1", "c2"], ["c3", "c4"], ["c5"]], id="the-last-size-repeats"),
        pytest.param(["50%"], HOSTS[:4], [["c1", "c2"], ["c3", "c4"]], id="percentage-of-all-hosts"),
        pytest.param([], HOSTS[:3], [HOSTS[:3]], id="no-serial-is-one-wave"),
        pytest.param(0, HOSTS[:3], [HOSTS[:3]], id="zero-is-one-wave"),
        pytest.param([1, "100%"], [], [], id="no-clusters-no-waves"),
        pytest.param([5], HOSTS[:2], [HOSTS[:2]], id="a-wave-larger-than-the-fleet"),
    ],
)
def test_waves_batch_like_ansible_core(serial, hosts, expected):
    assert fleet_report.waves(serial, hosts) == expected


@pytest.mark.parametrize(
    "serial, message",
    [
        pytest.param(["ten"], "fleet_waves: 'ten' is neither", id="a-word"),
        pytest.param([1.5], "fleet_waves: 1.5 is neither", id="a-float"),
        pytest.param([True], "fleet_waves: True is neither", id="a-boolean"),
        pytest.param(["-1"], "fleet_waves: '-1' is neither", id="negative"),
    ],
)
def test_bad_waves_name_the_variable(serial, message):
    with pytest.raises(ValueError, match=message):
        fleet_report.waves(serial, HOSTS)


@pytest.mark.parametrize(
    "strategy, role",
    [
        pytest.param("rolling_update", "nodowntime.k8s.rolling_update", id="rolling-update"),
        pytest.param("blue_green", "nodowntime.k8s.blue_green", id="blue-green"),
        pytest.param("canary", "nodowntime.k8s.canary", id="canary"),
    ],
)
def test_role(strategy, role):
    assert fleet_report.role(strategy) == role


def test_an_unknown_strategy_names_the_variable():
    with pytest.raises(ValueError, match="fleet_strategy: 'rolling' is not one of rolling_update, blue_green"):
        fleet_report.role("rolling")


@pytest.mark.parametrize(
    "report, failure, outcome, ok, cause",
    [
        pytest.param(DONE, "", "complete", True, None, id="released"),
        pytest.param(dict(DONE, outcome="unchanged"), "", "unchanged", True, None, id="already-at-the-version"),
        pytest.param(UNDONE, "rolling update failed", "rolled_back", False, UNDONE["rollback_cause"], id="rolled-back"),
        pytest.param({}, "cannot load credentials", "failed", False, "cannot load credentials", id="no-report-yet"),
        pytest.param(dict(DONE, outcome="running"), "lock held", "failed", False, "lock held", id="failed-mid-run"),
        pytest.param(
            DONE,
            "analysis after the wave: x",
            "failed",
            False,
            "analysis after the wave: x",
            id="released-then-analysis-failed",
        ),
        pytest.param(dict(DONE, outcome="paused"), "", "paused", False, None, id="a-paused-canary-is-not-done"),
        pytest.param(
            dict(DONE, outcome="failed", rollback_cause=DOWN),
            "x",
            "unreachable",
            False,
            DOWN,
            id="the-api-server-did-not-answer",
        ),
        pytest.param(
            dict(UNDONE, rollback_cause=DOWN),
            "x",
            "rolled_back",
            False,
            DOWN,
            id="unreachable-after-the-change-keeps-the-rollback",
        ),
    ],
)
def test_row(report, failure, outcome, ok, cause):
    row = fleet_report.row("eu-1", report, failure, T0, T1)
    assert (row["outcome"], row["ok"], row["rollback_cause"]) == (outcome, ok, cause)
    assert (row["cluster"], row["duration_seconds"]) == ("eu-1", 30.0)


def test_a_row_keeps_the_versions_and_the_requests():
    row = fleet_report.row("eu-1", DONE, "", T0, T1, {"total": 120, "failed": 0})
    assert (row["from_version"], row["to_version"], row["requests"]) == ("v1", "v2", {"total": 120, "failed": 0})


WAVES = [["c1"], ["c2"], ["c3"]]


def _rows(*outcomes):
    reports = {"complete": DONE, "unchanged": dict(DONE, outcome="unchanged"), "rolled_back": UNDONE}
    return [
        fleet_report.row(f"c{n}", reports[o], "" if o != "rolled_back" else "failed", T0, T1)
        for n, o in enumerate(outcomes, start=1)
    ]


@pytest.mark.parametrize(
    "rows, outcomes, summary",
    [
        pytest.param(
            _rows("complete", "complete", "complete"),
            ["complete"] * 3,
            ("complete", False, [], 3),
            id="every-wave-released",
        ),
        pytest.param(
            _rows("complete"), ["complete", "not_run", "not_run"], ("running", False, [], 1), id="after-the-first-wave"
        ),
        pytest.param(
            _rows("rolled_back"),
            ["rolled_back", "not_run", "not_run"],
            ("failed", True, ["c1"], 1),
            id="first-wave-failed-halts",
        ),
        pytest.param(
            _rows("unchanged", "complete", "complete"),
            ["unchanged", "complete", "complete"],
            ("complete", False, [], 3),
            id="resumed-skips-the-released-cluster",
        ),
        pytest.param(
            _rows("complete")[:1] + _rows("complete", "complete", "complete")[2:],
            ["complete", "unreachable", "complete"],
            ("failed", False, ["c2"], 3),
            id="a-cluster-that-recorded-nothing-was-unreachable",
        ),
        pytest.param([], ["not_run"] * 3, ("running", False, [], 0), id="nothing-ran"),
    ],
)
def test_fleet(rows, outcomes, summary):
    report = fleet_report.fleet(WAVES, rows, "rolling_update", T2)
    assert [r["outcome"] for r in report["clusters"]] == outcomes
    assert [r["wave"] for r in report["clusters"]] == [1, 2, 3]
    assert (report["outcome"], report["halted"], report["failed_clusters"], report["waves_run"]) == summary
    json.dumps(report)


def test_the_markdown_has_a_row_per_cluster_and_the_reason():
    report = fleet_report.fleet(WAVES, _rows("rolled_back"), "rolling_update", T2)
    text = fleet_report.markdown(report)
    assert "halted; failed: c1" in text
    assert "| c1 | 1 | rolled_back | v1 | v2 | 30.0 |  | ProgressDeadlineExceeded: pod web-x never ready |" in text
    assert "| c3 | 3 | not_run |" in text


def test_the_markdown_escapes_pipes_and_shows_requests():
    rows = [fleet_report.row("c1", dict(UNDONE, rollback_cause="a | b"), "x", T0, T1, {"total": 9, "failed": 1})]
    text = fleet_report.markdown(fleet_report.fleet([["c1"]], rows, "rolling_update", T2))
    assert "| 1 failed of 9 | a \\| b |" in text


def test_the_picture_is_svg_with_a_bar_per_cluster_coloured_by_outcome():
    rows = _rows("complete", "rolled_back")
    rows[1] = dict(rows[1], started=T1, finished=T2)
    picture = fleet_report.svg(fleet_report.fleet(WAVES, rows, "rolling_update", T2))
    bars = ET.fromstring(picture).findall("{http://www.w3.org/2000/svg}rect")
    assert [b.get("fill") for b in bars] == ["#2e7d32", "#ef6c00", "#bdbdbd"]
    # Time across: the second cluster starts where the first ends.
    assert float(bars[1].get("x")) > float(bars[0].get("x")) + float(bars[0].get("width")) - 1


TWO_WAVES = [["c1", "c2"], ["c3", "c4"]]


def _wave_rows(*oks):
    return [fleet_report.row(f"c{n}", DONE if ok else UNDONE, "" if ok else "x", T0, T1) for n, ok in enumerate(oks, 1)]


@pytest.mark.parametrize(
    "rows, max_fail, halted",
    [
        pytest.param(_wave_rows(True, False), 0, True, id="one-of-two-failed-at-0-halts"),
        pytest.param(_wave_rows(True, False), 50, False, id="half-failed-at-50-goes-on-as-ansible-does"),
        pytest.param(_wave_rows(True, False), "49", True, id="half-failed-at-49-halts"),
        pytest.param(_wave_rows(False, False), 100, True, id="a-wave-all-failed-halts-even-at-100"),
        pytest.param(_wave_rows(True, True), 0, False, id="nothing-failed"),
        pytest.param(_wave_rows(True, False, True, False), 0, False, id="the-last-wave-has-nothing-to-halt"),
        pytest.param(_wave_rows(False, True, True, True), 0, False, id="an-earlier-wave-failed-under-a-threshold"),
    ],
)
def test_halted_follows_max_fail_percentage_on_the_last_wave_run(rows, max_fail, halted):
    assert fleet_report.fleet(TWO_WAVES, rows, "rolling_update", T2, max_fail)["halted"] is halted


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(-1, id="negative"),
        pytest.param(101, id="over-100"),
        pytest.param("all", id="a-word"),
        pytest.param(True, id="a-boolean"),
        pytest.param(None, id="none"),
    ],
)
def test_a_bad_max_fail_percentage_names_the_variable(value):
    with pytest.raises(ValueError, match=r"fleet_max_fail_percentage: .* is not a percentage from 0 to 100"):
        fleet_report.fleet(TWO_WAVES, [], "rolling_update", T2, value)


def test_rolling_back_the_wave_is_for_rolling_updates_only():
    assert fleet_report.role("rolling_update", True) == "nodowntime.k8s.rolling_update"
    with pytest.raises(
        ValueError, match="fleet_rollback_wave_on_halt: rolls back rolling_update releases only, not canary"
    ):
        fleet_report.role("canary", True)


HALTED = "the fleet halted after wave 1, where c2 failed"
ANALYSED = fleet_report.row("c1", DONE, "analysis after the wave: error_rate 0.3 > 0.1", T0, T1)


@pytest.mark.parametrize(
    "rows, max_fail, option, roll_back",
    [
        pytest.param(_wave_rows(True, False), 0, True, {"c1": HALTED}, id="the-released-cluster-of-a-halted-wave"),
        pytest.param(_wave_rows(True, False), 0, False, {}, id="off-by-default-it-keeps-the-new-version"),
        pytest.param(_wave_rows(True, False), 50, True, {}, id="not-halted-nothing-to-roll-back"),
        pytest.param(
            [dict(_wave_rows(True)[0], released=False, outcome="unchanged"), *_wave_rows(True, False)[1:]],
            0,
            True,
            {},
            id="a-cluster-already-at-the-version-was-not-released-by-this-run",
        ),
        pytest.param(
            [fleet_report.rolled_back(_wave_rows(True)[0], HALTED), *_wave_rows(True, False)[1:]],
            0,
            True,
            {},
            id="rolled-back-once-only",
        ),
        pytest.param(
            [ANALYSED, dict(_wave_rows(True)[0], cluster="c2")],
            0,
            True,
            {
                "c1": "the fleet halted after wave 1, where c1 failed",
                "c2": "the fleet halted after wave 1, where c1 failed",
            },
            id="failed-analysis-rolls-back-every-released-cluster-of-the-wave-itself-included",
        ),
        pytest.param(
            _wave_rows(True, True, True, False), 0, True, {}, id="the-last-wave-halts-nothing-rolls-back-nothing"
        ),
    ],
)
def test_roll_back_names_the_halted_waves_released_clusters(rows, max_fail, option, roll_back):
    assert fleet_report.fleet(TWO_WAVES, rows, "rolling_update", T2, max_fail, option)["roll_back"] == roll_back


def test_a_cluster_the_fleet_rolled_back_is_named_and_not_counted_failed():
    rows = [fleet_report.rolled_back(_wave_rows(True)[0], HALTED), *_wave_rows(True, False)[1:]]
    report = fleet_report.fleet(TWO_WAVES, rows, "rolling_update", T2, 0, True)
    assert [(r["cluster"], r["outcome"], r["rollback_cause"]) for r in report["clusters"][:2]] == [
        ("c1", "rolled_back", HALTED),
        ("c2", "rolled_back", UNDONE["rollback_cause"]),
    ]
    assert (report["failed_clusters"], report["rolled_back_by_fleet"], report["halted"]) == (["c2"], ["c1"], True)
    assert "; rolled back by the fleet: c1." in fleet_report.markdown(report)


def test_a_failed_fleet_rollback_fails_the_cluster_naming_both():
    rows = [
        fleet_report.rolled_back(_wave_rows(True)[0], HALTED, "lock held by another run"),
        *_wave_rows(True, False)[1:],
    ]
    report = fleet_report.fleet(TWO_WAVES, rows, "rolling_update", T2, 0, True)
    first = report["clusters"][0]
    assert (first["outcome"], first["rollback_cause"]) == (
        "failed",
        f"the fleet's rollback ({HALTED}) failed: lock held by another run",
    )
    assert (report["failed_clusters"], report["rolled_back_by_fleet"], report["roll_back"]) == (["c1", "c2"], [], {})


@pytest.mark.parametrize("value", [pytest.param("yes", id="a-string"), pytest.param(1, id="a-number")])
def test_a_bad_rollback_option_names_the_variable(value):
    with pytest.raises(ValueError, match=r"fleet_rollback_wave_on_halt: .* is not true or false"):
        fleet_report.fleet(TWO_WAVES, [], "rolling_update", T2, 0, value)
