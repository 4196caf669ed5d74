"""Replica math of canary_scale: the issue's cases, Argo Rollouts' published cases, and the rules as properties."""

import pytest

from ansible_collections.nodowntime.k8s.plugins.module_utils._plan.canary_replicas import (
    CAPACITY,
    KEEP_TOTAL,
    SURGE,
    TOTAL_ANNOTATION,
    CanaryError,
    actual_weight,
    resolve_total,
    round_half_up,
    scale_order,
    split,
)

# (total, weight, canary, stable) in keep_total mode.  Rows marked "argo" are the maxSurge-0
# rows of Argo Rollouts' TestApproximateWeightedCanaryStableReplicaCounts (utils/replicaset).
KEEP_TOTAL_TABLE = [
    # the cases
    (10, 14, 1, 9),
    (10, 15, 2, 8),
    (10, 0, 0, 10),
    (10, 100, 10, 0),
    # total 1: one pod cannot be on both sides; it goes where the weight rounds (argo)
    (1, 0, 0, 1),
    (1, 1, 0, 1),
    (1, 49, 0, 1),
    (1, 50, 1, 0),
    (1, 99, 1, 0),
    (1, 100, 1, 0),
    # total 2 (argo for 0, 1, 50, 99, 100)
    (2, 0, 0, 2),
    (2, 1, 1, 1),
    (2, 49, 1, 1),
    (2, 50, 1, 1),
    (2, 99, 1, 1),
    (2, 100, 2, 0),
    # total 3 (argo for 49, 50)
    (3, 0, 0, 3),
    (3, 1, 1, 2),
    (3, 49, 1, 2),
    (3, 50, 2, 1),  # 1.5 rounds half up
    (3, 99, 2, 1),
    (3, 100, 3, 0),
    # more argo rows
    (3, 10, 1, 2),
    (3, 25, 1, 2),
    (3, 33, 1, 2),
    (3, 34, 1, 2),
    (10, 1, 1, 9),
    (10, 16, 2, 8),
    (10, 99, 9, 1),
    # the canary steps the integration test walks, on 4 pods
    (4, 10, 1, 3),
    (4, 25, 1, 3),
    (4, 50, 2, 2),
    (4, 100, 4, 0),
    (4, 49, 2, 2),  # 1.96 -> 2
    (4, 62, 2, 2),  # 2.48 -> 2
    (4, 63, 3, 1),  # 2.52 -> 3
    # weight% of the total is total - 1/2: Argo's maxSurge-0 search has no candidate and gives canary 0
    (2, 75, 1, 1),
    (5, 90, 4, 1),
    (10, 95, 9, 1),
]


@pytest.mark.parametrize("total,weight,canary,stable", KEEP_TOTAL_TABLE)
def test_keep_total_table(total, weight, canary, stable):
    assert split(total, weight, KEEP_TOTAL) == (canary, stable)


SURGE_TABLE = [
    # stable stays at the total; the canary gets weight% of it on top, at least 1 while weight > 0
    (1, 0, 0, 1),
    (1, 1, 1, 1),
    (1, 49, 1, 1),
    (1, 50, 1, 1),
    (1, 99, 1, 1),
    (1, 100, 1, 1),
    (2, 1, 1, 2),
    (2, 50, 1, 2),
    (2, 99, 2, 2),
    (3, 49, 1, 3),
    (3, 50, 2, 3),
    (10, 14, 1, 10),
    (10, 15, 2, 10),
    (10, 100, 10, 10),
    # nearest, where Argo's traffic-routed canary rounds up (ceil) to 2
    (10, 11, 1, 10),
    (4, 26, 1, 4),
    (10, 50, 5, 10),
]


@pytest.mark.parametrize("total,weight,canary,stable", SURGE_TABLE)
def test_surge_table(total, weight, canary, stable):
    assert split(total, weight, SURGE) == (canary, stable)


def nearest_canary(total, weight):
    """Brute force over every possible canary count: the nearest share to the weight, ties to the
    larger count, each side >= 1 while 0 < weight < 100 when there are two pods to share."""
    candidates = range(total + 1)
    if 0 < weight < 100 and total >= 2:
        candidates = range(1, total)
    return min(candidates, key=lambda c: (abs(100 * c - weight * total), -c))


@pytest.mark.parametrize("total", range(1, 41))
def test_keep_total_is_nearest_share_for_every_weight(total):
    for weight in range(101):
        canary, stable = split(total, weight, KEEP_TOTAL)
        assert canary + stable == total
        assert canary == nearest_canary(total, weight), (total, weight)
        if 0 < weight < 100 and total >= 2:
            assert canary >= 1 and stable >= 1


@pytest.mark.parametrize("total", range(1, 41))
def test_weight_never_shrinks_the_canary(total):
    for mode in (KEEP_TOTAL, SURGE):
        counts = [split(total, w, mode)[0] for w in range(101)]
        assert counts == sorted(counts), mode


def test_round_half_up_is_exact():
    assert [round_half_up(n, 100) for n in (49, 50, 149, 150, 250)] == [0, 1, 1, 2, 3]


@pytest.mark.parametrize(
    "args,message",
    [
        ((10, 101), "weight must be an integer from 0 to 100, got 101"),
        ((10, -1), "weight must be an integer from 0 to 100, got -1"),
        ((0, 50), "total_replicas must be an integer >= 1, got 0"),
        ((10, 50, "blue"), "mode must be one of keep_total, surge, capacity, got 'blue'"),
    ],
)
def test_split_refuses_bad_input(args, message):
    with pytest.raises(CanaryError) as e:
        split(*args)
    assert str(e.value) == message


@pytest.mark.parametrize(
    "canary,stable,weight", [(1, 9, 10.0), (1, 2, 33.33), (0, 4, 0.0), (4, 0, 100.0), (0, 0, 0.0), (2, 4, 33.33)]
)
def test_actual_weight(canary, stable, weight):
    assert actual_weight(canary, stable) == weight


def test_resolve_total_prefers_option_then_annotation_then_current():
    assert resolve_total(8, "4", 3, 1) == (8, "option")
    assert resolve_total(None, "4", 2, 1) == (4, "annotation")
    assert resolve_total(None, None, 3, 1) == (4, "current")


@pytest.mark.parametrize(
    "args,fragment",
    [
        ((None, "many", 3, 0), f"annotation {TOTAL_ANNOTATION} on the canary must be an integer >= 1, got 'many'"),
        ((None, "0", 3, 0), "got '0'; set total_replicas to repair it"),
        ((None, None, 0, 0), "total_replicas is not set and stable and canary both have 0 replicas"),
        ((0, None, 3, 0), "total_replicas must be >= 1, got 0"),
    ],
)
def test_resolve_total_refuses(args, fragment):
    with pytest.raises(CanaryError) as e:
        resolve_total(*args)
    assert fragment in str(e.value)


@pytest.mark.parametrize(
    "current,target,order",
    [
        # weight up: canary grows first, stable shrinks after
        ({"canary": 0, "stable": 4}, {"canary": 1, "stable": 3}, [("canary", 1), ("stable", 3)]),
        # weight down (abort): stable grows first, canary shrinks after
        ({"canary": 2, "stable": 2}, {"canary": 0, "stable": 4}, [("stable", 4), ("canary", 0)]),
        # surge: stable untouched
        ({"canary": 0, "stable": 4}, {"canary": 2, "stable": 4}, [("canary", 2)]),
        # nothing to do
        ({"canary": 2, "stable": 2}, {"canary": 2, "stable": 2}, []),
    ],
)
def test_scale_order_grows_before_it_shrinks(current, target, order):
    assert scale_order(current, target) == order


@pytest.mark.parametrize(
    "total, weight, floor, canary",
    [
        pytest.param(10, 11, 1, 2, id="capacity-rounds-up"),
        pytest.param(10, 10, 1, 1, id="capacity-exact"),
        pytest.param(4, 1, 1, 1, id="capacity-one-percent-one-pod"),
        pytest.param(4, 1, 2, 2, id="capacity-floor"),
        pytest.param(4, 0, 2, 0, id="capacity-weight-0-no-pods-whatever-the-floor"),
        pytest.param(4, 100, 1, 4, id="capacity-all-the-traffic-all-the-pods"),
        pytest.param(2, 50, 3, 3, id="capacity-floor-above-the-share"),
    ],
)
def test_capacity_sizes_the_canary_for_its_share_and_keeps_stable(total, weight, floor, canary):
    assert split(total, weight, CAPACITY, floor) == (canary, total)
