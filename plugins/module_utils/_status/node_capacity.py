# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether the nodes can hold more pods.  Pure, on plain dicts.

quantity(value) -> a resource.Quantity ("250m", "64Mi") as a float in base units
capacity(nodes, pods, template, replicas)
    -> {"fits", "message", "free", "needed"}: whether replicas more pods of template fit
       in the nodes' allocatable minus what the pods there request, placed first-fit as a
       scheduler would have to (a pod cannot span nodes).
"""

from __future__ import annotations

import copy
import re

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
