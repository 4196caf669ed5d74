"""The traffic_weight backend with a fake API server: one JSON patch, dry runs, conflicts, the gateway's verdict."""

import copy

import pytest
from route_objects import ROOT, SERVING, FakeApi, endpoint_slice, ref, rejecting, route

from ansible_collections.nodowntime.k8s.plugins.module_utils._backends import traffic_weight
from ansible_collections.nodowntime.k8s.plugins.module_utils._backends.task_failed import TaskFailed
from ansible_collections.nodowntime.k8s.plugins.module_utils._release.timeline import Timeline

USERS = route([{"matches": ROOT, "backendRefs": [ref("web")]}])


def params(**overrides):
    base = {"name": "web", "namespace": "shop", "stable_service": "web", "canary_service": "web-canary"}
    return {**base, "weight": 10, "rules": None, "header_route": None, "wait": True, "wait_timeout": 5, **overrides}


def run(api, check_mode=False, **overrides):
    p = params(**overrides)
    traffic_weight.check(p)
    return traffic_weight.run(api, p, None, check_mode, Timeline(), print)


def test_a_step_patches_once_and_waits_for_the_gateway():
    api = FakeApi(USERS)
    result = run(api)
    assert len(api.patches) == 1 and result["changed"]
    assert result["weights_before"] == {"rules[0]": {"stable": 1, "canary": 0}}
    assert result["weights_after"] == {"rules[0]": {"stable": 90, "canary": 10}}
    assert result["generation"] == 4 and result["parents"][0]["conditions"]["Accepted"]["observedGeneration"] == 4
    assert result["diff"]["before"]["weights"] != result["diff"]["after"]["weights"]


def test_the_same_step_again_is_idempotent():
    api = FakeApi(USERS)
    run(api, header_route={"name": "X-Canary", "value": "always"})
    again = run(api, header_route={"name": "X-Canary", "value": "always"})
    assert not again["changed"] and len(api.patches) == 1


def test_check_mode_sends_a_dry_run_and_changes_nothing():
    api = FakeApi(USERS)
    result = run(api, check_mode=True, weight=50)
    assert result["changed"] and api.patches[0][1] is True
    assert [r for r in api.requests if r[1] != "HTTPRoute"] == []  # a dry run does not wait on endpoints
    assert api.route["spec"] == USERS["spec"]


def test_promote_gives_the_users_route_back_in_one_patch():
    api = FakeApi(USERS)
    for weight in (1, 10, 50):
        run(api, weight=weight, header_route={"name": "X-Canary", "value": "always"})
    run(api, weight=0)
    assert len(api.patches) == 4
    back = copy.deepcopy(api.route)
    back.pop("status")
    assert back == {**USERS, "metadata": {**USERS["metadata"], "generation": 7}}


def test_a_rejected_route_fails_with_the_gateways_message():
    api = FakeApi(USERS, gateway=rejecting)
    with pytest.raises(TaskFailed) as e:
        run(api)
    assert e.value.result["reason"] == "GatewayRejected"
    assert "ResolvedRefs=False BackendNotFound: service shop/web-canary not found" in e.value.message
    assert e.value.result["changed"] is True  # the weights were written; the caller puts them back


def test_the_first_weight_waits_until_the_canary_service_lists_a_ready_endpoint():
    unready = dict(SERVING, **{"web-canary": [endpoint_slice("web-canary", ready=False)]})
    api = FakeApi(USERS, services=unready, arriving=[("MODIFIED", endpoint_slice("web-canary"))])
    result = run(api)
    assert result["changed"] and len(api.patches) == 1
    assert api.requests[:5] == [
        ("get", "HTTPRoute"),
        ("get", "Service"),
        ("list", "EndpointSlice"),
        ("watch", "EndpointSlice"),
        ("patch", "HTTPRoute"),
    ]
    messages = [e["message"] for e in result["timeline"]]
    assert messages[0] == "Service shop/web-canary: 1 ready endpoints", messages
    assert messages[1].startswith("set stable/canary weights of HTTPRoute shop/web: rules[0] 90/10"), messages


def test_a_weight_to_a_served_canary_reads_no_endpoints():
    api = FakeApi(USERS)
    run(api)
    api.requests.clear()
    run(api, weight=50)
    assert [r for r in api.requests if r[1] != "HTTPRoute"] == []


@pytest.mark.parametrize(
    "services, reason, message",
    [
        (
            dict(SERVING, **{"web-canary": [endpoint_slice("web-canary", ready=False)]}),
            "NoReadyEndpoints",
            (
                "not sending requests to Service shop/web-canary, which lists no ready endpoint (the gateway would "
                "answer them with 503): timed out after 1s waiting; last status: Service shop/web-canary: no ready "
                "endpoint yet; nothing was changed"
            ),
        ),
        ({"web-canary": []}, "NoReadyEndpoints", "which lists no ready endpoint"),
        ({"web": SERVING["web"]}, "NotFound", "Service shop/web-canary not found (canary_service); nothing was"),
    ],
    ids=["no-ready-pod", "no-endpoint-at-all", "no-service"],
)
def test_a_canary_service_that_cannot_serve_is_refused_with_nothing_changed(services, reason, message):
    api = FakeApi(USERS, services=services)
    with pytest.raises(TaskFailed) as e:
        run(api, wait_timeout=1)
    assert e.value.result["reason"] == reason and e.value.result["changed"] is False
    assert message in e.value.message
    assert api.patches == []


def test_a_route_changed_between_read_and_patch_fails_whole():
    def someone_else(obj):
        obj["spec"]["rules"][0]["backendRefs"][0]["weight"] = 3

    api = FakeApi(USERS, meddle=someone_else)
    with pytest.raises(TaskFailed) as e:
        run(api)
    assert e.value.result == {"changed": False, "reason": "Conflict"}
    assert "changed while this task ran" in e.value.message and "testing value /spec/rules failed" in e.value.message
    assert api.route["spec"]["rules"][0]["backendRefs"] == [ref("web", 3)]  # theirs, not ours


def test_a_route_the_plan_refuses_changes_nothing():
    api = FakeApi(route([{"matches": ROOT, "backendRefs": [ref("web"), ref("other")]}]))
    with pytest.raises(TaskFailed, match="HTTPRoute shop/web: rule rules\\[0\\] also sends to other"):
        run(api)
    assert api.patches == []


def test_a_gateway_that_never_takes_the_generation_times_out_saying_so():
    api = FakeApi(USERS, gateway=lambda obj: [])
    with pytest.raises(TaskFailed) as e:
        run(api, wait_timeout=1)
    assert e.value.result["reason"] == "WaitTimeout" and "gateway shop/edge: no status yet" in e.value.message
