"""API failures become messages that say what to do."""

import json

from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.errors import Request, api_error, unreachable

PATCH_WEB = Request("patch", "deployments.apps", "Deployment", "shop", "web")


def status(code, reason, message):
    return json.dumps({"kind": "Status", "code": code, "reason": reason, "message": message})


def test_forbidden_names_verb_resource_and_namespace():
    err = api_error(
        403, status(403, "Forbidden", 'deployments.apps "web" is forbidden: User "ci" cannot patch'), PATCH_WEB
    )
    assert err.message.startswith("forbidden: needs verb 'patch' on deployments.apps in namespace 'shop'")
    assert 'User "ci" cannot patch' in err.message and err.reason == "Forbidden"


def test_forbidden_cluster_scoped():
    err = api_error(403, b"", Request("list", "nodes", "Node", None, None))
    assert err.message == "forbidden: needs verb 'list' on nodes cluster-wide"


def test_not_found_names_kind_namespace_and_name():
    err = api_error(404, status(404, "NotFound", 'deployments.apps "web" not found'), PATCH_WEB)
    assert err.message == "Deployment 'web' in namespace 'shop' not found" and err.status == 404


def test_conflict_says_to_run_again():
    assert (
        "run the task again"
        in api_error(409, status(409, "Conflict", "the object has been modified"), PATCH_WEB).message
    )


def test_invalid_carries_the_apis_reasons():
    msg = 'Deployment.apps "web" is invalid: spec.template.spec.containers[0].image: Required value'
    assert api_error(422, status(422, "Invalid", msg), PATCH_WEB).message == f"invalid Deployment: {msg}"


def test_gone_is_recognisable_and_non_json_bodies_survive():
    assert api_error(410, status(410, "Expired", "too old resource version"), PATCH_WEB).gone
    assert "upstream connect error" in api_error(503, b"upstream connect error", PATCH_WEB).message


def test_unreachable():
    err = unreachable("https://127.0.0.1:6443", "Connection refused", PATCH_WEB)
    assert err.unreachable and err.message == (
        "cannot reach the API server at https://127.0.0.1:6443 to patch deployments.apps: Connection refused"
    )


def test_forbidden_names_the_verb_the_authorizer_denied():
    # Server-side apply is a PATCH, but when it creates the object the API server checks create.
    body = status(
        403,
        "Forbidden",
        'deployments.apps "web" is forbidden: User "ci" cannot create resource "deployments" in API group "apps" '
        'in the namespace "shop"',
    )
    err = api_error(403, body, PATCH_WEB)
    assert err.message.startswith("forbidden: needs verb 'create' on deployments.apps in namespace 'shop'")


def test_forbidden_core_resource_from_the_authorizer():
    body = status(403, "Forbidden", 'pods is forbidden: User "ci" cannot watch resource "pods" in API group ""')
    err = api_error(403, body, Request("list", "pods", "Pod", "shop", None))
    assert err.message.startswith("forbidden: needs verb 'watch' on pods in namespace 'shop'")
