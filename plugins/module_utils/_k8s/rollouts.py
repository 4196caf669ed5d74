# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rollout operations against the API: wait with the verdict, read history, undo.

wait_for_rollout(client, kind, workload, timeout, timeline, fail_fast=True, fail_on_unschedulable=False,
                 fresh=False)
    -> (verdict, {"owner": [obj], "pods": [PodSummary], "replicasets": [ReplicaSetSummary],
                  "replica_sets_read": [obj] where they were read whole because a pod was sick})
    kind: Deployment, StatefulSet or DaemonSet; workload: the object (for name,
    namespace and selector); fresh: workload is what the caller's own write returned.
    Watches the workload and (Deployments) its ReplicaSets, and its pods where the verdict
    asks about them: always for a Deployment (its old pods must be gone), with fail_fast for
    the others.  A fresh Deployment whose status counts its terminating pods (KEP-3973) costs
    one or two requests: a watch on it from the write's version, and with fail_fast one on the
    pods made after it; the ReplicaSets are read only once a pod is sick or has exited, and state then has
    no "replicasets" (nor "pods" without fail_fast).  See _sources.  Of ReplicaSets and pods only
    rollout_status's summaries are held; see rollout_status for the verdict.  A StatefulSet or
    DaemonSet whose update strategy kubectl will not judge (OnDelete) ends the wait at once,
    failed, with rollout_status.refusal's message; callers ask refusal before they change it.
    A Deployment failed for Unschedulable pods (fail_on_unschedulable) has the shortfall added to
    its message: what the pending pods request against what the nodes have free (node_room).
node_room(client, template, replicas) -> node_capacity.capacity of replicas more pods on the nodes as they are
status_now(client, kind, workload, fail_fast=True) -> the verdict right now, without waiting
owned_replica_sets(client, deployment) -> the ReplicaSets it controls (by uid)
autoscaler_of(client, namespace, name) -> the HorizontalPodAutoscaler that scales Deployment name, or None
    (also where autoscaling/v2 is not served)
undo(client, namespace, name, to_revision=None, dry_run=False, seen=None, replica_sets=None)
    -> (target ReplicaSet, patched Deployment or None when the template already matches,
        the Deployment as read before the patch)
    seen: the Deployment as a watch last showed it, and replica_sets: its ReplicaSets as read since
    (the wait's replica_sets_read), decided on without a read first (the patch carries the
    Deployment's resourceVersion); reads both afresh and tries again when the controller wrote in
    between;
    raises revisions.RevisionError (nothing to go back to, paused) or ApiError
"""

from __future__ import annotations

from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s import waiter
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.client import retry_on_conflict
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.errors import ApiError
from ansible_collections.nodowntime.k8s.plugins.module_utils._plan import autoscaler, label_selector, revisions
from ansible_collections.nodowntime.k8s.plugins.module_utils._status import node_capacity, pod_failures, rollout_status
from ansible_collections.nodowntime.k8s.plugins.module_utils._status import verdict as v


def _selector(workload):
    return label_selector.selector_string(workload["spec"].get("selector"))


def _sources(kind, workload, fail_fast, fresh=False, fail_on_unschedulable=False):
    """What the wait follows: the workload, and its pods and ReplicaSets where the verdict asks.

    fresh: workload is what our own write returned.  Then the workload is not listed but begun
    from, and where the Deployment counts its terminating pods itself (_counts_terminating) only
    the pods made after that write matter (a new pod failing, fail_fast): they are watched from
    its version with none listed, and the ReplicaSets are read only once a pod is sick or has exited."""
    meta = workload["metadata"]
    ns, selector = meta["namespace"], _selector(workload)
    start = ([workload], meta["resourceVersion"]) if fresh else None
    sources = {"owner": waiter.Source(kind, ns, field_selector=f"metadata.name={meta['name']}", start=start)}
    # fail_on_unschedulable asks whether any old pod is left to free its room: every pod must be known.
    after_write = fresh and _counts_terminating(kind, workload) and not fail_on_unschedulable
    if after_write:
        if fail_fast:
            pods_start = ([], meta["resourceVersion"])
            sources["pods"] = waiter.Source(
                "Pod", ns, label_selector=selector, keep=rollout_status.pod_summary, start=pods_start
            )
        return sources
    if kind == "Deployment" or fail_fast:
        sources["pods"] = waiter.Source("Pod", ns, label_selector=selector, keep=rollout_status.pod_summary)
    if kind == "Deployment":
        sources["replicasets"] = waiter.Source(
            "ReplicaSet", ns, label_selector=selector, keep=rollout_status.replica_set_summary
        )
    return sources


def _counts_terminating(kind, workload):
    """Whether the Deployment's status counts its terminating pods (KEP-3973), so no pod need be read to
    know every old one has gone."""
    return kind == "Deployment" and "terminatingReplicas" in (workload.get("status") or {})


def _evaluator(client, kind, workload, fail_fast, fail_on_unschedulable=False, replica_sets=None):
    name = workload["metadata"]["name"]
    replica_sets = replica_sets or _ReplicaSetsOnDemand(client, workload, fail_fast, fail_on_unschedulable)

    def evaluate(state):
        if not state["owner"]:
            return v.failed("NotFound", f"{kind} {name!r} was deleted while waiting for its rollout")
        owner = state["owner"][0]
        verdict = _verdict(kind, owner, state, fail_fast, fail_on_unschedulable, replica_sets)
        if verdict.reason == rollout_status.UNSUPPORTED_STRATEGY:
            # kubectl's words alone do not say which workload or strategy: the task's failure must.
            return verdict._replace(message=rollout_status.refusal(kind, owner))
        return verdict

    return evaluate


class _ReplicaSetsOnDemand:
    """The Deployment's ReplicaSets where the wait does not follow them: read when a pod is sick or has
    exited (to tell whether it is a new one), and again when such a pod names an owner not asked about
    yet (rollout_status.owners_to_tell).  read: the last read's whole objects (None before any), which
    an undo right after decides on."""

    def __init__(self, client, workload, fail_fast, fail_on_unschedulable):
        self._client, self._workload = client, workload
        self._flags = (fail_fast, fail_on_unschedulable)
        self._asked, self._held = set(), []
        self.read = None

    def __call__(self, deployment, pods):
        owners = rollout_status.owners_to_tell(deployment, pods, *self._flags)
        if not owners <= self._asked:
            meta = self._workload["metadata"]
            self.read, _version = self._client.list(
                "ReplicaSet", meta["namespace"], label_selector=_selector(self._workload)
            )
            self._held = [rollout_status.replica_set_summary(rs) for rs in self.read]
            self._asked |= owners
        return self._held


def _verdict(kind, owner, state, fail_fast, fail_on_unschedulable, replica_sets):
    if kind == "Deployment":
        pods = state.get("pods", [])
        return rollout_status.deployment_status(
            owner,
            state["replicasets"] if "replicasets" in state else replica_sets(owner, pods),
            pods,
            fail_fast=fail_fast,
            fail_on_unschedulable=fail_on_unschedulable,
        )
    if kind == "StatefulSet":
        return rollout_status.statefulset_status(owner, state.get("pods", []), fail_fast=fail_fast)
    return rollout_status.daemonset_status(owner, state.get("pods", []), fail_fast=fail_fast)


def wait_for_rollout(
    client, kind, workload, timeout, timeline, fail_fast=True, fail_on_unschedulable=False, fresh=False
):
    replica_sets = _ReplicaSetsOnDemand(client, workload, fail_fast, fail_on_unschedulable)
    verdict, state = waiter.wait_until(
        client,
        _sources(kind, workload, fail_fast, fresh, fail_on_unschedulable),
        _evaluator(client, kind, workload, fail_fast, fail_on_unschedulable, replica_sets),
        timeout,
        timeline,
    )
    if replica_sets.read is not None:
        state = dict(state, replica_sets_read=replica_sets.read)
    if verdict.reason == pod_failures.UNSCHEDULABLE:
        verdict = verdict._replace(message=f"{verdict.message}; {_shortfall(client, state)}")
    return verdict, state


def node_room(client, template, replicas):
    nodes, _resource_version = client.list("Node", None)
    # Finished pods hold nothing; the field selector keeps the list small on busy clusters.
    pods, _resource_version = client.list("Pod", None, field_selector="status.phase!=Succeeded,status.phase!=Failed")
    return node_capacity.capacity(nodes, pods, template, replicas)


def _shortfall(client, state):
    """What the pods the scheduler found no node for request, against what the nodes have free."""
    pending = sum(1 for pod in state["pods"] if pod.unschedulable)
    try:
        room = node_room(client, state["owner"][0]["spec"]["template"], pending)
    except ApiError as e:  # reading the nodes takes a cluster-wide grant the rollout itself does not need
        return f"the nodes could not be read to name the shortfall: {e.message}"
    if room["fits"]:
        return f"by their requests {room['message']}: what stops them is in the scheduler's message"
    return f"{pending} pods are pending, and {room['message']}"


def status_now(client, kind, workload, fail_fast=True):
    state = {
        key: client.list(
            src.kind, src.namespace, label_selector=src.label_selector, field_selector=src.field_selector, keep=src.keep
        )[0]
        for key, src in _sources(kind, workload, fail_fast).items()
    }
    return _evaluator(client, kind, workload, fail_fast)(state)


def owned_replica_sets(client, deployment):
    items, _resource_version = client.list(
        "ReplicaSet", deployment["metadata"]["namespace"], label_selector=_selector(deployment)
    )
    return revisions.controlled_by(deployment, items)


def undo(client, namespace, name, to_revision=None, dry_run=False, seen=None, replica_sets=None):
    known = [(seen, replica_sets)] if seen else []

    def attempt():
        deployment, listed = known.pop() if known else (client.get("Deployment", namespace, name), None)
        owned = (
            owned_replica_sets(client, deployment) if listed is None else revisions.controlled_by(deployment, listed)
        )
        target = revisions.rollback_target(deployment, owned, to_revision)
        ops = revisions.undo_patch(deployment, target)
        if ops is None:
            return target, None, deployment
        return target, client.patch("Deployment", namespace, name, ops, patch_type="json", dry_run=dry_run), deployment

    return retry_on_conflict(attempt)


def autoscaler_of(client, namespace, name):
    try:
        hpas, _version = client.list(autoscaler.KIND, namespace)
    except ApiError as e:
        if e.status == 404:
            return None
        raise
    return autoscaler.owner(hpas, name)
