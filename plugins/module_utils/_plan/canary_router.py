# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a canary release sends traffic to the canary: replica ratio, or a Gateway API route.  Pure.

settings(options, canary=None, action="run") -> the router the release uses; RouterError naming the
    role variable. options: {name, namespace, router, route, stable_service, canary_service,
    min_replicas}. promote and abort carry on the release the canary Deployment records (ANNOTATION),
    whatever they were given, so a promote or an abort never scales a canary away under a route.
canary_service(stable_service, name, canary_labels) -> {definition, refusal}: a Service selecting the
    canary's pods only, like stable's; refusal says why the split cannot be exact, "" when it can
"""

from __future__ import annotations

import json

from ansible_collections.nodowntime.k8s.plugins.module_utils._plan import deployment_variant

REPLICAS, GATEWAY_API = "replicas", "gateway_api"
ROUTERS = (REPLICAS, GATEWAY_API)
ANNOTATION = "nodowntime.k8s/canary-router"
ROUTE_KEYS = {"name", "namespace", "rules", "header_route"}


class RouterError(ValueError):
    """Router variables that cannot work; the message names the role variable."""


def _recorded(canary):
    text = (((canary or {}).get("metadata") or {}).get("annotations") or {}).get(ANNOTATION)
    try:
        return json.loads(text) if text else None
    except ValueError:
        raise RouterError(f"annotation {ANNOTATION} on the canary is not JSON: {text!r}") from None


def settings(options, canary=None, action="run"):
    recorded = _recorded(canary) if action != "run" else None
    if recorded:
        return dict(recorded, record={})
    router = options.get("router") or REPLICAS
    if router not in ROUTERS:
        raise RouterError(f"canary_traffic_router must be one of {', '.join(ROUTERS)}, got {router!r}")
    if router == REPLICAS:
        return {"router": REPLICAS, "gateway": False, "mode": "", "record": {}}
    route = dict(options.get("route") or {})
    unknown = sorted(set(route) - ROUTE_KEYS)
    if unknown:
        raise RouterError(f"canary_route: unknown key {', '.join(unknown)}; known: {', '.join(sorted(ROUTE_KEYS))}")
    if not route.get("name"):
        raise RouterError("canary_route.name is required with canary_traffic_router=gateway_api (the HTTPRoute)")
    min_replicas = options.get("min_replicas", 1)
    if not isinstance(min_replicas, int) or min_replicas < 1:
        raise RouterError(f"canary_min_replicas must be an integer >= 1, got {min_replicas!r}")
    decided = {
        "router": GATEWAY_API,
        "gateway": True,
        "mode": "capacity",
        "min_replicas": min_replicas,
        "route": {
            "name": route["name"],
            "namespace": route.get("namespace") or options["namespace"],
            "rules": route.get("rules"),
            "header_route": route.get("header_route"),
        },
        "stable_service": options.get("stable_service") or options["name"],
        "canary_service": options.get("canary_service") or f"{options['name']}-canary",
    }
    return dict(decided, record={ANNOTATION: json.dumps(decided, sort_keys=True)})


def _selects(selector, labels):
    return bool(selector) and all(labels.get(k) == str(v) for k, v in selector.items())


def canary_service(stable_service, name, canary_labels):
    selector = dict((stable_service.get("spec") or {}).get("selector") or {})
    stable_name = (stable_service.get("metadata") or {}).get("name")
    refusal = ""
    if _selects(selector, canary_labels):
        refusal = (
            f"Service {stable_name} selects the canary's pods too (selector {json.dumps(selector, sort_keys=True)}), "
            "so the route's weights would not be exact: give stable's pods a label the canary's do not carry, "
            "for example track: stable in the Deployment's pod template and the Service's selector"
        )
    canary_selector = {k: canary_labels.get(k, v) for k, v in selector.items()}
    canary_selector["track"] = canary_labels.get("track", "canary")
    return {
        "definition": deployment_variant.preview_service(stable_service, name, canary_selector),
        "refusal": refusal,
    }
