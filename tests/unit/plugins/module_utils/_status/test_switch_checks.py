"""Selector switch checks: refusals before the patch, and the endpoint condition after it."""

import pytest

from ansible_collections.nodowntime.k8s.plugins.module_utils._status.switch_checks import (
    SwitchRefused,
    check_ready,
    endpoint_pods,
    pod_ready,
    pod_summary,
    show,
    traffic_moved,
    validate,
)

GREEN = {"app": "web", "slot": "green"}


def pod(name, labels, ready=True, deleting=False):
    metadata = {"name": name, "labels": labels}
    if deleting:
        metadata["deletionTimestamp"] = "2025-01-01T00:00:00Z"
    return {"metadata": metadata, "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def endpoint(name, ready=True, kind="Pod"):
    return {"addresses": ["10.244.0.9"], "conditions": {"ready": ready}, "targetRef": {"kind": kind, "name": name}}


def test_messages_show_the_selector_in_order():
    assert show(GREEN) == "{app: web, slot: green}"


def test_refuses_when_too_few_matching_pods_are_ready():
    pods = [pod("g1", GREEN), pod("g2", GREEN, ready=False), pod("g3", GREEN, ready=False)]
    with pytest.raises(SwitchRefused) as e:
        check_ready("web", GREEN, pods)
    assert str(e.value) == "refusing to switch web: 1 of 3 pods matching {app: web, slot: green} are ready"


def test_min_ready_lowers_the_bar_and_is_named_when_missed():
    pods = [pod("g1", GREEN), pod("g2", GREEN), pod("g3", GREEN, ready=False)]
    assert check_ready("web", GREEN, pods, min_ready=2) == ["g1", "g2"]
    with pytest.raises(SwitchRefused) as e:
        check_ready("web", GREEN, pods, min_ready=3)
    assert str(e.value) == (
        "refusing to switch web: 2 of 3 pods matching {app: web, slot: green} are ready (min_ready is 3)"
    )


def test_a_terminating_pod_is_not_ready():
    with pytest.raises(SwitchRefused, match="1 of 2 pods"):
        check_ready("web", GREEN, [pod("g1", GREEN), pod("g2", GREEN, deleting=True)])


@pytest.mark.parametrize("ready, deleting", [(True, False), (False, False), (True, True)])
def test_a_pod_summary_answers_the_switch_as_the_whole_pod_does(ready, deleting):
    whole = pod("green-1", GREEN, ready=ready, deleting=deleting)
    whole["spec"] = {"containers": [{"name": "app", "image": "nodowntime/demo-app:2"}]}
    whole["status"]["conditions"].insert(0, {"type": "PodScheduled", "status": "True"})
    summary = pod_summary(whole)
    assert pod_ready(summary) == pod_ready(whole) == (ready and not deleting)
    assert check_ready("web", GREEN, [summary], min_ready=0) == check_ready("web", GREEN, [whole], min_ready=0)
    assert "spec" not in summary


def test_refuses_a_selector_that_matches_no_pod():
    with pytest.raises(SwitchRefused) as e:
        check_ready("web", GREEN, [pod("b1", {"app": "web", "slot": "blue"})])
    assert str(e.value) == "refusing to switch web: no pod matches {app: web, slot: green}"


def test_all_ready_gives_the_ready_names():
    assert check_ready("web", GREEN, [pod("g2", GREEN), pod("g1", dict(GREEN, extra="x"))]) == ["g1", "g2"]


@pytest.mark.parametrize(
    "selector,min_ready,fragment",
    [
        ({}, None, "refusing to switch web: the selector is empty"),
        (None, None, "refusing to switch web: the selector is empty"),
        ({"app": "web", "slot": "gr een"}, None, "selector value 'gr een' for slot is not a valid label value"),
        ({"-app": "web"}, None, "selector key '-app' is not a valid label name"),
        ({"Example.com/app": "web"}, None, "selector key 'Example.com/app' is not a valid label name"),
        ({"app": "x" * 64}, None, "is not a valid label value: up to 63"),
        (GREEN, 0, "min_ready must be >= 1, got 0"),
    ],
)
def test_validate_refuses_bad_input(selector, min_ready, fragment):
    with pytest.raises(SwitchRefused) as e:
        validate("web", selector, min_ready)
    assert fragment in str(e.value)


def test_validate_turns_values_into_label_strings():
    assert validate("web", {"app": "web", "version": 2, "example.com/tier": "front"}, None) == {
        "app": "web",
        "version": "2",
        "example.com/tier": "front",
    }


def test_endpoint_pods_reads_every_slice():
    slices = [
        {"endpoints": [endpoint("g1"), endpoint("b1", ready=False)]},
        {"endpoints": [endpoint("g2"), endpoint("node", kind="Node")]},
        {"endpoints": None},
    ]
    assert endpoint_pods(slices) == ({"g1", "g2", "b1"}, {"g1", "g2"})


@pytest.mark.parametrize(
    "endpoints,done,message",
    [
        ([endpoint("g1"), endpoint("g2")], True, "endpoints list the 2 new pods as ready and none of the old ones"),
        ([endpoint("g1"), endpoint("g2"), endpoint("b1")], False, "old pods still in the endpoints: b1"),
        # an old pod that is no longer ready still has its endpoint: not done
        ([endpoint("g1"), endpoint("g2"), endpoint("b1", ready=False)], False, "old pods still in the endpoints: b1"),
        (
            [endpoint("g1"), endpoint("b1")],
            False,
            "new pods not yet ready in the endpoints: g2; old pods still in the endpoints: b1",
        ),
        ([endpoint("g1"), endpoint("g2", ready=False)], False, "new pods not yet ready in the endpoints: g2"),
        # a pod that came up after the check is neither new nor old: fine
        ([endpoint("g1"), endpoint("g2"), endpoint("g3")], True, "endpoints list the 2 new pods"),
    ],
)
def test_traffic_moved(endpoints, done, message):
    got_done, got_message = traffic_moved([{"endpoints": endpoints}], ["g1", "g2"], ["b1", "b2"])
    assert got_done == done and got_message.startswith(message)
