"""The scale section's goals: judged only on what was measured, and said so in the report."""

import pytest
import stats
from m_scale import goals
from report import _goal


def size(rss=None, switch=None):
    """One size's figures as _size returns them; None leaves a figure out, as a skipped blue/green does."""
    figures = {"rollout": {"module_rss_mb": stats.summary([] if rss is None else [rss], unit="MB")}}
    figures["bluegreen"] = {} if switch is None else {"switch_seconds": stats.summary([switch])}
    return figures


ERROR = {"replicas": 5000, "error": "TimeoutError: the rollout"}


@pytest.mark.parametrize(
    ("sizes", "rss_met", "largest", "switch_met"),
    [
        ({"10": size(50, 0.1), "1000": size(50, 0.64)}, True, 1000, True),
        ({"10": size(50, 0.1), "1000": size(61, 2.5)}, False, 1000, False),
        # 5000: blue/green skipped (10000 pods do not fit), so the switch is judged at 1000
        ({"10": size(50, 0.1), "1000": size(50, 0.64), "5000": size(51)}, True, 1000, True),
        ({"10": size(50, 3.0), "1000": size(50, 0.64), "5000": size(51)}, True, 1000, True),
        # blue/green ran nowhere: nothing to judge it by
        ({"5000": size(51)}, True, None, None),
        # a size that failed keeps out of both goals; with no figure at all the memory goal is not met
        ({"10": size(50, 0.1), "5000": ERROR}, True, 10, True),
        ({"5000": ERROR}, False, None, None),
        ({"1000": size(None, 0.5)}, False, 1000, True),
    ],
)
def test_goals(sizes, rss_met, largest, switch_met):
    g = goals(sizes)
    assert (g["met"], g["bluegreen_largest_size"], g["bluegreen_met_at_largest"]) == (rss_met, largest, switch_met)


@pytest.mark.parametrize(("value", "said"), [(True, "met"), (False, "NOT met"), (None, "not measured")])
def test_the_report_says_not_measured_rather_than_not_met(value, said):
    assert _goal({"bluegreen_met_at_largest": value}, "bluegreen_met_at_largest") == said
