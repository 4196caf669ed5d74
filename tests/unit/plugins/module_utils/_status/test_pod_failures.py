"""Pods the scheduler found no node for: a failure only for a verdict that opts in (fail_on_unschedulable)."""

import pytest
import rollout_objects
from rollout_objects import SCHEDULER_SAYS, deployment, pending, replica_set, with_image

from ansible_collections.nodowntime.k8s.plugins.module_utils._status import pod_failures
from ansible_collections.nodowntime.k8s.plugins.module_utils._status import verdict as v
from ansible_collections.nodowntime.k8s.plugins.module_utils._status.rollout_status import (
    deployment_status,
    pod_summary,
    replica_set_summary,
)

OLD = replica_set_summary(replica_set("web-old", 1, template=with_image("demo:0")))
NEW = replica_set_summary(replica_set("web-new", 2))
# Three new pods wanted, none available yet: the verdict is still waiting unless a pod fails it.
STARTING = deployment(updated=3, available=0)


@pytest.mark.parametrize(
    ("pod", "failed"),
    [
        pytest.param(pending("web-new-a", "web-new"), True, id="unschedulable"),
        pytest.param(pending("web-new-a", "web-new", reason="SchedulingGated"), False, id="gated-waits-for-its-gate"),
        pytest.param(pending("web-new-a", "web-new", scheduled="True", reason=None), False, id="scheduled"),
        pytest.param(rollout_objects.pod("web-new-a", "web-new"), False, id="running-no-conditions"),
    ],
)
def test_only_a_pod_the_scheduler_found_no_node_for_is_unschedulable(pod, failed):
    found = pod_failures.unschedulable(pod)
    expected = {
        "pod": "web-new-a",
        "container": None,
        "reason": "Unschedulable",
        "message": SCHEDULER_SAYS,
        "restarts": 0,
    }
    assert found == (expected if failed else None)


@pytest.mark.parametrize(
    ("pod", "fail_on_unschedulable", "fail_fast", "reason"),  # pod: one, or a list of them
    [
        pytest.param(pending("web-new-a", "web-new"), True, True, "Unschedulable", id="unschedulable-opted-in-fails"),
        pytest.param(pending("web-new-a", "web-new"), False, True, None, id="unschedulable-not-opted-in-waits"),
        pytest.param(
            pending("web-new-a", "web-new"), True, False, "Unschedulable", id="opted-in-without-fail-fast-fails"
        ),
        pytest.param(
            pending("web-new-a", "web-new", scheduled="True", reason=None),
            True,
            True,
            None,
            id="scheduled-containers-creating-waits",
        ),
        pytest.param(
            pending("web-new-a", "web-new", reason="SchedulingGated", message="waiting for gates"),
            True,
            True,
            None,
            id="pending-for-its-scheduling-gates-waits",
        ),
        pytest.param(
            pending("web-new-a", "web-new", terminating=True), True, True, None, id="terminating-unschedulable-waits"
        ),
        pytest.param(pending("web-old-a", "web-old"), True, True, None, id="old-replica-set-pod-not-flagged"),
        pytest.param(
            [pending("web-new-a", "web-new"), rollout_objects.pod("web-old-a", "web-old", terminating=True)],
            True,
            True,
            None,
            id="waits-while-an-old-pod-may-free-its-room",
        ),
        pytest.param(
            rollout_objects.pod("web-new-a", "web-new", waiting="ErrImagePull"),
            True,
            False,
            None,
            id="opted-in-alone-leaves-start-errors-to-fail-fast",
        ),
    ],
)
def test_the_verdict_fails_on_an_unschedulable_new_pod_only_when_asked(pod, fail_on_unschedulable, fail_fast, reason):
    pods = [pod_summary(p) for p in (pod if isinstance(pod, list) else [pod])]
    verdict = deployment_status(
        STARTING, [OLD, NEW], pods, fail_fast=fail_fast, fail_on_unschedulable=fail_on_unschedulable
    )
    assert (verdict.state, verdict.reason) == ((v.FAILED, reason) if reason else (v.WAITING, None)), verdict


def test_the_failure_quotes_the_scheduler_and_counts_the_pending_pods():
    pods = [pod_summary(pending(f"web-new-{c}", "web-new")) for c in "bac"]
    verdict = deployment_status(STARTING, [OLD, NEW], pods, fail_on_unschedulable=True)
    assert (
        verdict.message
        == f'deployment "web" rollout failed: pod web-new-a: Unschedulable: {SCHEDULER_SAYS} (and 2 more)'
    )
    assert [f["pod"] for f in verdict.failing_pods] == ["web-new-a", "web-new-b", "web-new-c"]
