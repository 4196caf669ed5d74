"""A wait on a rollout kubectl will not judge ends at once, failed, naming the workload and its strategy; one
failed for pods the scheduler found no node for names the shortfall."""

import threading

import pytest
from rollout_objects import SCHEDULER_SAYS, daemonset, deployment, pending, replica_set, statefulset, with_image

from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s import rollouts
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.errors import ApiError
from ansible_collections.nodowntime.k8s.plugins.module_utils._release.timeline import Timeline
from ansible_collections.nodowntime.k8s.plugins.module_utils._status import rollout_status
from ansible_collections.nodowntime.k8s.plugins.module_utils._status import verdict as v

REFUSED = f"StatefulSet 'db' has updateStrategy type OnDelete: {rollout_status.ONLY_ROLLING_UPDATE}"


class OneObject:
    def __init__(self, obj):
        self.obj = obj

    def list(self, kind, namespace, label_selector=None, field_selector=None, keep=None):
        return ([self.obj] if kind == self.obj["kind"] else []), "1"


def test_a_refused_verdict_names_kind_name_and_strategy():
    verdict = rollouts.status_now(OneObject(statefulset("OnDelete")), "StatefulSet", statefulset("OnDelete"))
    assert (verdict.state, verdict.reason, verdict.message) == (v.FAILED, "UnsupportedUpdateStrategy", REFUSED)


def test_a_rolling_update_is_judged_as_kubectl_does():
    verdict = rollouts.status_now(OneObject(daemonset()), "DaemonSet", daemonset())
    assert (verdict.state, verdict.message) == (v.DONE, 'daemon set "agent" successfully rolled out')


class PendingColour:
    """web-new's 2 pods pending on a 2-core node whose other pod requests 1.5: each wants 1 core.

    The wait lists and then watches a quiet cluster; Node may be forbidden."""

    def __init__(self, nodes_forbidden=False):
        self.nodes_forbidden = nodes_forbidden
        self.closed = threading.Event()
        template = with_requests({"cpu": "1"})
        self.deployment = deployment(updated=2, available=0, replicas=2, total=2, template=template)
        self.objects = {
            "Deployment": [self.deployment],
            "ReplicaSet": [replica_set("web-new", 2, template=template)],
            "Pod": [pending("web-new-a", "web-new"), pending("web-new-b", "web-new")],
        }
        busy = {"metadata": {"name": "other"}, "spec": {"nodeName": "n1", "containers": [requesting("1500m")]}}
        node = {
            "metadata": {"name": "n1"},
            "status": {
                "allocatable": {"cpu": "2", "memory": "4Gi"},
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        }
        self.cluster = {"Node": [node], "Pod": [busy, *self.objects["Pod"]]}

    def list(self, kind, namespace, label_selector=None, field_selector=None, keep=None):
        if namespace is None:  # node_room: the whole cluster
            if kind == "Node" and self.nodes_forbidden:
                raise ApiError(403, "Forbidden", 'nodes is forbidden: cannot list resource "nodes"')
            return self.cluster[kind], "1"
        return [keep(obj) if keep else obj for obj in self.objects[kind]], "1"

    def watch(self, kind, namespace, resource_version, label_selector=None, field_selector=None, timeout_seconds=60):
        self.closed.wait(5)
        yield from ()

    def close_streams(self):
        self.closed.set()


def requesting(cpu):
    return {"name": "app", "resources": {"requests": {"cpu": cpu}}}


def with_requests(requests):
    template = with_image("demo:2")
    template["spec"]["containers"][0]["resources"] = {"requests": requests}
    return template


@pytest.mark.parametrize(
    ("nodes_forbidden", "shortfall"),
    [
        pytest.param(
            False,
            "2 pods are pending, and only 0 of 2 more pods fit on the nodes: they need cpu 2, memory 0Mi, pods 2; "
            "free allocatable is cpu 0.5, memory 4096Mi, pods 109 over 1 schedulable nodes",
            id="names-what-they-request-and-the-nodes-have-free",
        ),
        pytest.param(
            True,
            'the nodes could not be read to name the shortfall: nodes is forbidden: cannot list resource "nodes"',
            id="without-the-grant-to-list-nodes-says-so",
        ),
    ],
)
def test_an_unschedulable_colour_fails_naming_the_shortfall(nodes_forbidden, shortfall):
    client = PendingColour(nodes_forbidden)
    verdict, _state = rollouts.wait_for_rollout(
        client, "Deployment", client.deployment, 5, Timeline(), fail_on_unschedulable=True
    )
    assert (verdict.state, verdict.reason) == (v.FAILED, "Unschedulable")
    assert verdict.message == (
        f'deployment "web" rollout failed: pod web-new-a: Unschedulable: {SCHEDULER_SAYS} (and 1 more); {shortfall}'
    )
