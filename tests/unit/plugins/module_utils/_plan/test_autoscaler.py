"""Replicas an HPA owns: what the collection may write, in tables of named rows."""

import copy

import pytest
import rollout_objects

from ansible_collections.nodowntime.k8s.plugins.module_utils._plan import autoscaler


def hpa(target="web-blue", low=2, high=10, kind="Deployment", name="web"):
    found = rollout_objects.hpa(target, low, high, name)
    found["spec"]["scaleTargetRef"]["kind"] = kind
    return found


def deployment(name="web-blue", replicas=3):
    spec = {"template": {"spec": {"containers": [{"name": "app", "image": "shop:1"}]}}}
    if replicas is not None:
        spec["replicas"] = replicas
    return {"kind": "Deployment", "metadata": {"name": name}, "spec": spec}


@pytest.mark.parametrize(
    "hpas, name, found",
    [
        pytest.param([hpa("web-blue")], "web-blue", "web", id="targets-it"),
        pytest.param([hpa("web-green", name="g"), hpa("web-blue", name="b")], "web-blue", "b", id="one-of-several"),
        pytest.param([hpa("web-green")], "web-blue", None, id="targets-another-deployment"),
        pytest.param([hpa("web-blue", kind="StatefulSet")], "web-blue", None, id="same-name-other-kind"),
        pytest.param([], "web-blue", None, id="no-hpa"),
        pytest.param(None, "web-blue", None, id="nothing-read"),
    ],
)
def test_owner(hpas, name, found):
    got = autoscaler.owner(hpas, name)
    assert (got["metadata"]["name"] if got else None) == found


@pytest.mark.parametrize(
    "replicas, scaler, want",
    [
        pytest.param(3, hpa(low=2, high=10), 3, id="within-bounds-kept"),
        pytest.param(1, hpa(low=2, high=10), 2, id="below-min-raised"),
        pytest.param(12, hpa(low=2, high=10), 10, id="above-max-lowered"),
        pytest.param(0, hpa(low=None, high=5), 1, id="min-defaults-to-one"),
        pytest.param(7, None, 7, id="no-hpa-unchanged"),
    ],
)
def test_clamp(replicas, scaler, want):
    assert autoscaler.clamp(replicas, scaler) == want


@pytest.mark.parametrize(
    "definition, current, scaler, replicas, warned",
    [
        pytest.param(deployment(replicas=2), deployment(replicas=6), hpa(), 6, True, id="hpa-count-kept-over-ours"),
        pytest.param(deployment(replicas=None), deployment(replicas=6), hpa(), 6, False, id="left-out-keeps-live"),
        pytest.param(deployment(replicas=6), deployment(replicas=6), hpa(), 6, False, id="same-count-no-note"),
        pytest.param(deployment(replicas=2), deployment(replicas=6), None, 2, False, id="no-hpa-ours-applies"),
        pytest.param(deployment(replicas=2), None, hpa(), 2, False, id="created-ours-applies"),
    ],
)
def test_held(definition, current, scaler, replicas, warned):
    given = copy.deepcopy(definition)
    body, note = autoscaler.held(definition, current, scaler)
    assert body["spec"].get("replicas") == replicas
    assert bool(note) is warned
    if warned:
        assert "HorizontalPodAutoscaler 'web'" in note and "kept its 6" in note
    assert definition == given  # a copy, not changed in place


@pytest.mark.parametrize(
    "live, scaler, want",
    [
        pytest.param(deployment(replicas=5), hpa(low=2, high=10), 5, id="hpa-scaled-count-copied"),
        pytest.param(deployment(replicas=1), hpa(low=3, high=10), 3, id="min-raised-mid-release"),
        pytest.param(deployment(replicas=4), None, 4, id="no-hpa-live-count"),
        pytest.param(deployment(replicas=None), None, 1, id="unset-is-one"),
    ],
)
def test_colour_replicas(live, scaler, want):
    assert autoscaler.colour_replicas(live, scaler) == want


@pytest.mark.parametrize(
    "scaler, name, patch",
    [
        pytest.param(
            hpa("web-blue"), "web-green", {"spec": {"scaleTargetRef": {"name": "web-green"}}}, id="follows-switch"
        ),
        pytest.param(hpa("web-green"), "web-green", {}, id="already-there-idempotent"),
        pytest.param(None, "web-green", {}, id="no-hpa-nothing"),
    ],
)
def test_retarget(scaler, name, patch):
    assert autoscaler.retarget(scaler, name) == patch


def test_summary():
    assert autoscaler.summary(hpa(low=None, high=4)) == {
        "name": "web",
        "min_replicas": 1,
        "max_replicas": 4,
        "target": "web-blue",
    }
    assert not autoscaler.summary(None)


@pytest.mark.parametrize(
    "hpas, live, replicas, target",
    [
        pytest.param(
            [hpa("web-blue", low=2)], deployment(replicas=5), 5, "web-blue", id="old-colour-scaled-count-copied"
        ),
        pytest.param([hpa("web-blue", low=4)], deployment(replicas=2), 4, "web-blue", id="min-raised-before-plan"),
        pytest.param([hpa("web-green", low=2)], deployment(replicas=3), 3, "web-green", id="resumed-after-switch"),
        pytest.param([hpa("shop-api")], deployment(replicas=3), 3, None, id="another-app-hpa-ignored"),
        pytest.param([], deployment(replicas=3), 3, None, id="no-hpa"),
    ],
)
def test_blue_green(hpas, live, replicas, target):
    plan = autoscaler.blue_green(hpas, live, "web-blue", "web-green")
    assert plan["replicas"] == replicas
    assert plan["autoscaler"].get("target") == target
    if target is None:
        assert plan["follow"] == plan["back"] == {}
    else:
        assert plan["follow"]["spec"]["scaleTargetRef"]["name"] == "web-green"
        assert plan["back"]["spec"]["scaleTargetRef"]["name"] == "web-blue"
        assert set(plan["follow"]["spec"]) == {"scaleTargetRef"}  # nothing else of the user's HPA


@pytest.mark.parametrize(
    "current, weight, want",
    [
        pytest.param({"canary": 0, "stable": 4}, 25, {"canary": 1, "stable": 4}, id="quarter-of-hpa-count-on-top"),
        pytest.param({"canary": 1, "stable": 8}, 25, {"canary": 2, "stable": 8}, id="hpa-raised-stable-canary-follows"),
        pytest.param({"canary": 2, "stable": 4}, 0, {"canary": 0, "stable": 4}, id="retire-stable-untouched"),
        pytest.param({"canary": 0, "stable": 3}, 1, {"canary": 1, "stable": 3}, id="at-least-one-canary-pod"),
        pytest.param({"canary": 0, "stable": 0}, 50, {"canary": 1, "stable": 0}, id="hpa-disabled-at-zero"),
    ],
)
def test_canary(current, weight, want):
    target, note = autoscaler.canary(current, weight, hpa("web"))
    assert target == want
    assert note.startswith("HorizontalPodAutoscaler 'web' owns the replicas of stable 'web'")


@pytest.mark.parametrize(
    "current, weight, floor, want",
    [
        pytest.param({"canary": 0, "stable": 10}, 11, 1, {"canary": 2, "stable": 10}, id="router-rounds-up-hpa-count"),
        pytest.param({"canary": 0, "stable": 4}, 1, 2, {"canary": 2, "stable": 4}, id="router-floor"),
        pytest.param({"canary": 2, "stable": 4}, 0, 2, {"canary": 0, "stable": 4}, id="router-retire-stable-untouched"),
    ],
)
def test_canary_behind_a_router(current, weight, floor, want):
    target, _note = autoscaler.canary(current, weight, hpa("web"), "capacity", floor)
    assert target == want
