# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The traffic_weight module: set a canary's exact weight on an HTTPRoute, then wait on the gateway.

A Service the route starts sending requests to must list a ready endpoint before the patch: a gateway
sends a backend's share to the ready endpoints it knows, and answers it with 503 while there are none.

check(params) -> None; ValueError for options refused before any request
run(client, params, checked, check_mode, timeline, warn) -> result (for exit_json)
raises TaskFailed(message, result)                        (for fail_json)
"""

from __future__ import annotations

from ansible_collections.nodowntime.k8s.plugins.module_utils._argspec import check_wait
from ansible_collections.nodowntime.k8s.plugins.module_utils._backends.task_failed import TaskFailed
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s import waiter
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.errors import ApiError
from ansible_collections.nodowntime.k8s.plugins.module_utils._plan import route_weights
from ansible_collections.nodowntime.k8s.plugins.module_utils._status import route_status
from ansible_collections.nodowntime.k8s.plugins.module_utils._status import verdict as v
from ansible_collections.nodowntime.k8s.plugins.module_utils._status.switch_checks import (
    SERVICE_NAME_LABEL,
    endpoint_pods,
)

KIND = "HTTPRoute"


def check(params):
    route_weights.check_options(
        params["weight"], params["stable_service"], params["canary_service"], params["rules"], params["header_route"]
    )
    check_wait(params)


def _diff_state(plan, before):
    weights = plan.weights_before if before else plan.weights_after
    return {"weights": weights, "preview_rule": plan.preview_before if before else plan.preview_after}


def _conflict(route, error):
    # A failed `test` operation: the rules (or our record) changed between our read and our patch.
    return TaskFailed(
        f"HTTPRoute {route} changed while this task ran (someone else wrote spec.rules); nothing was changed, "
        f"run the task again to plan from the route as it is now (API server: {error.api_message})",
        {"changed": False, "reason": "Conflict"},
    )


def wait_for_gateway(client, namespace, name, generation, timeout, timeline):
    """The gateway's verdict on generation (the spec we wrote), from a watch on the route."""
    source = waiter.Source(KIND, namespace, field_selector=f"metadata.name={name}")

    def evaluate(state):
        routes = state["route"]
        if not routes:
            return v.failed("NotFound", f"HTTPRoute {namespace}/{name} was deleted")
        return route_status.verdict(routes[0], generation)

    result, state = waiter.wait_until(client, {"route": source}, evaluate, timeout, timeline)
    return result, (state.get("route") or [None])[0]


def wait_for_endpoints(client, namespace, service, timeout, timeline):
    """Done once the Service's EndpointSlices list a ready pod, from a watch on them."""
    source = waiter.Source("EndpointSlice", namespace, label_selector=f"{SERVICE_NAME_LABEL}={service}")

    def evaluate(state):
        ready = endpoint_pods(state["slices"])[1]
        if ready:
            return v.done(f"Service {namespace}/{service}: {len(ready)} ready endpoints")
        return v.waiting(f"Service {namespace}/{service}: no ready endpoint yet")

    result, _state = waiter.wait_until(client, {"slices": source}, evaluate, timeout, timeline)
    return result


def _endpoints_first(client, params, plan, report, timeline):
    """TaskFailed, with nothing changed, when a Service the plan starts sending requests to does not exist or
    lists no ready endpoint within wait_timeout."""
    namespace, where = params["namespace"], f"{params['namespace']}/{params['name']}"
    for side in route_weights.newly_served(plan):
        service = params[f"{side}_service"]
        failed = {"changed": False, "timeline": timeline.entries, **report}
        try:
            client.get("Service", namespace, service)
        except ApiError as e:
            if e.status != 404:
                raise
            raise TaskFailed(
                f"HTTPRoute {where}: Service {namespace}/{service} not found ({side}_service); nothing was changed",
                dict(failed, reason="NotFound"),
            ) from None
        result = wait_for_endpoints(client, namespace, service, params["wait_timeout"], timeline)
        if result.state != v.DONE:
            raise TaskFailed(
                f"HTTPRoute {where}: not sending requests to Service {namespace}/{service}, which lists no ready "
                f"endpoint (the gateway would answer them with 503): {result.message}; nothing was changed",
                dict(failed, reason="NoReadyEndpoints"),
            )


def run(client, params, _checked, check_mode, timeline, warn):
    namespace, name = params["namespace"], params["name"]
    where = f"{namespace}/{name}"
    try:
        route = client.get(KIND, namespace, name)
        plan = route_weights.plan(
            route,
            params["stable_service"],
            params["canary_service"],
            params["weight"],
            params["rules"],
            params["header_route"],
        )
    except route_weights.RouteError as e:
        raise TaskFailed(f"HTTPRoute {where}: {e}", {"changed": False, "timeline": timeline.entries}) from None
    except ApiError as e:
        raise TaskFailed(e.message, {"changed": False, "timeline": timeline.entries}) from None
    report = {
        "managed_rules": list(plan.managed),
        "weights_before": plan.weights_before,
        "weights_after": plan.weights_after,
        "preview_rule": plan.preview_after or {},
    }
    diff = {"before": _diff_state(plan, True), "after": _diff_state(plan, False)}
    if plan.changed:
        dry = " (dry run)" if check_mode else ""
        try:
            if not check_mode:
                _endpoints_first(client, params, plan, report, timeline)
            route = client.patch(
                KIND, namespace, name, route_weights.json_patch(route, plan), patch_type="json", dry_run=check_mode
            )
        except ApiError as e:
            if e.status in (409, 422) and "test" in e.api_message.lower():
                raise _conflict(where, e) from None
            raise TaskFailed(e.message, {"changed": False, "timeline": timeline.entries, **report}) from None
        shown = ", ".join(f"{rule} {w['stable']}/{w['canary']}" for rule, w in plan.weights_after.items())
        timeline.add(f"set stable/canary weights of HTTPRoute {where}: {shown}{dry}")
    generation = route["metadata"].get("generation", 0)
    report.update(changed=plan.changed, generation=generation, diff=diff)
    if params["wait"] and not check_mode:
        result, seen = wait_for_gateway(client, namespace, name, generation, params["wait_timeout"], timeline)
        route = seen or route
        if result.state != v.DONE:
            raise TaskFailed(
                result.message,
                {
                    "reason": result.reason,
                    "parents": route_status.parents(route),
                    "timeline": timeline.entries,
                    **report,
                },
            )
    return {"parents": route_status.parents(route), "timeline": timeline.entries, **report}
