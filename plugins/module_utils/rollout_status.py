# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout verdict: pure functions from objects to verdict.Verdict.

    deployment_status(deployment, replica_sets, pods, fail_fast=True, old_pods_gone=True)
    statefulset_status(statefulset, pods, fail_fast=True)
    daemonset_status(daemonset, pods, fail_fast=True)

    pod_summary(pod, restart_threshold=pod_failures.RESTART_THRESHOLD) -> PodSummary
    replica_set_summary(replica_set) -> ReplicaSetSummary

The workload is the API object; replica_sets and pods are their summaries: what the
verdict needs of each, taken once as the object arrives, so that judging again after
each event costs little and a wait on 1000 pods holds 1000 small tuples, not 1000 API
objects.  Both may be a superset (everything matching the selector): ownership is
checked here.  The waiting and done messages are kubectl rollout status's, word for word.
Beyond kubectl:
  - fail_fast: a new pod in CrashLoopBackOff, ErrImagePull, ImagePullBackOff,
    CreateContainerConfigError (see pod_failures) fails the verdict at once instead of
    waiting for progressDeadlineSeconds;
  - old_pods_gone: "done" also waits until every old pod has left the API, Terminating
    ones included; kubectl stops counting them once they are marked for deletion
    (kubernetes/kubectl#1284) although they may still be serving;
  - a paused Deployment that still has work to do is failed (DeploymentPaused): it
    would otherwise wait forever.
"""

from __future__ import annotations

import json
from collections import namedtuple

from ansible_collections.nodowntime.k8s.plugins.module_utils import pod_failures, revisions
from ansible_collections.nodowntime.k8s.plugins.module_utils import verdict as v

TIMED_OUT = "ProgressDeadlineExceeded"
# A surge of 250 sick pods is one story: list the first ones by pod name; the message counts them all.
FAILING_LISTED = 20

# owner: its controller's uid; template: see template_key
ReplicaSetSummary = namedtuple("ReplicaSetSummary", "uid name created owner template")
# revision_hash, template_generation: its controller-revision-hash and pod-template-generation
# labels (StatefulSet, DaemonSet); failures: pod_failures.container_failures, () while it terminates
PodSummary = namedtuple("PodSummary", "name owner revision_hash template_generation failures")


def _controller(meta):
    return next((ref.get("uid") for ref in meta.get("ownerReferences") or [] if ref.get("controller")), None)


def template_key(template):
    """Equal for two templates exactly when revisions.same_template says they are."""
    return json.dumps(revisions.template_without_hash(template), sort_keys=True)


def replica_set_summary(replica_set):
    meta = replica_set["metadata"]
    return ReplicaSetSummary(
        meta["uid"],
        meta["name"],
        meta.get("creationTimestamp") or "",
        _controller(meta),
        template_key(replica_set["spec"]["template"]),
    )


def pod_summary(pod, restart_threshold=pod_failures.RESTART_THRESHOLD):
    meta = pod["metadata"]
    labels = meta.get("labels") or {}
    # A terminating pod is on its way out; its successor is the one that matters.
    failures = () if meta.get("deletionTimestamp") else pod_failures.container_failures(pod, restart_threshold)
    return PodSummary(
        meta["name"],
        _controller(meta),
        labels.get("controller-revision-hash"),
        labels.get("pod-template-generation"),
        failures,
    )


def _q(name):
    return json.dumps(name)  # Go's %q for the names Kubernetes allows


def _fail_fast(kind, name, sick):
    failures = [failure for pod in sorted(sick, key=lambda p: p.name) for failure in pod.failures]
    if not failures:
        return None
    first = failures[0]
    more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
    return v.failed(
        first["reason"],
        f"{kind} {_q(name)} rollout failed: {pod_failures.describe(first)}{more}",
        failures[:FAILING_LISTED],
    )


def _condition(status, kind):
    for cond in status.get("conditions") or []:
        if cond.get("type") == kind:
            return cond
    return None


def _observed(obj):
    return obj["metadata"].get("generation", 0) <= (obj.get("status") or {}).get("observedGeneration", 0)


def _new_and_old(deployment, replica_sets):
    """The uid of its new ReplicaSet (or None) and the uids of its old ones."""
    owned = [rs for rs in replica_sets if rs.owner == deployment["metadata"]["uid"]]
    key = template_key(deployment["spec"]["template"])
    # The oldest match wins if several have the template, as in the controller (kubernetes#40415).
    new = min((rs for rs in owned if rs.template == key), key=lambda rs: (rs.created, rs.name), default=None)
    return new and new.uid, {rs.uid for rs in owned if rs is not new}


def deployment_status(deployment, replica_sets, pods, fail_fast=True, old_pods_gone=True):
    name, spec, status = deployment["metadata"]["name"], deployment["spec"], deployment.get("status") or {}
    if not _observed(deployment):
        return v.waiting("Waiting for deployment spec update to be observed...")
    progressing = _condition(status, "Progressing")
    if progressing and progressing.get("reason") == TIMED_OUT:
        return v.failed(TIMED_OUT, f"deployment {_q(name)} exceeded its progress deadline")

    desired = spec.get("replicas", 1)
    updated, replicas = status.get("updatedReplicas", 0), status.get("replicas", 0)
    available = status.get("availableReplicas", 0)

    if updated < desired:
        waiting = f"{updated} out of {desired} new replicas have been updated..."
    elif replicas > updated:
        waiting = f"{replicas - updated} old replicas are pending termination..."
    elif available < updated:
        waiting = f"{available} of {updated} updated replicas are available..."
    else:
        waiting = None
    if waiting:
        # Judged again after every event: the ReplicaSets are only looked at once a pod is sick.
        sick = [p for p in pods if p.failures] if fail_fast else []
        if sick:
            new_uid, _old = _new_and_old(deployment, replica_sets)
            sick = [p for p in sick if new_uid and p.owner == new_uid]
        failure = _fail_fast("deployment", name, sick)
        if failure:
            return failure
        if spec.get("paused"):
            return v.failed(
                "DeploymentPaused",
                f"deployment {_q(name)} is paused with its rollout unfinished "
                f"({waiting.rstrip('.')}); resume it to continue",
            )
        return v.waiting(f"Waiting for deployment {_q(name)} rollout to finish: {waiting}")

    if old_pods_gone:
        _new, old_uids = _new_and_old(deployment, replica_sets)
        old = sum(1 for p in pods if p.owner in old_uids)
        if old:
            return v.waiting(
                f"Waiting for deployment {_q(name)} rollout to finish: {old} old pods are still terminating..."
            )
    return v.done(f"deployment {_q(name)} successfully rolled out")


def _sick_updated_pods(owner, pods, field, value):
    uid = owner["metadata"]["uid"]
    return [p for p in pods if p.failures and p.owner == uid and getattr(p, field) == value]


def statefulset_status(statefulset, pods, fail_fast=True):
    spec, status = statefulset["spec"], statefulset.get("status") or {}
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return v.done("rollout status is only available for RollingUpdate strategy type")
    if not status.get("observedGeneration") or not _observed(statefulset):
        return v.waiting("Waiting for statefulset spec update to be observed...")
    if fail_fast:
        new_pods = _sick_updated_pods(statefulset, pods, "revision_hash", status.get("updateRevision"))
        failure = _fail_fast("statefulset", statefulset["metadata"]["name"], new_pods)
        if failure:
            return failure
    replicas = spec.get("replicas", 1)
    ready, updated = status.get("readyReplicas", 0), status.get("updatedReplicas", 0)
    if ready < replicas:
        return v.waiting(f"Waiting for {replicas - ready} pods to be ready...")
    partition = (strategy.get("rollingUpdate") or {}).get("partition")
    if strategy.get("rollingUpdate") is not None:
        if partition is not None and updated < replicas - partition:
            return v.waiting(
                f"Waiting for partitioned roll out to finish: {updated} out of "
                f"{replicas - partition} new pods have been updated..."
            )
        return v.done(f"partitioned roll out complete: {updated} new pods have been updated...")
    if status.get("updateRevision") != status.get("currentRevision"):
        return v.waiting(
            f"waiting for statefulset rolling update to complete {updated} pods at revision "
            f"{status.get('updateRevision')}..."
        )
    return v.done(
        f"statefulset rolling update complete {status.get('currentReplicas', 0)} pods at revision "
        f"{status.get('currentRevision')}..."
    )


def daemonset_status(daemonset, pods, fail_fast=True):
    name, spec, status = daemonset["metadata"]["name"], daemonset["spec"], daemonset.get("status") or {}
    if (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") != "RollingUpdate":
        return v.done("rollout status is only available for RollingUpdate strategy type")
    if not _observed(daemonset):
        return v.waiting("Waiting for daemon set spec update to be observed...")
    if fail_fast:
        # The controller stamps each pod with the generation of the template it was made from.
        new_pods = _sick_updated_pods(daemonset, pods, "template_generation", str(daemonset["metadata"]["generation"]))
        failure = _fail_fast("daemon set", name, new_pods)
        if failure:
            return failure
    desired, updated = status.get("desiredNumberScheduled", 0), status.get("updatedNumberScheduled", 0)
    available = status.get("numberAvailable", 0)
    if updated < desired:
        return v.waiting(
            f"Waiting for daemon set {_q(name)} rollout to finish: {updated} out of {desired} "
            "new pods have been updated..."
        )
    if available < desired:
        return v.waiting(
            f"Waiting for daemon set {_q(name)} rollout to finish: {available} of {desired} "
            "updated pods are available..."
        )
    return v.done(f"daemon set {_q(name)} successfully rolled out")
