"""A wait on a rollout kubectl will not judge ends at once, failed, naming the workload and its strategy."""

from rollout_objects import daemonset, statefulset

from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s import rollouts
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
