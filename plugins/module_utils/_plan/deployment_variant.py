# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deployments and Services derived from others.  Pure, on plain dicts.

images(deployment)   -> {container: image} of the pod template's containers
version(deployment or images) -> "nodowntime/demo-app:2" (several images joined by ", ")
variant(source, name, labels=None, images=None, replicas=None)
    -> a manifest for server-side apply: source's spec with the labels added to the
       selector, the pod template and the object, new images, and replicas.  The other
       colour of a blue/green pair and a canary are variants of the Deployment serving now.
preview_service(service, name, selector)
    -> a Service like service (its ports, without node ports) selecting selector: how
       a new colour is reached before it gets the traffic
"""

from __future__ import annotations

import copy

# Annotations that belong to an object's history, not to what it should be.
_HISTORY_ANNOTATIONS = ("deployment.kubernetes.io/revision", "kubectl.kubernetes.io/last-applied-configuration")
_HISTORY_PREFIXES = ("nodowntime.k8s/",)


def _template(deployment):
    return (deployment.get("spec") or {}).get("template") or {}


def images(deployment):
    containers = (_template(deployment).get("spec") or {}).get("containers") or []
    return {c["name"]: c.get("image") for c in containers}


def version(deployment_or_images):
    found = deployment_or_images if "spec" not in deployment_or_images else images(deployment_or_images)
    return ", ".join(str(image) for image in found.values())


def _with_images(pod_spec, new_images):
    containers = pod_spec.get("containers") or []
    unknown = sorted(set(new_images) - {c["name"] for c in containers})
    if unknown:
        names = ", ".join(c["name"] for c in containers)
        raise ValueError(f"no container named {', '.join(unknown)} in the pod template (containers: {names})")
    for container in containers:
        if container["name"] in new_images:
            container["image"] = new_images[container["name"]]


def variant(source, name, labels=None, images=None, replicas=None):
    labels = {k: str(v) for k, v in (labels or {}).items()}
    meta = source.get("metadata") or {}
    spec = copy.deepcopy(source.get("spec") or {})
    spec.pop("paused", None)
    spec["replicas"] = spec.get("replicas", 1) if replicas is None else int(replicas)
    selector = spec.setdefault("selector", {})
    selector["matchLabels"] = dict(selector.get("matchLabels") or {}, **labels)
    template = spec.setdefault("template", {})
    template_meta = template.setdefault("metadata", {})
    template_meta["labels"] = dict(template_meta.get("labels") or {}, **labels)
    template_meta.pop("creationTimestamp", None)
    _with_images(template.setdefault("spec", {}), images or {})
    annotations = {
        k: v
        for k, v in (meta.get("annotations") or {}).items()
        if k not in _HISTORY_ANNOTATIONS and not k.startswith(_HISTORY_PREFIXES)
    }
    metadata = {"name": name, "namespace": meta.get("namespace"), "labels": dict(meta.get("labels") or {}, **labels)}
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata, "spec": spec}


def preview_service(service, name, selector):
    ports = [
        {k: v for k, v in port.items() if k in ("name", "port", "targetPort", "protocol", "appProtocol")}
        for port in (service.get("spec") or {}).get("ports") or []
    ]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": name,
            "namespace": (service.get("metadata") or {}).get("namespace"),
            "labels": {"app.kubernetes.io/managed-by": "nodowntime"},
        },
        "spec": {"selector": {k: str(v) for k, v in selector.items()}, "ports": ports},
    }
