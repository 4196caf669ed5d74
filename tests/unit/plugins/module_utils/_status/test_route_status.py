"""The gateway's verdict on an HTTPRoute generation, from status.parents: per parentRef, current conditions only."""

import pytest
from route_objects import route

from ansible_collections.nodowntime.k8s.plugins.module_utils._status import route_status
from ansible_collections.nodowntime.k8s.plugins.module_utils._status import verdict as v

EDGE = {"group": "gateway.networking.k8s.io", "kind": "Gateway", "namespace": "shop", "name": "edge"}
INTERNAL = {"group": "gateway.networking.k8s.io", "kind": "Gateway", "namespace": "infra", "name": "internal"}


def condition(kind, status="True", generation=3, reason=None, message=""):
    return {
        "type": kind,
        "status": status,
        "observedGeneration": generation,
        "reason": reason or kind,
        "message": message,
    }


def parent(ref=None, accepted=None, resolved=None, controller="traefik.io/gateway-controller"):
    conditions = [c for c in (accepted, resolved) if c is not None]
    return {"parentRef": ref or EDGE, "controllerName": controller, "conditions": conditions}


OK = parent(accepted=condition("Accepted"), resolved=condition("ResolvedRefs"))


def judged(parents, parent_refs=({"name": "edge"},), generation=3):
    obj = route([], status={"parents": list(parents)})
    obj["spec"]["parentRefs"] = list(parent_refs)
    return route_status.verdict(obj, generation)


@pytest.mark.parametrize(
    "parents, parent_refs, state, words",
    [
        pytest.param([OK], [{"name": "edge"}], v.DONE, "1 parent(s) Accepted", id="accepted-and-resolved"),
        pytest.param([], [{"name": "edge"}], v.WAITING, "gateway shop/edge: no status yet", id="no-status-yet"),
        pytest.param(
            [parent(accepted=condition("Accepted", generation=2), resolved=condition("ResolvedRefs", generation=2))],
            [{"name": "edge"}],
            v.WAITING,
            "Accepted is about generation 2, not 3",
            id="observed-generation-stale",
        ),
        pytest.param(
            [
                parent(
                    accepted=condition("Accepted", "False", 2, "NotAllowedByListeners"),
                    resolved=condition("ResolvedRefs"),
                )
            ],
            [{"name": "edge"}],
            v.WAITING,
            "about generation 2",
            id="stale-rejection-is-not-the-answer",
        ),
        pytest.param(
            [parent(accepted=condition("Accepted"))],
            [{"name": "edge"}],
            v.WAITING,
            "no ResolvedRefs",
            id="one-condition",
        ),
        pytest.param(
            [parent(accepted=condition("Accepted", generation=4), resolved=condition("ResolvedRefs", generation=5))],
            [{"name": "edge"}],
            v.DONE,
            "Accepted",
            id="newer-generation-counts",
        ),
        pytest.param(
            [OK],
            [{"name": "edge"}, {"name": "internal", "namespace": "infra"}],
            v.WAITING,
            "gateway infra/internal: no status yet",
            id="multiple-parentrefs-one-missing",
        ),
        pytest.param(
            [OK, parent(INTERNAL, condition("Accepted"), condition("ResolvedRefs"))],
            [{"name": "edge"}, {"name": "internal", "namespace": "infra"}],
            v.DONE,
            "2 parent(s)",
            id="multiple-parentrefs-all-accepted",
        ),
        pytest.param(
            [parent({**EDGE, "sectionName": "https"}, condition("Accepted"), condition("ResolvedRefs"))],
            [{"name": "edge", "sectionName": "http"}],
            v.WAITING,
            "gateway shop/edge (http): no status yet",
            id="another-listener-is-another-parent",
        ),
    ],
)
def test_verdict(parents, parent_refs, state, words):
    result = judged(parents, parent_refs)
    assert result.state == state and words in result.message


@pytest.mark.parametrize(
    "bad, words",
    [
        pytest.param(
            condition("ResolvedRefs", "False", 3, "BackendNotFound", 'service "shop/web-canary" not found'),
            'ResolvedRefs=False BackendNotFound: service "shop/web-canary" not found',
            id="rejected-route-missing-backend",
        ),
        pytest.param(
            condition("Accepted", "False", 3, "NotAllowedByListeners", "no listener allows namespace shop"),
            "Accepted=False NotAllowedByListeners: no listener allows namespace shop",
            id="rejected-route-not-allowed",
        ),
    ],
)
def test_a_current_false_condition_fails_with_the_gateways_words(bad, words):
    good = {"Accepted": condition("Accepted"), "ResolvedRefs": condition("ResolvedRefs")}
    good[bad["type"]] = bad
    result = judged([parent(accepted=good["Accepted"], resolved=good["ResolvedRefs"])])
    assert result.state == v.FAILED and result.reason == "GatewayRejected"
    assert "gateway shop/edge (traefik.io/gateway-controller) does not take generation 3" in result.message
    assert words in result.message


def test_a_route_without_parents_fails_at_once():
    assert judged([], parent_refs=()).reason == "NoParentRefs"


def test_parents_report_what_the_gateway_wrote():
    obj = route([], status={"parents": [OK]})
    assert route_status.parents(obj) == [
        {
            "parent": "gateway shop/edge",
            "controller": "traefik.io/gateway-controller",
            "conditions": {
                "Accepted": {"status": "True", "reason": "Accepted", "message": "", "observedGeneration": 3},
                "ResolvedRefs": {"status": "True", "reason": "ResolvedRefs", "message": "", "observedGeneration": 3},
            },
        }
    ]
