"""Builders for the API objects the verdict and revision tests feed in (plain camelCase dicts)."""

import copy

from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.auth import AUTH_ARG_SPEC
from ansible_collections.nodowntime.k8s.plugins.modules.rollout import ARGUMENT_SPEC

TEMPLATE = {
    "metadata": {"labels": {"app": "web"}},
    "spec": {"containers": [{"name": "app", "image": "demo:1", "ports": [{"name": "http", "containerPort": 8080}]}]},
}


def deployment(
    replicas=3,
    generation=2,
    observed=2,
    updated=3,
    total=3,
    available=3,
    ready=None,
    conditions=(),
    paused=False,
    template=None,
    revision="2",
    annotations=None,
    uid="dep-uid",
    terminating=None,
):
    """terminating: status.terminatingReplicas (KEP-3973), absent when None (the gate off)."""
    ann = {"deployment.kubernetes.io/revision": revision} if revision else {}
    ann.update(annotations or {})
    counted = {} if terminating is None else {"terminatingReplicas": terminating}
    return {
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "shop",
            "uid": uid,
            "generation": generation,
            "resourceVersion": "100",
            "annotations": ann,
        },
        "spec": {
            "replicas": replicas,
            "paused": paused,
            "selector": {"matchLabels": {"app": "web"}},
            "template": copy.deepcopy(template or TEMPLATE),
        },
        "status": {
            "observedGeneration": observed,
            "replicas": total,
            "updatedReplicas": updated,
            "availableReplicas": available,
            "readyReplicas": available if ready is None else ready,
            "conditions": list(conditions),
            **counted,
        },
    }


def statefulset(strategy="RollingUpdate", rolling_update=None, replicas=3, generation=2, **status):
    """db, 3 replicas, all at revision db-2; status fields given override those; rolling_update as in the spec."""
    update_strategy = {"type": strategy}
    if rolling_update is not None:
        update_strategy["rollingUpdate"] = rolling_update
    base = {
        "observedGeneration": 2,
        "readyReplicas": 3,
        "updatedReplicas": 3,
        "currentReplicas": 3,
        "updateRevision": "db-2",
        "currentRevision": "db-2",
    }
    return {
        "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "shop", "uid": "sts", "generation": generation},
        "spec": {"replicas": replicas, "updateStrategy": update_strategy},
        "status": dict(base, **status),
    }


def daemonset(strategy="RollingUpdate", generation=4, **status):
    """agent on 2 nodes, all updated and available; status fields given override those."""
    base = {"observedGeneration": 4, "desiredNumberScheduled": 2, "updatedNumberScheduled": 2, "numberAvailable": 2}
    return {
        "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": "shop", "uid": "ds", "generation": generation},
        "spec": {"updateStrategy": {"type": strategy}},
        "status": dict(base, **status),
    }


def _edited(obj, paths, edit):
    obj = copy.deepcopy(obj)
    for path in paths:
        *parents, key = path.split(".")
        fields = obj
        for parent in parents:
            fields = fields[parent]
        edit(fields, key)
    return obj


def without(obj, *paths):
    """obj without the fields at the dotted paths: an object that never met the API server's defaults."""
    return _edited(obj, paths, dict.pop)


def nulled(obj, *paths):
    """obj with null at the dotted paths, as JSON may carry them."""
    return _edited(obj, paths, lambda fields, key: fields.__setitem__(key, None))


def replica_set(name, revision, template=None, owner="dep-uid", created="2026-01-01T00:00:00Z", annotations=None):
    tpl = copy.deepcopy(template or TEMPLATE)
    tpl["metadata"]["labels"]["pod-template-hash"] = name.rsplit("-", 1)[-1]
    ann = {"deployment.kubernetes.io/revision": str(revision)} if revision is not None else {}
    ann.update(annotations or {})
    return {
        "metadata": {
            "name": name,
            "uid": f"{name}-uid",
            "creationTimestamp": created,
            "annotations": ann,
            "ownerReferences": [{"kind": "Deployment", "uid": owner, "controller": True}],
        },
        "spec": {"replicas": 3, "template": tpl},
    }


def pod(
    name, owner_rs, waiting=None, message="", restarts=0, terminating=False, last_exit=None, labels=None, owner_uid=None
):
    state = {"waiting": {"reason": waiting, "message": message}} if waiting else {"running": {}}
    status = {"name": "app", "state": state, "restartCount": restarts}
    if last_exit:
        status["lastState"] = {"terminated": last_exit}
    meta = {
        "name": name,
        "uid": f"{name}-uid",
        "labels": labels or {"app": "web"},
        "ownerReferences": [{"kind": "ReplicaSet", "uid": owner_uid or f"{owner_rs}-uid", "controller": True}],
    }
    if terminating:
        meta["deletionTimestamp"] = "2026-01-01T00:00:10Z"
    return {"metadata": meta, "status": {"containerStatuses": [status]}}


SCHEDULER_SAYS = (
    "0/1 nodes are available: 1 Insufficient cpu. "
    "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
)


def pending(name, owner_rs, scheduled="False", reason="Unschedulable", message=SCHEDULER_SAYS, terminating=False):
    """A pod with no container started yet, its PodScheduled condition as given."""
    obj = pod(name, owner_rs, terminating=terminating)
    condition = {"type": "PodScheduled", "status": scheduled, "reason": reason, "message": message}
    obj["status"] = {"phase": "Pending", "conditions": [condition]}
    if scheduled == "True":  # bound, its containers being created
        obj["status"]["containerStatuses"] = [
            {"name": "app", "state": {"waiting": {"reason": "ContainerCreating"}}, "restartCount": 0}
        ]
    return obj


def with_image(image):
    tpl = copy.deepcopy(TEMPLATE)
    tpl["spec"]["containers"][0]["image"] = image
    return tpl


def options(**overrides):
    """The rollout module's parameters at their defaults (auth left out), for web in shop."""
    base = {key: spec.get("default") for key, spec in ARGUMENT_SPEC.options.items() if key not in AUTH_ARG_SPEC}
    return dict(base, name="web", namespace="shop", **overrides)


def hpa(target="web", low=None, high=9, name="web"):
    """An autoscaling/v2 HPA name on Deployment target (minReplicas left out unless low is given)."""
    spec = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target}, "maxReplicas": high}
    if low is not None:
        spec["minReplicas"] = low
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": name}, "spec": spec}
