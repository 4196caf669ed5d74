# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Replicas and HorizontalPodAutoscalers (autoscaling/v2): what the collection may write.  Pure.

An HPA owns the replicas of the workload its scaleTargetRef names: the collection never writes
a count of its own there, it keeps the one the HPA set.

owner(hpas, name, kind="Deployment") -> the HPA whose scaleTargetRef is that workload, or None
bounds(hpa)                 -> (minReplicas, maxReplicas); minReplicas defaults to 1
clamp(replicas, hpa)        -> replicas within the HPA's bounds (unchanged without an HPA)
held(definition, current, hpa) -> (manifest, note): the definition with spec.replicas set to the
                               live count when an HPA owns it; note says what was kept, or ""
colour_replicas(live, hpa)  -> how many pods a new blue/green colour starts with: the live colour's
                               current count, within the bounds of the HPA that scales it
retarget(hpa, name)         -> the merge patch that points the HPA at the Deployment name, or {}
                               when it already does
summary(hpa)                -> {name, min_replicas, max_replicas, target} for reports, or {}
canary(current, weight, hpa, mode, floor) -> (target, note): with an HPA on stable, stable keeps the
                               HPA's count and the canary gets weight% of it on top (surge's math, or
                               capacity's behind a traffic router); current and target are
                               {"canary": n, "stable": n}
blue_green(hpas, live, previous, colour) -> {replicas, autoscaler, follow, back}: the new colour's
                               starting count, the HPA scaling either colour (summary), and the
                               server-side apply bodies that point it at the new colour (after
                               the switch) and back at the old one (after a switch back); {}
                               each without an HPA
"""

from __future__ import annotations

import copy

from ansible_collections.nodowntime.k8s.plugins.module_utils._plan import canary_replicas

KIND = "HorizontalPodAutoscaler"


def _target(hpa):
    return ((hpa or {}).get("spec") or {}).get("scaleTargetRef") or {}


def owner(hpas, name, kind="Deployment"):
    for hpa in hpas or ():
        ref = _target(hpa)
        if ref.get("kind") == kind and ref.get("name") == name and ref.get("apiVersion", "apps/v1") == "apps/v1":
            return hpa
    return None


def bounds(hpa):
    spec = hpa["spec"]
    return int(spec.get("minReplicas", 1)), int(spec["maxReplicas"])


def clamp(replicas, hpa):
    if not hpa:
        return int(replicas)
    low, high = bounds(hpa)
    return max(low, min(high, int(replicas)))


def _live(deployment):
    return int(((deployment or {}).get("spec") or {}).get("replicas", 1))


def held(definition, current, hpa):
    body = copy.deepcopy(definition)
    if not hpa or current is None:
        return body, ""
    live = _live(current)
    wanted = (body.get("spec") or {}).get("replicas")
    body.setdefault("spec", {})["replicas"] = live
    if wanted is None or int(wanted) == live:
        return body, ""
    return body, (
        f"HorizontalPodAutoscaler {hpa['metadata']['name']!r} owns the replicas of deployment "
        f"{current['metadata']['name']!r}: kept its {live}, not the definition's {wanted} "
        "(leave spec.replicas out of a definition an HPA scales)"
    )


def colour_replicas(live, hpa):
    return clamp(_live(live), hpa)


def retarget(hpa, name):
    if not hpa or _target(hpa).get("name") == name:
        return {}
    return {"spec": {"scaleTargetRef": {"name": name}}}


def summary(hpa):
    if not hpa:
        return {}
    low, high = bounds(hpa)
    return {
        "name": hpa["metadata"]["name"],
        "min_replicas": low,
        "max_replicas": high,
        "target": _target(hpa).get("name"),
    }


def _pointed(hpa, name):
    return {
        "apiVersion": "autoscaling/v2",
        "kind": KIND,
        "metadata": {"name": hpa["metadata"]["name"], "namespace": hpa["metadata"].get("namespace")},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}},
    }


def blue_green(hpas, live, previous, colour):
    # A run resumed after the switch finds the HPA on the new colour already.
    hpa = owner(hpas, previous) or owner(hpas, colour)
    return {
        "replicas": colour_replicas(live, hpa),
        "autoscaler": summary(hpa),
        "follow": _pointed(hpa, colour) if hpa else {},
        "back": _pointed(hpa, previous) if hpa else {},
    }


def canary(current, weight, hpa, mode=canary_replicas.SURGE, floor=1):
    stable = current["stable"]
    on_top = canary_replicas.CAPACITY if mode == canary_replicas.CAPACITY else canary_replicas.SURGE
    pods, _stable = canary_replicas.split(max(1, stable), weight, on_top, floor)
    note = (
        f"HorizontalPodAutoscaler {hpa['metadata']['name']!r} owns the replicas of stable "
        f"{_target(hpa).get('name')!r}: it keeps its {stable}, the canary gets {pods} beside them"
    )
    return {"canary": pods, "stable": stable}, note
