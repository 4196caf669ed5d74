# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deployments and Services derived from others, and whether the nodes can hold them.  Pure, on plain dicts.

images(deployment)   -> {container: image} of the pod template's containers
version(deployment or images) -> "nodowntime/demo-app:2" (several images joined by ", ")
variant(source, name, labels=None, images=None, replicas=None)
    -> a manifest for server-side apply: source's spec with the labels added to the
       selector, the pod template and the object, new images, and replicas.  The other
       colour of a blue/green pair and a canary are variants of the Deployment serving now.
preview_service(service, name, selector)
    -> a Service like service (its ports, without node ports) selecting selector: how
       a new colour is reached before it gets the traffic
capacity(nodes, pods, template, replicas)
    -> {"fits", "message", "free", "needed"}: whether replicas more pods of template fit
       in the nodes' allocatable minus what the pods there request, placed first-fit as a
       scheduler would have to (a pod cannot span nodes).
"""

from __future__ import annotations

import copy
import re

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


# -- capacity -----------------------------------------------------------------------------

_SUFFIX = {
    "n": 1e-9,
    "u": 1e-6,
    "m": 1e-3,
    "": 1,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$")
RESOURCES = ("cpu", "memory")


def quantity(value):
    """A resource.Quantity ("250m", "64Mi", "1e3", 2) as a float in base units."""
    match = _QUANTITY.match(str(value).strip())
    if not match or match.group(2) not in _SUFFIX:
        raise ValueError(f"not a Kubernetes quantity: {value!r}")
    return float(match.group(1)) * _SUFFIX[match.group(2)]


def _requests(pod_spec):
    total = dict.fromkeys(RESOURCES, 0.0)
    for container in pod_spec.get("containers") or []:
        requests = (container.get("resources") or {}).get("requests") or {}
        for key in RESOURCES:
            total[key] += quantity(requests.get(key, 0))
    return total


def _schedulable(node):
    if (node.get("spec") or {}).get("unschedulable"):
        return False
    conditions = (node.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _free(nodes, pods):
    free = {}
    for node in nodes:
        if not _schedulable(node):
            continue
        allocatable = (node.get("status") or {}).get("allocatable") or {}
        free[node["metadata"]["name"]] = {
            "cpu": quantity(allocatable.get("cpu", 0)),
            "memory": quantity(allocatable.get("memory", 0)),
            "pods": quantity(allocatable.get("pods", 110)),
        }
    for pod in pods:
        node = (pod.get("spec") or {}).get("nodeName")
        if node not in free or (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        for key, value in _requests(pod["spec"]).items():
            free[node][key] -= value
        free[node]["pods"] -= 1
    return free


def _fmt(resources):
    return f"cpu {resources['cpu']:g}, memory {resources['memory'] / 2**20:.0f}Mi, pods {resources['pods']:g}"


def capacity(nodes, pods, template, replicas):
    free = _free(nodes, pods)
    one = dict(_requests(template.get("spec") or {}), pods=1)
    needed = {key: value * replicas for key, value in one.items()}
    total = {key: sum(node[key] for node in free.values()) for key in ("cpu", "memory", "pods")}
    left = copy.deepcopy(free)
    placed = 0
    for _replica in range(replicas):
        node = next((n for n, room in left.items() if all(room[k] >= one[k] for k in one)), None)
        if node is None:
            break
        for key, value in one.items():
            left[node][key] -= value
        placed += 1
    fits = placed == replicas
    if fits:
        message = f"{replicas} more pods fit: they need {_fmt(needed)}; free allocatable is {_fmt(total)}"
    else:
        message = (
            f"only {placed} of {replicas} more pods fit on the nodes: they need {_fmt(needed)}; "
            f"free allocatable is {_fmt(total)} over {len(free)} schedulable nodes"
        )
    return {"fits": fits, "message": message, "free": total, "needed": needed}
