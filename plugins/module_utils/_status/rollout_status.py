# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout verdict: pure functions from objects to verdict.Verdict.

    deployment_status(deployment, replica_sets, pods, fail_fast=True, old_pods_gone=True, fail_on_unschedulable=False)
    owners_to_tell(deployment, pods, fail_fast, fail_on_unschedulable) -> the owners (uids) of the pods
        deployment_status must tell new from old, or may soon: the ReplicaSets are needed once it has any
    statefulset_status(statefulset, pods, fail_fast=True)
    daemonset_status(daemonset, pods, fail_fast=True)
    refusal(kind, workload) -> why kubectl would not judge it (its words, naming kind and strategy), or None

    pod_summary(pod, restart_threshold=pod_failures.RESTART_THRESHOLD) -> PodSummary
    replica_set_summary(replica_set) -> ReplicaSetSummary

The workload is the API object; replica_sets and pods are their summaries: what the
verdict needs of each, taken once as the object arrives, so that judging again after
each event costs little and a wait on 1000 pods holds 1000 small tuples, not 1000 API
objects.  Both may be a superset (everything matching the selector): ownership is
checked here.  The waiting and done messages are kubectl rollout status's, word for word
(polymorphichelpers/rollout_status.go), and so is every branch that leads to them:
  - kubectl reads the object into Go structs, where a missing or null field is its zero value:
    counts 0, revisions "", generation 0.  spec.replicas is a pointer there: without it the
    checks that read it are skipped, not run against a default (the API server defaults it
    to 1, so only an object that never went through it lacks it);
  - a StatefulSet or DaemonSet is judged only when spec.updateStrategy.type is RollingUpdate
    (a missing type is "", as in Go).  kubectl refuses any other (OnDelete) with an error;
    here that is a failed verdict, reason UnsupportedUpdateStrategy, in kubectl's words, so
    nothing reports done on a strategy it cannot judge.  A Deployment's strategy is never
    looked at: Recreate and RollingUpdate are judged alike.
Beyond kubectl:
  - fail_fast: a new pod in CrashLoopBackOff, ErrImagePull, ImagePullBackOff,
    CreateContainerConfigError (see pod_failures) fails the verdict at once instead of
    waiting for progressDeadlineSeconds;
  - fail_on_unschedulable (Deployments): so does a new pod the scheduler found no node for
    (pod_failures.unschedulable), once no pod of an old ReplicaSet is left to free its room.
    Off by default: a rolling update's surge pod gets the room an old pod leaves, and an
    autoscaler may add a node; a new blue/green colour has no old pods to wait for;
  - old_pods_gone: "done" also waits until every old pod has left the API, Terminating
    ones included; kubectl stops counting them once they are marked for deletion
    (kubernetes/kubectl#1284) although they may still be serving.  Where the Deployment's
    status has terminatingReplicas (KEP-3973) done waits until it is 0 instead: then
    replica_sets and pods are only looked at when a pod is sick, or has exited (owners_to_tell);
  - a paused Deployment that still has work to do is failed (DeploymentPaused): it
    would otherwise wait forever.
"""

from __future__ import annotations

import json
from collections import namedtuple

from ansible_collections.nodowntime.k8s.plugins.module_utils._plan import revisions
from ansible_collections.nodowntime.k8s.plugins.module_utils._status import pod_failures
from ansible_collections.nodowntime.k8s.plugins.module_utils._status import verdict as v

TIMED_OUT = "ProgressDeadlineExceeded"
ROLLING_UPDATE = "RollingUpdate"
UNSUPPORTED_STRATEGY = "UnsupportedUpdateStrategy"
# kubectl's error for a StatefulSet or DaemonSet whose update strategy it cannot judge.
ONLY_ROLLING_UPDATE = "rollout status is only available for RollingUpdate strategy type"
# A surge of 250 sick pods is one story: list the first ones by pod name; the message counts them all.
FAILING_LISTED = 20

# owner: its controller's uid; template: see template_key
ReplicaSetSummary = namedtuple("ReplicaSetSummary", "uid name created owner template")
# revision_hash, template_generation: its controller-revision-hash and pod-template-generation
# labels (StatefulSet, DaemonSet); failures: pod_failures.container_failures, () while it terminates;
# unschedulable: pod_failures.unschedulable, None while it terminates; exited: pod_failures.exited,
# False while it terminates
PodSummary = namedtuple("PodSummary", "name owner revision_hash template_generation failures unschedulable exited")


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
    leaving = bool(meta.get("deletionTimestamp"))
    return PodSummary(
        meta["name"],
        _controller(meta),
        labels.get("controller-revision-hash"),
        labels.get("pod-template-generation"),
        () if leaving else pod_failures.container_failures(pod, restart_threshold),
        None if leaving else pod_failures.unschedulable(pod),
        not leaving and pod_failures.exited(pod),
    )


def _q(name):
    return json.dumps(name)  # Go's %q for the names Kubernetes allows


# kubectl's Go structs read a missing or null field as its zero value: these read it the same way.
def _fields(obj, key):
    return obj.get(key) or {}


def _count(fields, key):
    return fields.get(key) or 0


def _name(obj):
    return _fields(obj, "metadata").get("name") or ""


def _uid(obj):
    return _fields(obj, "metadata").get("uid")


def _update_strategy(workload):
    """spec.updateStrategy.type of a StatefulSet or DaemonSet, "" when unset."""
    return _fields(_fields(workload, "spec"), "updateStrategy").get("type") or ""


def refusal(kind, workload):
    """Why kubectl rollout status would refuse to judge workload, naming kind and strategy; None if it judges it.

    Callers ask before they change anything, so that a refused wait fails with nothing done."""
    if kind == "Deployment" or _update_strategy(workload) == ROLLING_UPDATE:
        return None
    strategy = _update_strategy(workload) or "unset"
    return f"{kind} {_name(workload)!r} has updateStrategy type {strategy}: {ONLY_ROLLING_UPDATE}"


def _refused(workload):
    if _update_strategy(workload) == ROLLING_UPDATE:
        return None
    return v.failed(UNSUPPORTED_STRATEGY, ONLY_ROLLING_UPDATE)


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
    return _count(_fields(obj, "metadata"), "generation") <= _count(_fields(obj, "status"), "observedGeneration")


def _new_and_old(deployment, replica_sets):
    """The uid of its new ReplicaSet (or None) and the uids of its old ones."""
    uid = _uid(deployment)
    if not uid:  # not stored by the API server yet: nothing is its own
        return None, set()
    owned = [rs for rs in replica_sets if rs.owner == uid]
    key = template_key(_fields(deployment, "spec").get("template"))
    # The oldest match wins if several have the template, as in the controller (kubernetes#40415).
    new = min((rs for rs in owned if rs.template == key), key=lambda rs: (rs.created, rs.name), default=None)
    return new and new.uid, {rs.uid for rs in owned if rs is not new}


def _deployment_waiting(spec, status):
    """kubectl's account of what the rollout still waits for, or None when it is finished."""
    desired = spec.get("replicas")  # a nil pointer in kubectl: it skips this check, it does not default it
    updated, replicas = _count(status, "updatedReplicas"), _count(status, "replicas")
    available = _count(status, "availableReplicas")
    if desired is not None and updated < desired:
        return f"{updated} out of {desired} new replicas have been updated..."
    if replicas > updated:
        return f"{replicas - updated} old replicas are pending termination..."
    if available < updated:
        return f"{available} of {updated} updated replicas are available..."
    return None


def _wants_pods(spec):
    """False for a workload scaled to 0: what pods it still has are on their way out, and one that
    fails before its controller marks it for deletion (a canary sent back to 0) fails nothing."""
    return spec.get("replicas") != 0


def _sick_pods(pods, fail_fast, fail_on_unschedulable):
    """The pods with what the verdict is asked to fail on, of any ReplicaSet: only these make
    deployment_status look at the ReplicaSets (to tell the new one's pods from the old ones')."""
    return [p for p in pods if (fail_fast and p.failures) or (fail_on_unschedulable and p.unschedulable)]


def owners_to_tell(deployment, pods, fail_fast, fail_on_unschedulable):
    """The owners of the sick pods, and with fail_fast of the pods that have exited: a container's first
    exit comes before its CrashLoopBackOff, so a wait that reads the ReplicaSets then judges the failure
    (and an undo decides) without a read in between.  A healthy rollout has none."""
    if not _wants_pods(_fields(deployment, "spec")):
        return set()
    sick = _sick_pods(pods, fail_fast, fail_on_unschedulable)
    return {p.owner for p in sick} | {p.owner for p in pods if fail_fast and p.exited}


def _sick_new_pods(deployment, replica_sets, pods, fail_fast, fail_on_unschedulable):
    """The new ReplicaSet's pods, each with the failures the verdict is asked to fail on."""
    # Judged again after every event: the ReplicaSets are only looked at once a pod is sick.
    if not _wants_pods(_fields(deployment, "spec")) or not _sick_pods(pods, fail_fast, fail_on_unschedulable):
        return []
    new_uid, old_uids = _new_and_old(deployment, replica_sets)
    # An old pod's room comes free as it goes: a rolling update's, or one of the release that last
    # retired this colour, still terminating.
    no_room_to_come = not any(p.owner in old_uids for p in pods)
    sick = []
    for pod in pods:
        failures = pod.failures if fail_fast else ()
        if fail_on_unschedulable and pod.unschedulable and no_room_to_come:
            failures += (pod.unschedulable,)
        if failures and new_uid and pod.owner == new_uid:
            sick.append(pod._replace(failures=failures))
    return sick


def deployment_status(deployment, replica_sets, pods, fail_fast=True, old_pods_gone=True, fail_on_unschedulable=False):
    name, spec, status = _name(deployment), _fields(deployment, "spec"), _fields(deployment, "status")
    if not _observed(deployment):
        return v.waiting("Waiting for deployment spec update to be observed...")
    progressing = _condition(status, "Progressing")
    if progressing and progressing.get("reason") == TIMED_OUT:
        return v.failed(TIMED_OUT, f"deployment {_q(name)} exceeded its progress deadline")

    waiting = _deployment_waiting(spec, status)
    if waiting:
        sick = _sick_new_pods(deployment, replica_sets, pods, fail_fast, fail_on_unschedulable)
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
        left = _terminating(deployment, status, replica_sets, pods)
        if left:
            return v.waiting(f"Waiting for deployment {_q(name)} rollout to finish: {left} are still terminating...")
    return v.done(f"deployment {_q(name)} successfully rolled out")


def _terminating(deployment, status, replica_sets, pods):
    """What is left of the old pods once kubectl is satisfied ("2 old pods"), or "" when none is.

    kubectl is satisfied only when no old pod is left that is not terminating.  Where the API
    server counts the Deployment's terminating pods itself (status.terminatingReplicas, KEP-3973:
    feature gate DeploymentReplicaSetTerminatingReplicas, on by default since Kubernetes 1.35)
    that count decides, and no pod need be read; it counts a terminating pod of the new
    ReplicaSet too (a scale-down), which is why it says "pods"; it stops counting a pod whose phase
    is Failed or Succeeded (its containers have stopped), whose object the kubelet deletes a little
    later.  Without it, the pods decide."""
    counted = status.get("terminatingReplicas")
    if counted is not None:
        return f"{counted} pods" if counted else ""
    _new, old_uids = _new_and_old(deployment, replica_sets)
    old = sum(1 for p in pods if p.owner in old_uids)
    return f"{old} old pods" if old else ""


def _sick_updated_pods(owner, pods, field, value):
    uid = _uid(owner)
    if not uid or not value:  # no uid: no pod is its own; no updateRevision: no pod can be told new
        return []
    return [p for p in pods if p.failures and p.owner == uid and getattr(p, field) == value]


def _statefulset_progress(spec, status):
    replicas = spec.get("replicas")  # a nil pointer in kubectl: it skips the checks that read it
    ready, updated = _count(status, "readyReplicas"), _count(status, "updatedReplicas")
    if replicas is not None and ready < replicas:
        return v.waiting(f"Waiting for {replicas - ready} pods to be ready...")
    rolling_update = _fields(spec, "updateStrategy").get("rollingUpdate")
    if rolling_update is not None:
        # The API server defaults rollingUpdate.partition to 0: every stored RollingUpdate StatefulSet ends here.
        partition = rolling_update.get("partition")
        if replicas is not None and partition is not None and updated < replicas - partition:
            return v.waiting(
                f"Waiting for partitioned roll out to finish: {updated} out of "
                f"{replicas - partition} new pods have been updated..."
            )
        return v.done(f"partitioned roll out complete: {updated} new pods have been updated...")
    update_revision, current_revision = status.get("updateRevision") or "", status.get("currentRevision") or ""
    if update_revision != current_revision:
        return v.waiting(
            f"waiting for statefulset rolling update to complete {updated} pods at revision {update_revision}..."
        )
    return v.done(
        f"statefulset rolling update complete {_count(status, 'currentReplicas')} pods at revision "
        f"{current_revision}..."
    )


def statefulset_status(statefulset, pods, fail_fast=True):
    refused = _refused(statefulset)
    if refused:
        return refused
    status = _fields(statefulset, "status")
    if not _count(status, "observedGeneration") or not _observed(statefulset):
        return v.waiting("Waiting for statefulset spec update to be observed...")
    if fail_fast and _wants_pods(_fields(statefulset, "spec")):
        new_pods = _sick_updated_pods(statefulset, pods, "revision_hash", status.get("updateRevision"))
        failure = _fail_fast("statefulset", _name(statefulset), new_pods)
        if failure:
            return failure
    return _statefulset_progress(_fields(statefulset, "spec"), status)


def daemonset_status(daemonset, pods, fail_fast=True):
    refused = _refused(daemonset)
    if refused:
        return refused
    name, status = _name(daemonset), _fields(daemonset, "status")
    if not _observed(daemonset):
        return v.waiting("Waiting for daemon set spec update to be observed...")
    if fail_fast:
        # The controller stamps each pod with the generation of the template it was made from.
        generation = str(_count(_fields(daemonset, "metadata"), "generation"))
        failure = _fail_fast("daemon set", name, _sick_updated_pods(daemonset, pods, "template_generation", generation))
        if failure:
            return failure
    desired, updated = _count(status, "desiredNumberScheduled"), _count(status, "updatedNumberScheduled")
    available = _count(status, "numberAvailable")
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
