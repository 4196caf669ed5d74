# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""API failures as messages that say what to do.

    ApiError(status, reason, message, api_message="")   the one exception the client raises
        .status   HTTP status (None when the API server could not be reached)
        .reason   Kubernetes' Status reason: NotFound, Forbidden, Conflict, Invalid, Expired, ...
        .message  the actionable sentence, e.g.
                  "forbidden: needs verb 'patch' on deployments.apps in namespace 'shop'"
    api_error(status, body, request)      -> ApiError from an HTTP error response
    unreachable(host, cause, request)     -> ApiError for a connection failure
    Request(verb, resource, kind, namespace, name) describes what was attempted.

Modules catch ApiError and pass .message to fail_json.
"""

from __future__ import annotations

import json
import re
from collections import namedtuple

Request = namedtuple("Request", "verb resource kind namespace name")
# The authorizer's own words: server-side apply is a patch, but creating through it needs create.
_DENIED = re.compile(r'cannot ([a-z]+) resource "([^"]+)"(?: in API group "([^"]*)")?')


class ApiError(Exception):
    def __init__(self, status, reason, message, api_message=""):
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.api_message = api_message

    @property
    def gone(self):
        """A watch's resourceVersion is too old: the caller has to list again."""
        return self.status == 410

    @property
    def unreachable(self):
        return self.status is None


def _where(request):
    return f"in namespace '{request.namespace}'" if request.namespace else "cluster-wide"


def _object(request):
    name = f" '{request.name}'" if request.name else "s"
    return f"{request.kind}{name} {_where(request)}"


def api_error(status, body, request):
    """The ApiError for an HTTP error response; body is the raw response (a Status, usually)."""
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        parsed = {}
    if not isinstance(parsed, dict):
        parsed = {}
    api_message = parsed.get("message") or (
        body.decode(errors="replace") if isinstance(body, bytes) else str(body or "")
    )
    reason = parsed.get("reason") or {
        401: "Unauthorized",
        403: "Forbidden",
        404: "NotFound",
        409: "Conflict",
        410: "Expired",
        422: "Invalid",
    }.get(status, "")
    if status == 403:
        verb, resource = request.verb, request.resource
        denied = _DENIED.search(api_message)
        if denied:
            verb, resource = denied.group(1), ".".join(filter(None, denied.group(2, 3)))
        message = f"forbidden: needs verb '{verb}' on {resource} {_where(request)}"
    elif status == 404:
        message = f"{_object(request)} not found"
        if request.name is None:
            # A 404 on a collection means the API itself is missing (or the namespace is).
            message = f"{request.resource} {_where(request)} not found: {api_message}"
    elif status == 401:
        message = (
            "unauthorized: the API server rejected the credentials; check kubeconfig, context, "
            "api_key or the K8S_AUTH_* environment variables"
        )
    elif status == 409 and reason == "AlreadyExists":
        message = f"{_object(request)} already exists"
    elif status == 409:
        message = f"conflict: {_object(request)} was changed by someone else while this task ran; run the task again"
    elif status == 422:
        message = f"invalid {request.kind}: {api_message}"
    elif status == 410:
        message = f"the watch on {request.resource} {_where(request)} expired: {api_message}"
    else:
        message = f"API server answered {status} {reason} to {request.verb} {request.resource}: {api_message}"
    if api_message and status in (401, 403, 409):
        message = f"{message} (API server: {api_message})"
    return ApiError(status, reason, message, api_message)


def unreachable(host, cause, request):
    return ApiError(
        None, "Unreachable", f"cannot reach the API server at {host} to {request.verb} {request.resource}: {cause}"
    )
