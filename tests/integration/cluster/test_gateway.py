"""The cluster's Gateway API gateway (Traefik): an HTTPRoute's weights split real traffic between two
Services' pods, and the route's status says what the gateway made of it.

Every test's route matches only the path prefix /<its namespace> and rewrites it to /, the demo app's
one page, so routes of tests side by side never overlap on the shared Gateway."""

import functools

from kubernetes import client

from localcluster import cluster, gateway, shares, workloads
from localcluster.meter import Meter

GROUP, VERSION, ROUTES = "gateway.networking.k8s.io", "v1", "httproutes"


def _route(namespace, name, backends):
    """backends: [(service, weight)]."""
    return gateway.http_route(name, namespace, [{"name": svc, "port": 80, "weight": w} for svc, w in backends])


def _create_and_wait(kube, namespace, route, predicate, what):
    custom = client.CustomObjectsApi(kube.api)
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, ROUTES, route)
    list_routes = functools.partial(custom.list_namespaced_custom_object, GROUP, VERSION, namespace, ROUTES)
    name = route["metadata"]["name"]
    return workloads.wait_for(list_routes, name, predicate, 30, f"HTTPRoute {namespace}/{name} {what}")


def test_route_weights_split_traffic_between_two_services(kube, namespace, deploy):
    deploy(workloads.deployment("stable", workloads.demo_container("1"), replicas=2))
    deploy(workloads.deployment("canary", workloads.demo_container("2"), replicas=1))
    route = _create_and_wait(
        kube,
        namespace,
        _route(namespace, "web", [("stable", 90), ("canary", 10)]),
        gateway.route_accepted,
        "Accepted and ResolvedRefs",
    )
    assert gateway.route_conditions(route)["Accepted"]["reason"] == "Accepted"
    url = f"{cluster.gateway_url(kube.info)}{namespace}"
    # The status is written as the configuration is built; the data plane takes it up to the throttle later.
    workloads.wait_serving(url, timeout=10)
    requests = 200
    with Meter(url, rps=50, max_requests=requests, max_duration=10) as m:
        m.wait()
    summary = m.summary
    assert (summary["sent"], summary["failed"]) == (requests, 0), summary["failure_samples"]
    low, high = shares.acceptance(requests, 10)
    assert low <= summary["versions"].get("2", 0) <= high, summary["versions"]
    assert set(summary["versions"]) == {"1", "2"}


def test_a_backend_ref_to_a_missing_service_is_not_resolved(kube, namespace):
    route = _create_and_wait(
        kube,
        namespace,
        _route(namespace, "broken", [("no-such-service", 1)]),
        lambda r: gateway.route_conditions(r).get("ResolvedRefs", {}).get("status") == "False",
        "ResolvedRefs False",
    )
    resolved = gateway.route_conditions(route)["ResolvedRefs"]
    assert resolved["reason"] == "BackendNotFound", resolved
    assert "no-such-service" in resolved["message"], resolved
