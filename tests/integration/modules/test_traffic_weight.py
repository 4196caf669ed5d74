"""traffic_weight on the local cluster's gateway: a missing canary Service is refused with nothing changed, a route
the gateway rejects fails the task with the gateway's own words, check mode and a second run change nothing, and
the negative control: the meter through the gateway counts the failures of a canary Service whose pods refuse the
connection."""

import pytest
from ansible_run import run_module
from gateway_routes import STABLE_LABELS, read_route, service, stable_app, users_part

from localcluster import workloads
from localcluster.meter import Meter


def _args(namespace, weight, canary="web-canary", **extra):
    return {
        "name": "web",
        "namespace": namespace,
        "stable_service": "web",
        "canary_service": canary,
        "weight": weight,
        "wait_timeout": 30,
        **extra,
    }


def _canary(kube, namespace, deploy, target_port="http"):
    """web-canary (:2, one pod, track canary) behind Service web-canary on target_port."""
    labels = {"app": "web", "track": "canary"}
    deploy(workloads.deployment("web-canary", workloads.demo_container("2"), replicas=1, labels=labels), service=False)
    kube.core.create_namespaced_service(namespace, service("web-canary", labels, target_port))


@pytest.mark.timeout(240)
def test_a_route_the_gateway_rejects_fails_with_its_message_and_weight_0_gives_the_route_back(kube, namespace, deploy):
    _url, created = stable_app(kube, namespace, deploy, workloads.demo_container("1"), replicas=1)
    checked, out = run_module("traffic_weight", _args(namespace, 10, canary="missing"), check=True, diff=True)
    assert (
        "Task failed" not in out
        and checked["changed"]
        and checked["weights_after"] == {"rules[0]": {"stable": 90, "canary": 10}}
    )
    assert users_part(read_route(kube, namespace)) == users_part(created)  # check mode changed nothing

    refused, out = run_module("traffic_weight", _args(namespace, 10, canary="missing"))
    assert "Task failed" in out and refused["reason"] == "NotFound" and not refused["changed"], out
    assert f"Service {namespace}/missing not found" in refused["msg"], refused["msg"]
    assert users_part(read_route(kube, namespace)) == users_part(created)

    # A Service with ready endpoints but not the port the route names (stable's, 80): Traefik refuses the ref.
    other = service("other-port", STABLE_LABELS)
    other["spec"]["ports"][0]["port"] = 81
    kube.core.create_namespaced_service(namespace, other)
    rejected, out = run_module("traffic_weight", _args(namespace, 10, canary="other-port"))
    assert "Task failed" in out and rejected["reason"] == "GatewayRejected", out
    assert "ResolvedRefs=False" in rejected["msg"] and "other-port" in rejected["msg"], rejected["msg"]

    back, out = run_module("traffic_weight", _args(namespace, 0, canary="other-port"))
    assert "Task failed" not in out and back["changed"], out
    again, out = run_module("traffic_weight", _args(namespace, 0, canary="other-port"))
    assert "Task failed" not in out and not again["changed"], out
    assert users_part(read_route(kube, namespace)) == users_part(created)


@pytest.mark.timeout(240)
def test_the_meter_through_the_gateway_counts_a_canary_that_refuses_connections(kube, namespace, deploy):
    url, _created = stable_app(kube, namespace, deploy, workloads.demo_container("1"), replicas=1)
    _canary(kube, namespace, deploy, target_port=9)  # ready pods, but nothing listens on port 9
    _broken, out = run_module("traffic_weight", _args(namespace, 50))
    assert "Task failed" not in out, out  # the gateway accepts it: the Service and its endpoints exist
    with Meter(url, rps=50, max_requests=200, max_duration=10) as meter:
        meter.wait()
    s = meter.summary
    run_module("traffic_weight", _args(namespace, 0))
    print(f"canary refusing at weight 50: {s['failed']} of {s['sent']} failed, {s['failed_by_kind']}")  # with -s
    assert s["sent"] == 200 and 50 <= s["failed"] <= 150, (s["failed"], s["failed_by_kind"])
