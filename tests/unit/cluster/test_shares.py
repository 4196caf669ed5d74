"""The canary-share check the Gateway API tests use: exact binomial acceptance intervals."""

import pytest

from localcluster.shares import acceptance, within


@pytest.mark.parametrize(
    "n, weight, interval",
    [
        pytest.param(2000, 1, (10, 32), id="one-percent-of-2000"),
        pytest.param(2000, 10, (166, 235), id="ten-percent-of-2000"),
        pytest.param(2000, 50, (942, 1058), id="half-of-2000"),
        pytest.param(2000, 0, (0, 0), id="nothing-to-the-canary"),
        pytest.param(2000, 100, (2000, 2000), id="everything-to-the-canary"),
    ],
)
def test_acceptance_intervals(n, weight, interval):
    assert acceptance(n, weight) == interval


@pytest.mark.parametrize("n, weight", [(2000, 1), (2000, 10), (500, 50), (3000, 5)])
def test_the_interval_holds_at_least_99_percent_and_its_tails_at_most_half_a_percent_each(n, weight):
    from localcluster.shares import _pmf

    pmf = _pmf(n, weight / 100)
    low, high = acceptance(n, weight)
    assert sum(pmf[low : high + 1]) >= 0.99
    assert sum(pmf[:low]) <= 0.005 and sum(pmf[high + 1 :]) <= 0.005
    assert sum(pmf[: low + 1]) > 0.005 and sum(pmf[high:]) > 0.005  # one more would break a tail


def test_within_says_whether_a_count_is_the_split():
    assert within(2000, 20, 1) and not within(2000, 40, 1) and not within(2000, 0, 1)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="need n >= 1"):
        acceptance(0, 10)
