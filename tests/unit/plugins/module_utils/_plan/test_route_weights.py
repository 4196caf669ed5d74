"""Route weights: exact stable/canary weights on the user's HTTPRoute, a preview rule, and the route given back."""

import copy
import json

import pytest
from route_objects import ROOT, apply_json_patch, ref, route

from ansible_collections.nodowntime.k8s.plugins.module_utils._plan import route_weights as rw
from ansible_collections.nodowntime.k8s.plugins.module_utils._plan.route_weights import RECORD, RouteError

MAIN = {"matches": ROOT, "backendRefs": [ref("web")]}
# A user's own header rule sending testers to the canary: never managed, its weight never changed.
USERS_HEADER = {
    "matches": [
        {"path": {"type": "PathPrefix", "value": "/"}, "headers": [{"type": "Exact", "name": "X-Qa", "value": "1"}]}
    ],
    "backendRefs": [ref("web-canary")],
}
API = {"name": "api", "matches": [{"path": {"type": "PathPrefix", "value": "/api"}}], "backendRefs": [ref("web")]}
HEADER = {"name": "X-Canary", "value": "always"}


def apply(obj, plan):
    return apply_json_patch(obj, rw.json_patch(obj, plan))


def step(obj, weight, **options):
    """Plan and apply one step, as the backend does: the route after it."""
    return apply(obj, rw.plan(obj, "web", "web-canary", weight, **options))


def weights(plan):
    return {label: (w["stable"], w["canary"]) for label, w in plan.weights_after.items()}


@pytest.mark.parametrize(
    "rules, weight, options, expected",
    [
        pytest.param([MAIN], 1, {}, {"rules[0]": (99, 1)}, id="one-percent-exact"),
        pytest.param([MAIN], 50, {}, {"rules[0]": (50, 50)}, id="half"),
        pytest.param([MAIN], 100, {}, {"rules[0]": (0, 100)}, id="all-to-canary-stable-weight-0"),
        pytest.param([MAIN], 0, {}, {"rules[0]": (1, 0)}, id="zero-is-the-users-route"),
        pytest.param([API, MAIN], 5, {"rules": ["api"]}, {"api": (95, 5)}, id="named-rule-only"),
        pytest.param([API, MAIN], 5, {}, {"api": (95, 5), "rules[1]": (95, 5)}, id="default-every-rule-to-stable"),
        pytest.param(
            [USERS_HEADER, MAIN], 10, {}, {"rules[1]": (90, 10)}, id="users-header-rule-to-canary-not-managed"
        ),
    ],
)
def test_weights_are_exact_on_the_managed_rules_only(rules, weight, options, expected):
    plan = rw.plan(route(rules), "web", "web-canary", weight, **options)
    assert weights(plan) == expected
    after = apply(route(rules), plan)["spec"]["rules"]
    for index, rule in enumerate(rules):
        if (rule.get("name") or f"rules[{index}]") not in expected:
            assert after[index] == rule  # not managed: untouched, weights included


@pytest.mark.parametrize(
    "before, weight, options, expected",
    [
        pytest.param(None, 10, {}, ["canary"], id="first-weight-serves-the-canary"),
        pytest.param(None, 0, {"header_route": HEADER}, ["canary"], id="a-preview-alone-serves-the-canary"),
        pytest.param(10, 50, {}, [], id="more-weight-to-a-served-canary"),
        pytest.param(100, 0, {}, ["stable"], id="back-from-100-serves-stable-again"),
        pytest.param(10, 0, {}, [], id="abort-to-stable-already-served"),
        pytest.param(None, 0, {}, [], id="nothing-moves"),
    ],
)
def test_newly_served_names_the_sides_that_get_requests_they_did_not_get(before, weight, options, expected):
    obj = route([MAIN]) if before is None else step(route([MAIN]), before)
    assert rw.newly_served(rw.plan(obj, "web", "web-canary", weight, **options)) == expected


def test_the_canary_backend_is_added_with_stables_port_and_removed_at_zero():
    first = step(route([MAIN]), 5)
    assert first["spec"]["rules"][0]["backendRefs"] == [ref("web", 95), ref("web-canary", 5)]
    assert RECORD in first["metadata"]["annotations"]
    back = step(first, 0)
    assert back == route([MAIN])  # exactly the user's route, annotation map gone too


def test_a_canary_backend_the_user_had_at_weight_zero_is_kept():
    users = {"matches": ROOT, "backendRefs": [ref("web", 100), ref("web-canary", 0)]}
    during = step(route([users], {"team": "shop"}), 25)
    assert during["spec"]["rules"][0]["backendRefs"] == [ref("web", 75), ref("web-canary", 25)]
    assert step(during, 0) == route([users], {"team": "shop"})  # the user's annotation stays, ours goes


@pytest.mark.parametrize("weights_walked", [[1, 10, 50, 0], [5, 5, 100, 0], [0]], ids=["steps", "repeat-100", "noop"])
def test_any_walk_ending_at_zero_gives_the_route_back(weights_walked):
    original = route([USERS_HEADER, API, MAIN], {"argocd.argoproj.io/tracking-id": "x"})
    obj = copy.deepcopy(original)
    for weight in weights_walked:
        obj = step(obj, weight, header_route=HEADER if weight else None)
    assert obj == original


def test_the_same_weight_again_changes_nothing():
    obj = step(route([MAIN]), 10, header_route=HEADER)
    plan = rw.plan(obj, "web", "web-canary", 10, header_route=HEADER)
    assert not plan.changed
    assert rw.json_patch(obj, plan) == [
        {"op": "test", "path": "/spec/rules", "value": obj["spec"]["rules"]},
        {"op": "test", "path": "/metadata/annotations/nodowntime.k8s~1traffic-weight", "value": plan.record},
    ]


@pytest.mark.parametrize("weight", [0, 1, 50, 100])
def test_weights_never_overwrite_the_header_rule(weight):
    """Argo Rollouts' Gateway API plugin set every canary backendRef to the step's weight, its own header
    rule's too, so at weight 0 marked requests had no backend (rollouts-plugin-trafficrouter-gatewayapi#158)."""
    obj = step(route([MAIN]), 30, header_route=HEADER)
    obj = step(obj, weight, header_route=HEADER)
    preview = obj["spec"]["rules"][0]
    assert preview["name"] == "canary-preview"
    assert preview["backendRefs"] == [ref("web-canary", 1)]
    assert preview["matches"] == [
        {
            "path": {"type": "PathPrefix", "value": "/"},
            "headers": [{"type": "Exact", "name": "X-Canary", "value": "always"}],
        }
    ]


def test_the_preview_rule_copies_each_managed_match_and_the_filters():
    rewrite = [{"type": "URLRewrite", "urlRewrite": {"hostname": "web.internal"}}]
    a = {
        "name": "a",
        "matches": [{"path": {"type": "Exact", "value": "/a"}}],
        "filters": rewrite,
        "backendRefs": [ref("web")],
    }
    b = {
        "name": "b",
        "matches": [{"path": {"type": "Exact", "value": "/b"}}],
        "filters": rewrite,
        "backendRefs": [ref("web")],
    }
    plan = rw.plan(
        route([a, b]), "web", "web-canary", 0, header_route={"name": "canary", "value": "on", "type": "cookie"}
    )
    assert [m["path"]["value"] for m in plan.preview_after["matches"]] == ["/a", "/b"]
    assert plan.preview_after["filters"] == rewrite
    cookie = plan.preview_after["matches"][0]["headers"][0]
    assert (cookie["type"], cookie["name"], cookie["value"]) == (
        "RegularExpression",
        "Cookie",
        r"(^|;\s*)canary=on(;|$)",
    )
    assert plan.rules[1:] == [a, b] and plan.record  # weight 0 with a preview: the release goes on


def test_the_preview_rule_goes_with_the_last_update():
    obj = step(route([MAIN]), 50, header_route=HEADER)
    plan = rw.plan(obj, "web", "web-canary", 0)
    ops = rw.json_patch(obj, plan)
    assert [op["op"] for op in ops] == ["test", "test", "replace", "remove"]  # one patch: weights, preview, record
    assert plan.preview_before["name"] == "canary-preview" and plan.preview_after is None


@pytest.mark.parametrize(
    "tamper, message",
    [
        pytest.param(
            lambda r: r["spec"]["rules"][0]["backendRefs"][0].update(weight=7),
            r"rules\[0\] is out of sync with the release in progress",
            id="route-left-out-of-sync-weights-changed",
        ),
        pytest.param(
            lambda r: r["spec"]["rules"].insert(0, copy.deepcopy(API)),
            "is out of sync|is not where it was",
            id="rules-moved-during-the-release",
        ),
        pytest.param(
            lambda r: r["metadata"]["annotations"].update({RECORD: "not json"}),
            "is not what this module writes",
            id="record-unreadable",
        ),
    ],
)
def test_a_route_changed_during_the_release_is_refused(tamper, message):
    obj = step(route([MAIN]), 20)
    tamper(obj)
    with pytest.raises(RouteError, match=message):
        rw.plan(obj, "web", "web-canary", 50)


def test_a_route_reverted_by_gitops_during_the_release_is_set_again():
    obj = step(route([MAIN]), 20)
    obj["spec"]["rules"] = [copy.deepcopy(MAIN)]  # a self-heal put the user's weights back, annotation kept
    assert weights(rw.plan(obj, "web", "web-canary", 20)) == {"rules[0]": (80, 20)}


@pytest.mark.parametrize(
    "rules, options, message",
    [
        pytest.param(
            [{"matches": ROOT, "backendRefs": [ref("web"), ref("other")]}],
            {},
            "also sends to other",
            id="third-backend",
        ),
        pytest.param(
            [{"matches": ROOT, "backendRefs": [ref("web"), ref("web-canary", 3)]}],
            {},
            "already sends weight 3 to canary_service",
            id="canary-already-has-traffic",
        ),
        pytest.param([{"matches": ROOT, "backendRefs": [ref("other")]}], {}, "no rule of the route", id="no-stable"),
        pytest.param([API], {"rules": ["apo"]}, "no rule named apo in the route \\(named rules: api\\)", id="typo"),
        pytest.param(
            [{"name": "canary-preview", **MAIN}],
            {"header_route": HEADER},
            "names a rule the route already has",
            id="name",
        ),
        pytest.param(
            [{"name": "a", **MAIN, "filters": [{"type": "RequestHeaderModifier"}]}, {"name": "b", **MAIN}],
            {"header_route": HEADER},
            "filters differ",
            id="preview-of-rules-with-other-filters",
        ),
    ],
)
def test_routes_the_plan_refuses(rules, options, message):
    with pytest.raises(RouteError, match=message):
        rw.plan(route(rules), "web", "web-canary", 10, **options)


@pytest.mark.parametrize(
    "args, message",
    [
        pytest.param((101, "web", "c"), "weight must be an integer from 0 to 100, got 101", id="weight-over-100"),
        pytest.param((True, "web", "c"), "weight must be an integer", id="weight-bool"),
        pytest.param((5, "web", "web"), "stable_service and canary_service must be two Services", id="same-service"),
        pytest.param((5, "web", "c", []), "rules must be a non-empty list", id="rules-empty"),
        pytest.param((5, "web", "c", ["a", "a"]), "rules names a rule twice", id="rules-twice"),
        pytest.param((5, "web", "c", None, {"name": "X"}), "header_route.value must be a non-empty", id="no-value"),
        pytest.param((5, "web", "c", None, {**HEADER, "type": "query"}), "header_route.type must be one of", id="type"),
        pytest.param((5, "web", "c", None, {**HEADER, "rule_name": "Bad_Name"}), "must be a DNS label", id="rule-name"),
        pytest.param((5, "web", "c", ["canary-preview"], HEADER), "is also in rules", id="preview-in-rules"),
    ],
)
def test_options_refused_before_any_request(args, message):
    with pytest.raises(RouteError, match=message):
        rw.check_options(*args)


def test_the_record_holds_the_users_backend_refs():
    obj = step(route([API, MAIN]), 10, rules=["api"])
    assert json.loads(obj["metadata"]["annotations"][RECORD]) == {
        "rules": [{"index": 0, "name": "api", "backendRefs": [ref("web")]}]
    }
