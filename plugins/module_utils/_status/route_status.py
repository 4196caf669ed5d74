# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether the gateways took an HTTPRoute's spec: its status.parents, judged.  Pure.

    verdict(route, generation) -> verdict.Verdict
        done     every parentRef has a status.parents entry whose Accepted and ResolvedRefs are True
                 with observedGeneration >= generation (the spec we wrote, or a later one)
        failed   such a current condition is False: reason GatewayRejected, the message names the
                 parent, the controller and the gateway's own reason and message
        waiting  otherwise (no entry for a parent yet, a condition missing or stale), saying which
    parents(route) -> [{parent, controller, conditions: {type: {status, reason, message, observedGeneration}}}]

A condition about an older generation says nothing about the weights just written: the data plane may
still route by the old ones, so only current conditions count, whatever they say.
"""

from __future__ import annotations

from ansible_collections.nodowntime.k8s.plugins.module_utils._status import verdict as v

REQUIRED = ("Accepted", "ResolvedRefs")
GATEWAY_GROUP = "gateway.networking.k8s.io"


def _key(ref, namespace):
    return (
        ref.get("group", GATEWAY_GROUP),
        ref.get("kind", "Gateway"),
        ref.get("namespace") or namespace,
        ref.get("name"),
        ref.get("sectionName") or "",
        ref.get("port") or 0,
    )


def _name(ref, namespace):
    _group, kind, ns, name, section, port = _key(ref, namespace)
    where = f"{kind.lower()} {ns}/{name}"
    return where + (f" ({section})" if section else "") + (f" port {port}" if port else "")


def _conditions(entry):
    return {c.get("type"): c for c in entry.get("conditions") or []}


def parents(route):
    namespace = route["metadata"].get("namespace")
    return [
        {
            "parent": _name(entry.get("parentRef") or {}, namespace),
            "controller": entry.get("controllerName", ""),
            "conditions": {
                kind: {k: c.get(k) for k in ("status", "reason", "message", "observedGeneration")}
                for kind, c in _conditions(entry).items()
            },
        }
        for entry in (route.get("status") or {}).get("parents") or []
    ]


def verdict(route, generation):
    meta = route["metadata"]
    namespace, what = meta.get("namespace"), f"HTTPRoute {meta.get('namespace')}/{meta.get('name')}"
    entries = {}
    for entry in (route.get("status") or {}).get("parents") or []:
        entries.setdefault(_key(entry.get("parentRef") or {}, namespace), []).append(entry)
    pending = []
    refs = (route.get("spec") or {}).get("parentRefs") or []
    if not refs:
        return v.failed("NoParentRefs", f"{what} has no parentRefs: no gateway routes it")
    for ref in refs:
        parent = _name(ref, namespace)
        found = entries.get(_key(ref, namespace))
        if not found:
            pending.append(f"{parent}: no status yet")
            continue
        # Several controllers may write an entry for one parent; the one whose conditions are current decides.
        entry = max(found, key=lambda e: min(c.get("observedGeneration", 0) for c in _conditions(e).values() or [{}]))
        conditions = _conditions(entry)
        controller = entry.get("controllerName", "?")
        for kind in REQUIRED:
            condition = conditions.get(kind)
            if condition is None:
                pending.append(f"{parent}: no {kind} condition yet")
            elif condition.get("observedGeneration", 0) < generation:
                pending.append(
                    f"{parent}: {kind} is about generation {condition.get('observedGeneration', 0)}, not {generation}"
                )
            elif condition.get("status") != "True":
                return v.failed(
                    "GatewayRejected",
                    f"{parent} ({controller}) does not take generation {generation} of {what}: {kind}="
                    f"{condition.get('status')} {condition.get('reason', '')}: {condition.get('message', '')}",
                )
    if pending:
        return v.waiting(f"waiting for the gateway to take generation {generation} of {what}: {'; '.join(pending)}")
    return v.done(f"{what} generation {generation}: {len(refs)} parent(s) Accepted with ResolvedRefs")
