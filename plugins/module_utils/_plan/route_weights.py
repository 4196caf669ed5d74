# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exact canary weights on a Gateway API HTTPRoute the user owns.  Pure, on plain dicts.

    check_options(weight, stable, canary, rules, header_route) -> None, or RouteError naming the option
    plan(route, stable, canary, weight, rules=None, header_route=None) -> Plan
    json_patch(route, plan) -> the JSON patch (RFC 6902) that makes the change, with `test` operations
    newly_served(plan) -> the sides ("stable", "canary") the plan sends requests to that got none before

The route stays the user's: only the backendRefs of the managed rules change (stable gets 100 - weight,
the canary weight; a canary backendRef the user did not write is added for the release), plus, with a
header route, one preview rule of ours put first.  What the managed rules looked like before the
release is kept in the annotation RECORD on the route itself, written in the same patch as the first
change and removed in the same patch as the last, so a run killed anywhere still knows how to put the
route back, and weight 0 without a header route gives the route exactly as the user wrote it.

Managed rules: the ones named in rules, else every rule with a backendRef to the stable Service.  A
managed rule may send only to stable and the canary, and to the canary at most weight 0 before the
release (else its weights cannot be exact, or would not be the user's to give back).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass

RECORD = "nodowntime.k8s/traffic-weight"
PREVIEW_RULE = "canary-preview"
# The route's rules and matches limits (HTTPRoute CRD: MaxItems 16 rules, 64 matches per rule).
MAX_MATCHES = 64
HEADER_ROUTE_KEYS = {"name", "value", "type", "rule_name"}
HEADER_ROUTE_TYPES = ("header", "cookie")
_SECTION_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


class RouteError(ValueError):
    """A route or options the plan cannot honour; the message names the option or the rule."""


@dataclass(frozen=True)
class Plan:
    rules: list  # spec.rules to write
    record: str | None  # the RECORD annotation's text to write; None: remove it
    managed: tuple  # labels of the managed rules, in order
    weights_before: dict  # {label: {"stable": n, "canary": n}}
    weights_after: dict
    preview_before: dict | None  # our preview rule, before and after
    preview_after: dict | None
    changed: bool


def check_options(weight, stable, canary, rules=None, header_route=None):
    if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= 100:
        raise RouteError(f"weight must be an integer from 0 to 100, got {weight!r}")
    if stable == canary:
        raise RouteError(f"stable_service and canary_service must be two Services, both are {stable!r}")
    if rules is not None:
        if not rules or any(not isinstance(r, str) or not r for r in rules):
            raise RouteError(f"rules must be a non-empty list of rule names, got {rules!r}")
        if len(set(rules)) != len(rules):
            raise RouteError(f"rules names a rule twice: {rules!r}")
    if header_route is not None:
        _check_header_route(header_route, rules)


def _check_header_route(header_route, rules):
    unknown = sorted(set(header_route) - HEADER_ROUTE_KEYS)
    if unknown:
        raise RouteError(
            f"header_route: unknown key {', '.join(unknown)}; known: {', '.join(sorted(HEADER_ROUTE_KEYS))}"
        )
    for key in ("name", "value"):
        if not isinstance(header_route.get(key), str) or not header_route.get(key):
            raise RouteError(f"header_route.{key} must be a non-empty string, got {header_route.get(key)!r}")
    kind = header_route.get("type") or "header"
    if kind not in HEADER_ROUTE_TYPES:
        raise RouteError(f"header_route.type must be one of {', '.join(HEADER_ROUTE_TYPES)}, got {kind!r}")
    name = _preview_name(header_route)
    if not _SECTION_NAME.match(name) or len(name) > 253:
        raise RouteError(f"header_route.rule_name must be a DNS label (lower case, digits, '-'), got {name!r}")
    if rules and name in rules:
        raise RouteError(f"header_route.rule_name {name!r} is also in rules: the preview rule is not a managed rule")


def _preview_name(header_route):
    return (header_route or {}).get("rule_name") or PREVIEW_RULE


def _is(ref, service, namespace):
    return (
        (ref.get("group") or "") == ""
        and (ref.get("kind") or "Service") == "Service"
        and ref.get("name") == service
        and ref.get("namespace", namespace) == namespace
    )


def _label(rule, index):
    return rule.get("name") or f"rules[{index}]"


def _weight(ref):
    return 1 if ref is None else int(ref.get("weight", 1))


def _refs(rule, service, namespace):
    return [ref for ref in rule.get("backendRefs") or [] if _is(ref, service, namespace)]


def _weights(rule, stable, canary, namespace):
    found = {side: _refs(rule, name, namespace) for side, name in (("stable", stable), ("canary", canary))}
    return {side: _weight(refs[0]) if refs else 0 for side, refs in found.items()}


def _read_record(route):
    text = ((route.get("metadata") or {}).get("annotations") or {}).get(RECORD)
    if text is None:
        return None, None
    try:
        record = json.loads(text)
    except ValueError:
        record = None
    if not isinstance(record, dict) or not isinstance(record.get("rules"), list):
        raise RouteError(
            f"annotation {RECORD} on the route is not what this module writes ({text!r}); "
            "remove it once the route's rules are as they should be without a canary"
        )
    return text, record


def _select(user_rules, stable, namespace, rules):
    """Indices of the managed rules in the user's rules."""
    if rules is None:
        found = [i for i, rule in enumerate(user_rules) if _refs(rule, stable, namespace)]
        if not found:
            raise RouteError(f"no rule of the route has a backendRef to stable_service {stable!r}")
        return found
    names = {rule.get("name"): i for i, rule in enumerate(user_rules) if rule.get("name")}
    missing = [name for name in rules if name not in names]
    if missing:
        known = ", ".join(sorted(names)) or "none"
        raise RouteError(f"rules: no rule named {', '.join(missing)} in the route (named rules: {known})")
    return [names[name] for name in rules]


def _check_managed(rule, label, stable, canary, namespace):
    refs = rule.get("backendRefs") or []
    others = [r.get("name") for r in refs if not _is(r, stable, namespace) and not _is(r, canary, namespace)]
    if others:
        raise RouteError(
            f"rule {label} also sends to {', '.join(map(str, others))}: exact weights need a rule whose "
            f"backendRefs are only {stable!r} (and {canary!r}); name the rules to manage in rules"
        )
    if len(_refs(rule, stable, namespace)) != 1:
        raise RouteError(f"rule {label} needs exactly one backendRef to stable_service {stable!r}")
    canaries = _refs(rule, canary, namespace)
    if len(canaries) > 1:
        raise RouteError(f"rule {label} has {len(canaries)} backendRefs to canary_service {canary!r}; at most one")
    if canaries and _weight(canaries[0]):
        raise RouteError(
            f"rule {label} already sends weight {_weight(canaries[0])} to canary_service {canary!r}; "
            "set it to 0 (or remove it) before a release"
        )


def _released(refs, stable, canary, namespace, weight):
    """The backendRefs of a managed rule at weight (the user's own at 0)."""
    if not weight:
        return copy.deepcopy(refs)
    out = copy.deepcopy(refs)
    stable_ref = next(r for r in out if _is(r, stable, namespace))
    stable_ref["weight"] = 100 - weight
    canary_ref = next((r for r in out if _is(r, canary, namespace)), None)
    if canary_ref is None:
        canary_ref = {"group": "", "kind": "Service", "name": canary}
        if "namespace" in stable_ref:
            canary_ref["namespace"] = stable_ref["namespace"]
        if "port" in stable_ref:
            canary_ref["port"] = stable_ref["port"]
        out.append(canary_ref)
    canary_ref["weight"] = weight
    return out


def _preview(originals, canary, namespace, stable, header_route):
    """Our preview rule: the managed rules' matches, each also requiring the header, sent to the canary.

    With the managed rules' own matches plus one header, it is more specific than each of them, so
    Gateway API precedence picks it for marked requests wherever it stands; it is also put first."""
    kind = header_route.get("type") or "header"
    if kind == "cookie":
        cookie = f"{re.escape(header_route['name'])}={re.escape(header_route['value'])}"
        marker = {"type": "RegularExpression", "name": "Cookie", "value": f"(^|;\\s*){cookie}(;|$)"}
    else:
        marker = {"type": "Exact", "name": header_route["name"], "value": header_route["value"]}
    matches = []
    for rule in originals:
        for match in rule.get("matches") or [{"path": {"type": "PathPrefix", "value": "/"}}]:
            match = copy.deepcopy(match)
            match["headers"] = [h for h in match.get("headers") or [] if h.get("name") != marker["name"]] + [marker]
            matches.append(match)
    if len(matches) > MAX_MATCHES:
        raise RouteError(f"header_route: the managed rules have {len(matches)} matches; a rule holds {MAX_MATCHES}")
    rule = {"name": _preview_name(header_route), "matches": matches}
    for field in ("filters", "timeouts"):
        values = [rule_.get(field) for rule_ in originals]
        if any(value != values[0] for value in values):
            raise RouteError(f"header_route: the managed rules' {field} differ; name one rule in rules")
        if values[0]:
            rule[field] = copy.deepcopy(values[0])
    stable_ref = _refs(originals[0], stable, namespace)[0]
    ref = {"group": "", "kind": "Service", "name": canary, "weight": 1}
    for field in ("namespace", "port"):
        if field in stable_ref:
            ref[field] = stable_ref[field]
    rule["backendRefs"] = [ref]
    return rule


def _from_record(current, record, stable, canary, namespace):
    """The user's rules as they were before the release: ours taken out, the recorded backendRefs put back.

    RouteError when a managed rule is neither as the release left it at some weight nor as the user
    wrote it: someone else changed it during the release (the route is out of sync with the release)."""
    preview = record.get("preview")
    user = [copy.deepcopy(rule) for rule in current if not (preview and rule.get("name") == preview)]
    for entry in record["rules"]:
        index, refs = entry.get("index"), entry.get("backendRefs")
        if not isinstance(index, int) or not 0 <= index < len(user) or user[index].get("name") != entry.get("name"):
            raise RouteError(
                f"the route's rules changed during the release: rule {entry.get('name') or f'rules[{index}]'} "
                f"recorded in annotation {RECORD} is not where it was; put the rules back or remove the annotation"
            )
        live = user[index].get("backendRefs") or []
        weight = _weights(user[index], stable, canary, namespace)["canary"]
        if live != _released(refs, stable, canary, namespace, weight if 0 <= weight <= 100 else 0):
            raise RouteError(
                f"rule {_label(user[index], index)} is out of sync with the release in progress: its backendRefs "
                f"{json.dumps(live, sort_keys=True)} are not what this module wrote; put back weights that add up "
                f"to 100 between {stable!r} and {canary!r}, or the user's own "
                f"{json.dumps(refs, sort_keys=True)} and remove annotation {RECORD}"
            )
        user[index]["backendRefs"] = copy.deepcopy(refs)
    return user, preview


def plan(route, stable, canary, weight, rules=None, header_route=None):
    namespace = (route.get("metadata") or {}).get("namespace")
    current = (route.get("spec") or {}).get("rules") or []
    text, record = _read_record(route)
    if record is None:
        names = {rule.get("name") for rule in current}
        if header_route and _preview_name(header_route) in names:
            raise RouteError(
                f"header_route.rule_name {_preview_name(header_route)!r} names a rule the route already has; "
                "choose another"
            )
        originals, preview_name = copy.deepcopy(current), None
    else:
        originals, preview_name = _from_record(current, record, stable, canary, namespace)
    indices = _select(originals, stable, namespace, rules)
    if record is not None and indices != [entry["index"] for entry in record["rules"]]:
        recorded = ", ".join(e.get("name") or f"rules[{e['index']}]" for e in record["rules"])
        raise RouteError(f"rules differ from the release in progress, which manages {recorded}; finish it first")
    for i in indices:
        _check_managed(originals[i], _label(originals[i], i), stable, canary, namespace)
    managed = [originals[i] for i in indices]
    after = copy.deepcopy(originals)
    for i in indices:
        after[i]["backendRefs"] = _released(originals[i].get("backendRefs") or [], stable, canary, namespace, weight)
    preview = _preview(managed, canary, namespace, stable, header_route) if header_route else None
    if preview:
        after.insert(0, preview)
    new_record = None
    if weight or preview:
        entries = [
            {"index": i, "backendRefs": originals[i].get("backendRefs") or [], **_named(originals[i])} for i in indices
        ]
        new_record = json.dumps({"rules": entries, **({"preview": preview["name"]} if preview else {})}, sort_keys=True)
    labels = tuple(_label(originals[i], i) for i in indices)
    live = {_label(originals[i], i): i for i in indices}
    current_user = [r for r in current if not (preview_name and r.get("name") == preview_name)]
    return Plan(
        rules=after,
        record=new_record,
        managed=labels,
        weights_before={label: _weights(current_user[i], stable, canary, namespace) for label, i in live.items()},
        weights_after={
            label: _weights(after[i + bool(preview)], stable, canary, namespace) for label, i in live.items()
        },
        preview_before=next((r for r in current if preview_name and r.get("name") == preview_name), None),
        preview_after=preview,
        changed=after != current or new_record != text,
    )


def _served(weights, preview):
    sides = {side for both in weights.values() for side, weight in both.items() if weight}
    return (sides | {"canary"}) if preview else sides


def newly_served(plan):
    """The sides the route sends requests to after the plan and sent none before, in order: each needs a
    ready endpoint first, as a gateway answers a backend's share with 503 while its Service lists none."""
    before = _served(plan.weights_before, plan.preview_before)
    return [side for side in ("stable", "canary") if side in _served(plan.weights_after, plan.preview_after) - before]


def _named(rule):
    return {"name": rule["name"]} if rule.get("name") else {}


def _pointer(key):
    return key.replace("~", "~0").replace("/", "~1")


def json_patch(route, plan):
    """test the rules read (and the record), then write: a route changed meanwhile fails the patch whole.

    spec.rules is a listType=atomic list in the HTTPRoute CRD: under server-side apply one field manager
    owns the whole list, so applying our weights would take the user's rules from their manager (or
    conflict on every step without force). A JSON patch changes what we change and, through `test`,
    refuses to if anyone changed the rules since we read them."""
    annotations = (route.get("metadata") or {}).get("annotations") or {}
    rules = (route.get("spec") or {}).get("rules") or []
    key = f"/metadata/annotations/{_pointer(RECORD)}"
    ops = [{"op": "test", "path": "/spec/rules", "value": rules}]
    if RECORD in annotations:
        ops.append({"op": "test", "path": key, "value": annotations[RECORD]})
    if plan.rules != rules:
        ops.append({"op": "replace", "path": "/spec/rules", "value": plan.rules})
    if plan.record is None and RECORD in annotations:
        only_ours = set(annotations) == {RECORD}
        ops.append({"op": "remove", "path": "/metadata/annotations" if only_ours else key})
    elif plan.record is not None and plan.record != annotations.get(RECORD):
        if "annotations" not in (route.get("metadata") or {}):
            ops.append({"op": "add", "path": "/metadata/annotations", "value": {RECORD: plan.record}})
        else:
            ops.append({"op": "add", "path": key, "value": plan.record})
    return ops
