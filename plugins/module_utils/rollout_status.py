# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout verdict: pure functions from objects to verdict.Verdict.

    deployment_status(deployment, replica_sets, pods, fail_fast=True,
                      restart_threshold=pod_failures.RESTART_THRESHOLD, old_pods_gone=True)
    statefulset_status(statefulset, pods, fail_fast=True, restart_threshold=...)
    daemonset_status(daemonset, pods, fail_fast=True, restart_threshold=...)

replica_sets and pods may be a superset (everything matching the selector): ownership is
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

from ansible_collections.nodowntime.k8s.plugins.module_utils import pod_failures, revisions
from ansible_collections.nodowntime.k8s.plugins.module_utils import verdict as v

TIMED_OUT = "ProgressDeadlineExceeded"


def _q(name):
    return json.dumps(name)  # Go's %q for the names Kubernetes allows


def _fail_fast(kind, name, pods, restart_threshold):
    failures = pod_failures.failing_pods(pods, restart_threshold)
    if not failures:
        return None
    first = failures[0]
    more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
    return v.failed(
        first["reason"], f"{kind} {_q(name)} rollout failed: {pod_failures.describe(first)}{more}", failures
    )


def _condition(status, kind):
    for cond in status.get("conditions") or []:
        if cond.get("type") == kind:
            return cond
    return None


def _observed(obj):
    return obj["metadata"].get("generation", 0) <= (obj.get("status") or {}).get("observedGeneration", 0)


def deployment_status(
    deployment, replica_sets, pods, fail_fast=True, restart_threshold=pod_failures.RESTART_THRESHOLD, old_pods_gone=True
):
    name, spec, status = deployment["metadata"]["name"], deployment["spec"], deployment.get("status") or {}
    if not _observed(deployment):
        return v.waiting("Waiting for deployment spec update to be observed...")
    progressing = _condition(status, "Progressing")
    if progressing and progressing.get("reason") == TIMED_OUT:
        return v.failed(TIMED_OUT, f"deployment {_q(name)} exceeded its progress deadline")

    owned = revisions.controlled_by(deployment, replica_sets)
    new_rs = revisions.new_replica_set(deployment, owned)
    new_pods = revisions.controlled_by(new_rs, pods) if new_rs else []
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
        failure = _fail_fast("deployment", name, new_pods, restart_threshold) if fail_fast else None
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
        old_rs = [rs for rs in owned if rs is not new_rs]
        old = sum(len(revisions.controlled_by(rs, pods)) for rs in old_rs)
        if old:
            return v.waiting(
                f"Waiting for deployment {_q(name)} rollout to finish: {old} old pods are still terminating..."
            )
    return v.done(f"deployment {_q(name)} successfully rolled out")


def _updated_pods(owner, pods, label, value):
    return [p for p in revisions.controlled_by(owner, pods) if (p["metadata"].get("labels") or {}).get(label) == value]


def statefulset_status(statefulset, pods, fail_fast=True, restart_threshold=pod_failures.RESTART_THRESHOLD):
    spec, status = statefulset["spec"], statefulset.get("status") or {}
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return v.done("rollout status is only available for RollingUpdate strategy type")
    if not status.get("observedGeneration") or not _observed(statefulset):
        return v.waiting("Waiting for statefulset spec update to be observed...")
    if fail_fast:
        new_pods = _updated_pods(statefulset, pods, "controller-revision-hash", status.get("updateRevision"))
        failure = _fail_fast("statefulset", statefulset["metadata"]["name"], new_pods, restart_threshold)
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


def daemonset_status(daemonset, pods, fail_fast=True, restart_threshold=pod_failures.RESTART_THRESHOLD):
    name, spec, status = daemonset["metadata"]["name"], daemonset["spec"], daemonset.get("status") or {}
    if (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") != "RollingUpdate":
        return v.done("rollout status is only available for RollingUpdate strategy type")
    if not _observed(daemonset):
        return v.waiting("Waiting for daemon set spec update to be observed...")
    if fail_fast:
        # The controller stamps each pod with the generation of the template it was made from.
        new_pods = _updated_pods(daemonset, pods, "pod-template-generation", str(daemonset["metadata"]["generation"]))
        failure = _fail_fast("daemon set", name, new_pods, restart_threshold)
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
