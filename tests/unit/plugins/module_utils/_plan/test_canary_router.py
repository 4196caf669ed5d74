"""The canary's traffic router: role variables checked, the route promote and abort carry on, the canary Service."""

import json

import pytest

from ansible_collections.nodowntime.k8s.plugins.module_utils._plan import canary_router
from ansible_collections.nodowntime.k8s.plugins.module_utils._plan.canary_router import ANNOTATION, RouterError

OPTIONS = {"name": "web", "namespace": "shop", "router": "gateway_api", "route": {"name": "web"}, "min_replicas": 1}


def test_gateway_defaults_name_both_services_and_the_routes_namespace():
    decided = canary_router.settings(OPTIONS)
    assert (decided["stable_service"], decided["canary_service"], decided["mode"]) == ("web", "web-canary", "capacity")
    assert decided["route"] == {"name": "web", "namespace": "shop", "rules": None, "header_route": None}
    assert json.loads(decided["record"][ANNOTATION])["route"]["name"] == "web"


def test_replicas_is_todays_canary():
    assert canary_router.settings(dict(OPTIONS, router="replicas")) == {
        "router": "replicas",
        "gateway": False,
        "mode": "",
        "record": {},
    }


@pytest.mark.parametrize(
    "action, given, router",
    [
        pytest.param("abort", "replicas", "gateway_api", id="abort-moves-the-route-the-run-moved"),
        pytest.param("promote", "replicas", "gateway_api", id="promote-too"),
        pytest.param("run", "replicas", "replicas", id="a-new-run-takes-what-it-is-given"),
    ],
)
def test_promote_and_abort_carry_on_the_recorded_router(action, given, router):
    recorded = canary_router.settings(OPTIONS)
    canary = {"metadata": {"annotations": recorded["record"]}}
    assert canary_router.settings(dict(OPTIONS, router=given), canary, action)["router"] == router


@pytest.mark.parametrize(
    "options, message",
    [
        pytest.param({"router": "istio"}, "canary_traffic_router must be one of replicas, gateway_api", id="router"),
        pytest.param({"route": {}}, "canary_route.name is required", id="no-route"),
        pytest.param({"route": {"name": "w", "host": "x"}}, "canary_route: unknown key host", id="route-key"),
        pytest.param({"min_replicas": 0}, "canary_min_replicas must be an integer >= 1", id="min-replicas"),
    ],
)
def test_variables_refused(options, message):
    with pytest.raises(RouterError, match=message):
        canary_router.settings(dict(OPTIONS, **options))


def service(selector):
    return {"metadata": {"name": "web", "namespace": "shop"}, "spec": {"selector": selector, "ports": [{"port": 80}]}}


CANARY_LABELS = {"app": "web", "track": "canary"}


@pytest.mark.parametrize(
    "selector, refused, canary_selector",
    [
        pytest.param({"app": "web", "track": "stable"}, False, {"app": "web", "track": "canary"}, id="own-label"),
        pytest.param({"app": "web"}, True, {"app": "web", "track": "canary"}, id="stable-selects-canary-pods-too"),
    ],
)
def test_the_canary_service_selects_the_canary_pods_only(selector, refused, canary_selector):
    plan = canary_router.canary_service(service(selector), "web-canary", CANARY_LABELS)
    assert bool(plan["refusal"]) is refused
    assert plan["definition"]["spec"] == {"selector": canary_selector, "ports": [{"port": 80}]}
