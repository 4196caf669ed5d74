"""The rollout verdict beyond kubectl: fail fast on sick new pods, wait for old pods to go (kubectl's own
verdicts are the table in test_kubectl_verdicts)."""

import pytest
import rollout_objects
from rollout_objects import daemonset, deployment, statefulset, with_image, without

from ansible_collections.nodowntime.k8s.plugins.module_utils._plan import revisions
from ansible_collections.nodowntime.k8s.plugins.module_utils._status import pod_failures
from ansible_collections.nodowntime.k8s.plugins.module_utils._status import verdict as v
from ansible_collections.nodowntime.k8s.plugins.module_utils._status.pod_failures import RESTART_THRESHOLD
from ansible_collections.nodowntime.k8s.plugins.module_utils._status.rollout_status import (
    daemonset_status,
    deployment_status,
    owners_to_tell,
    pod_summary,
    replica_set_summary,
    statefulset_status,
    template_key,
)


# The verdict takes what the wait holds of each pod and ReplicaSet: their summaries.
def pod(*args, restart_threshold=RESTART_THRESHOLD, **kwargs):
    return pod_summary(rollout_objects.pod(*args, **kwargs), restart_threshold)


def replica_set(*args, **kwargs):
    return replica_set_summary(rollout_objects.replica_set(*args, **kwargs))


OLD = replica_set("web-old", 1, template=with_image("demo:0"))
NEW = replica_set("web-new", 2)


# Every error the kubelet leaves a container waiting with that waiting does not cure (pod_failures says where);
# the last three once the container has exited (runc ran it, and it failed).
KUBELET_START_ERRORS = [
    "CrashLoopBackOff",
    "ErrImagePull",
    "ImagePullBackOff",
    "ImageInspectError",
    "ErrImageNeverPull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
    "PreStartHookError",
    "PostStartHookError",
]


@pytest.mark.parametrize("reason", KUBELET_START_ERRORS)
def test_fail_fast_names_pod_container_reason_and_message(reason):
    sick = pod(
        "web-new-a",
        "web-new",
        waiting=reason,
        message="it hurts",
        restarts=1,
        last_exit={"exitCode": 1, "reason": "Error"},
    )
    verdict = deployment_status(deployment(updated=1, available=1), [OLD, NEW], [sick])
    assert verdict.state == v.FAILED and verdict.reason == reason
    assert f"pod web-new-a, container app: {reason}: it hurts; last exit code 1 (Error)" in verdict.message
    assert verdict.failing_pods[0] == {
        "pod": "web-new-a",
        "container": "app",
        "reason": reason,
        "message": "it hurts; last exit code 1 (Error)",
        "restarts": 1,
    }


@pytest.mark.parametrize("reason", ["RunContainerError", "PreStartHookError", "PostStartHookError"])
def test_a_start_error_with_no_exit_behind_it_is_waited_out(reason):
    # containerd killed mid-start: "error reading from server: EOF", and the kubelet's next try succeeds.
    sick = pod("web-new-a", "web-new", waiting=reason, message="error reading from server: EOF")
    assert deployment_status(deployment(updated=1, available=0), [OLD, NEW], [sick]).state == v.WAITING


@pytest.mark.parametrize(
    "message",
    [
        "error reading from server: connection reset by peer",
        "rpc error: code = Unavailable desc = error reading from server: EOF",
        "rpc error: code = Unavailable desc = transport is closing",
    ],
)
def test_a_create_error_while_the_runtime_restarts_is_waited_out(message):
    # containerd killed mid-create: the kubelet's next attempt creates the container.
    sick = pod("web-new-a", "web-new", waiting="CreateContainerError", message=message)
    assert deployment_status(deployment(updated=1, available=0), [OLD, NEW], [sick]).state == v.WAITING


def test_fail_fast_on_restarts_at_the_threshold_only():
    dep = deployment(updated=1, available=1)
    assert deployment_status(dep, [OLD, NEW], [pod("web-new-a", "web-new", restarts=2)]).state == v.WAITING
    verdict = deployment_status(dep, [OLD, NEW], [pod("web-new-a", "web-new", restarts=3)])
    assert verdict.reason == "TooManyRestarts" and "restarted 3 times" in verdict.message
    assert (
        deployment_status(dep, [OLD, NEW], [pod("web-new-a", "web-new", restarts=5, restart_threshold=6)]).state
        == v.WAITING
    )


def test_fail_fast_ignores_old_pods_terminating_pods_and_can_be_off():
    dep = deployment(updated=1, available=1)
    old_sick = pod("web-old-a", "web-old", waiting="CrashLoopBackOff")
    leaving = pod("web-new-b", "web-new", waiting="CrashLoopBackOff", terminating=True)
    assert deployment_status(dep, [OLD, NEW], [old_sick, leaving]).state == v.WAITING
    new_sick = pod("web-new-a", "web-new", waiting="ErrImagePull")
    assert deployment_status(dep, [OLD, NEW], [new_sick], fail_fast=False).state == v.WAITING


# A canary sent back to 0: its sick pod can send one more status before the ReplicaSet controller
# marks it for deletion; a Deployment that wants no pod fails on nothing it has left.
@pytest.mark.parametrize(
    ("replicas", "state"),
    [(0, v.WAITING), (1, v.FAILED)],
)
def test_a_sick_pod_of_a_deployment_scaled_to_0_fails_nothing(replicas, state):
    dep = deployment(replicas=replicas, updated=1, total=1, available=0)
    sick = pod("web-new-a", "web-new", waiting="CrashLoopBackOff")
    assert deployment_status(dep, [OLD, NEW], [sick]).state == state
    pending = pod_summary(rollout_objects.pending("web-new-b", "web-new"))
    assert deployment_status(dep, [OLD, NEW], [pending], fail_on_unschedulable=True).state == state


def _containers(*states, init=False):
    statuses = [
        {"name": f"c{i}", "state": state, "restartCount": restarts} for i, (state, restarts) in enumerate(states)
    ]
    return {
        "metadata": {"name": "web-new-a"},
        "status": {"initContainerStatuses" if init else "containerStatuses": statuses},
    }


RUNNING, WAITING = {"running": {}}, {"waiting": {"reason": "PodInitializing"}}


@pytest.mark.parametrize(
    ("pod", "exited"),
    [
        pytest.param(_containers((RUNNING, 0)), False, id="running"),
        pytest.param(_containers((WAITING, 0)), False, id="starting"),
        pytest.param(_containers((RUNNING, 0), (RUNNING, 1)), True, id="restarted-once"),
        pytest.param(_containers(({"terminated": {"exitCode": 2}}, 0)), True, id="exited-not-restarted-yet"),
        pytest.param(_containers(({"terminated": {"exitCode": 0}}, 0), init=True), False, id="init-done"),
        pytest.param(_containers(({"terminated": {"exitCode": 1}}, 0), init=True), True, id="init-failed"),
        pytest.param({"metadata": {"name": "web-new-a"}}, False, id="no-status-yet"),
    ],
)
def test_a_pod_has_exited_once_a_container_restarts_or_fails(pod, exited):
    assert pod_failures.exited(pod) is exited


@pytest.mark.parametrize(
    ("pods", "replicas", "fail_fast", "owners"),
    [
        pytest.param([pod("web-new-a", "web-new")], 3, True, set(), id="healthy-none"),
        pytest.param([pod("web-new-a", "web-new", restarts=1)], 3, True, {"web-new-uid"}, id="exited-once"),
        pytest.param([pod("web-old-a", "web-old", restarts=1)], 3, True, {"web-old-uid"}, id="any-owner-to-tell"),
        pytest.param([pod("web-new-a", "web-new", waiting="ErrImagePull")], 3, True, {"web-new-uid"}, id="sick"),
        pytest.param([pod("web-new-a", "web-new", restarts=1)], 3, False, set(), id="not-failing-fast"),
        pytest.param([pod("web-new-a", "web-new", restarts=1, terminating=True)], 3, True, set(), id="leaving"),
        pytest.param([pod("web-new-a", "web-new", waiting="CrashLoopBackOff")], 0, True, set(), id="scaled-to-0"),
    ],
)
def test_the_replica_sets_are_needed_for_a_sick_or_exited_pod(pods, replicas, fail_fast, owners):
    assert owners_to_tell(deployment(replicas=replicas), pods, fail_fast, False) == owners


def test_failures_of_every_sick_new_pod_are_listed_by_pod_name():
    sick = [pod(f"web-new-{c}", "web-new", waiting="CrashLoopBackOff") for c in "cab"]
    verdict = deployment_status(deployment(updated=1, available=1), [OLD, NEW], [*sick, pod("web-new-d", "web-new")])
    assert [f["pod"] for f in verdict.failing_pods] == ["web-new-a", "web-new-b", "web-new-c"]
    assert verdict.message.endswith("(and 2 more)")


def test_a_surge_of_sick_pods_lists_the_first_ones_and_counts_them_all():
    sick = [pod(f"web-new-{i:03}", "web-new", waiting="ErrImagePull") for i in range(250)]
    verdict = deployment_status(deployment(updated=1, available=1), [OLD, NEW], sick)
    assert [f["pod"] for f in verdict.failing_pods] == [f"web-new-{i:03}" for i in range(20)]
    assert verdict.message.endswith("(and 249 more)")


def test_a_summary_keeps_only_what_the_verdict_asks():
    full = rollout_objects.pod("web-new-a", "web-new", waiting="ErrImagePull", labels={"app": "web", "big": "x" * 999})
    summary = pod_summary(full)
    assert (
        summary.name == "web-new-a"
        and summary.owner == "web-new-uid"
        and summary.failures[0]["reason"] == "ErrImagePull"
    )
    assert "x" * 999 not in repr(summary)
    assert (
        pod_summary(rollout_objects.pod("web-new-b", "web-new", waiting="ErrImagePull", terminating=True)).failures
        == ()
    )


def test_template_keys_match_exactly_when_the_templates_are_the_same():
    rs = rollout_objects.replica_set("web-new", 2)
    dep = deployment()
    assert revisions.same_template(rs["spec"]["template"], dep["spec"]["template"])
    assert template_key(rs["spec"]["template"]) == template_key(dep["spec"]["template"])
    assert template_key(
        rollout_objects.replica_set("web-old", 1, template=with_image("demo:0"))["spec"]["template"]
    ) != (template_key(dep["spec"]["template"]))


def test_pods_of_another_deployment_do_not_count():
    stranger = replica_set("other-new", 2, owner="someone-else")
    sick = pod("other-new-a", "other-new", waiting="CrashLoopBackOff")
    assert deployment_status(deployment(updated=1, available=1), [OLD, NEW, stranger], [sick]).state == v.WAITING


def test_the_new_replica_set_ignores_the_hash_and_is_the_oldest_twin():
    twin_new = replica_set("web-b", 3, created="2026-02-01T00:00:00Z")
    twin_old = replica_set("web-a", 2, created="2026-01-01T00:00:00Z")
    replica_sets = [twin_new, OLD, twin_old]
    assert deployment_status(deployment(), replica_sets, [pod("web-a-x", "web-a")]).state == v.DONE
    verdict = deployment_status(deployment(), replica_sets, [pod("web-b-x", "web-b"), pod("web-a-x", "web-a")])
    assert verdict.message == 'Waiting for deployment "web" rollout to finish: 1 old pods are still terminating...'


def test_done_waits_for_terminating_old_pods_unless_told_not_to():
    pods = [
        pod("web-new-a", "web-new"),
        pod("web-old-a", "web-old", terminating=True),
        pod("web-old-b", "web-old", terminating=True),
    ]
    verdict = deployment_status(deployment(), [OLD, NEW], pods)
    assert verdict.state == v.WAITING
    assert verdict.message == 'Waiting for deployment "web" rollout to finish: 2 old pods are still terminating...'
    assert deployment_status(deployment(), [OLD, NEW], pods, old_pods_gone=False).state == v.DONE


def test_statefulset_fail_fast_only_on_the_update_revision():
    sick_new = pod(
        "db-0", None, waiting="CrashLoopBackOff", labels={"controller-revision-hash": "db-2"}, owner_uid="sts"
    )
    sick_old = pod(
        "db-1", None, waiting="CrashLoopBackOff", labels={"controller-revision-hash": "db-1"}, owner_uid="sts"
    )
    assert statefulset_status(statefulset(readyReplicas=1), [sick_old]).state == v.WAITING
    assert statefulset_status(statefulset(readyReplicas=1), [sick_new]).reason == "CrashLoopBackOff"
    # Without an updateRevision no pod can be told new, not even one without the label.
    unlabelled = pod("db-2", None, waiting="CrashLoopBackOff", labels={"app": "db"}, owner_uid="sts")
    assert statefulset_status(without(statefulset(readyReplicas=1), "status.updateRevision"), [unlabelled]).state == (
        v.WAITING
    )


def test_a_statefulset_scaled_to_0_fails_on_no_pod_it_has_left():
    sick = pod("db-0", None, waiting="CrashLoopBackOff", labels={"controller-revision-hash": "db-2"}, owner_uid="sts")
    assert statefulset_status(statefulset(replicas=0, readyReplicas=0), [sick]).state == v.DONE
    assert statefulset_status(statefulset(replicas=1, readyReplicas=0), [sick]).reason == "CrashLoopBackOff"


def test_daemonset_fail_fast_on_pods_of_the_current_generation():
    sick = pod("agent-x", None, waiting="ImagePullBackOff", labels={"pod-template-generation": "4"}, owner_uid="ds")
    assert daemonset_status(daemonset(numberAvailable=1), [sick]).reason == "ImagePullBackOff"


@pytest.mark.parametrize(
    "verdict_of, workload",
    [
        (lambda obj, pods: deployment_status(obj, [OLD, NEW], pods), deployment(updated=1, available=1)),
        (statefulset_status, statefulset(readyReplicas=1)),
        (daemonset_status, daemonset(numberAvailable=1)),
    ],
)
def test_a_workload_without_uid_owns_no_pod(verdict_of, workload):
    # Pods without a controller must not pass for its own: there is no uid to match them with.
    orphan = pod("stray", None, waiting="CrashLoopBackOff", labels={"controller-revision-hash": "db-2"})
    orphan = orphan._replace(owner=None, template_generation="4")
    assert verdict_of(without(workload, "metadata.uid"), [orphan]).state == v.WAITING


@pytest.mark.parametrize(
    ("terminating", "pods", "message"),
    [
        pytest.param(0, [], 'deployment "web" successfully rolled out', id="counted-none-left-is-done-without-pods"),
        pytest.param(
            2,
            [],
            'Waiting for deployment "web" rollout to finish: 2 pods are still terminating...',
            id="counted-two-wait-though-no-pod-is-known",
        ),
        pytest.param(
            0,
            [pod("web-old-a", "web-old", terminating=True)],
            'deployment "web" successfully rolled out',
            id="the-count-decides-over-a-stale-pod",
        ),
        pytest.param(
            None,
            [pod("web-old-a", "web-old", terminating=True)],
            'Waiting for deployment "web" rollout to finish: 1 old pods are still terminating...',
            id="without-the-count-the-pods-decide",
        ),
    ],
)
def test_the_deployments_own_count_of_terminating_pods_decides_when_it_has_one(terminating, pods, message):
    assert deployment_status(deployment(terminating=terminating), [OLD, NEW], pods).message == message
