# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one layer that talks to the API server.  Objects go in and come out as plain
dicts in the API's own camelCase, exactly as `kubectl get -o json` shows them.

    client = Client.from_module(module)      # auth options -> client; fails the module cleanly
    client.get(kind, namespace, name)                                   -> dict
    client.list(kind, namespace, label_selector=None, field_selector=None, keep=None)
                                                                        -> (items, resourceVersion)
        keep: a function applied to each item as its page arrives; the items returned are
        what it returns, and pages are smaller (KEPT_PAGE), so that a list of many big
        objects is never held whole
    client.create(kind, namespace, body, dry_run=False)                 -> dict
    client.apply(kind, namespace, body, field_manager="nodowntime", force=True, dry_run=False)
                                                                        -> dict (server-side apply)
    client.patch(kind, namespace, name, patch, patch_type="strategic"|"merge"|"json", dry_run=False)
                                                                        -> dict
    client.delete(kind, namespace, name)                                -> None
    client.watch(kind, namespace, resource_version, label_selector=None, field_selector=None,
                 timeout_seconds=60)
        yields (type, object); type is ADDED, MODIFIED, DELETED or BOOKMARK.  Ends when the
        server closes the stream; raises ApiError with .gone when resourceVersion is too old.
        (Use waiter.wait_until rather than watching by hand.)
    client.close_streams()                   unblocks every open watch (from any thread)

    retry_on_conflict(attempt, tries=CONFLICT_TRIES)
        calls attempt() again while it fails with 409 Conflict; attempt must read the object
        afresh each time (a patch pinned to a resourceVersion conflicts whenever the
        controller has written status in between)
    side_by_side(*calls) -> [each call's result], in order
        reads that do not depend on one another, sent at once (the client is safe across
        threads): one round trip where the first corrective change waits on them

Every failure is an errors.ApiError whose .message says what to do.
Kinds are the ones in resources.KINDS.
"""

from __future__ import annotations

import contextlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s import auth, errors, resources

try:
    import urllib3
    from kubernetes import client as k8s_client
    from kubernetes.client.exceptions import ApiException

    IMPORT_ERROR = None
except ImportError as e:  # reported by from_module through missing_required_lib
    IMPORT_ERROR = e

FIELD_MANAGER = "nodowntime"
PATCH_TYPES = {
    "strategic": "application/strategic-merge-patch+json",
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "apply": "application/apply-patch+yaml",
}
# A request may take this long to start answering; watches add their own timeoutSeconds.
CONNECT_TIMEOUT, READ_TIMEOUT = 10, 60
PAGE = 500
# A page of 100 pods is about 0.5 MB of JSON, a few MB once parsed.
KEPT_PAGE = 100
CONFLICT_TRIES = 5


class Client:
    def __init__(self, api_client, impersonate_user=None, impersonate_groups=()):
        self.api = api_client
        self.host = api_client.configuration.host
        self._impersonate_user = impersonate_user
        self._impersonate_groups = list(impersonate_groups)
        self._streams = set()
        self._lock = threading.Lock()

    @classmethod
    def from_module(cls, module):
        if IMPORT_ERROR is not None:
            from ansible.module_utils.basic import missing_required_lib

            module.fail_json(msg=missing_required_lib("kubernetes"), exception=str(IMPORT_ERROR))
        module.no_log_values.update(auth.secret_values(module.params.get("kubeconfig")))
        try:
            cfg = auth.configuration(module.params)
        except auth.ConfigError as e:
            module.fail_json(msg=str(e))
        insecure = auth.insecure_warning(cfg)
        if insecure:
            module.warn(insecure)
        user, groups = auth.impersonation(module.params)
        return cls(k8s_client.ApiClient(cfg), user, groups)

    # -- verbs -------------------------------------------------------------------------

    def get(self, kind, namespace, name):
        return self._json("GET", "get", kind, namespace, name)

    def list(self, kind, namespace, label_selector=None, field_selector=None, keep=None):
        items, token = [], None
        while True:
            page = self._json(
                "GET",
                "list",
                kind,
                namespace,
                query=_query(
                    labelSelector=label_selector,
                    fieldSelector=field_selector,
                    limit=KEPT_PAGE if keep else PAGE,
                    **{"continue": token},
                ),
            )
            items += map(keep, page.get("items") or []) if keep else page.get("items") or []
            token = page["metadata"].get("continue")
            if not token:
                # Pages of one list share the first page's snapshot, so this version is
                # where a watch picks up without missing anything.
                return items, page["metadata"].get("resourceVersion")

    def create(self, kind, namespace, body, dry_run=False):
        return self._json("POST", "create", kind, namespace, query=_query(dryRun=dry_run), body=body)

    def apply(self, kind, namespace, body, field_manager=FIELD_MANAGER, force=True, dry_run=False):
        name = body["metadata"]["name"]
        return self._json(
            "PATCH",
            "patch",
            kind,
            namespace,
            name,
            body=body,
            content_type=PATCH_TYPES["apply"],
            query=_query(fieldManager=field_manager, force=force, dryRun=dry_run),
        )

    def patch(self, kind, namespace, name, patch, patch_type="strategic", dry_run=False):
        return self._json(
            "PATCH",
            "patch",
            kind,
            namespace,
            name,
            body=patch,
            content_type=PATCH_TYPES[patch_type],
            query=_query(fieldManager=FIELD_MANAGER, dryRun=dry_run),
        )

    def delete(self, kind, namespace, name):
        self._json("DELETE", "delete", kind, namespace, name)

    def watch(self, kind, namespace, resource_version, label_selector=None, field_selector=None, timeout_seconds=60):
        query = _query(
            watch=1,
            resourceVersion=resource_version,
            allowWatchBookmarks=1,
            labelSelector=label_selector,
            fieldSelector=field_selector,
            timeoutSeconds=int(timeout_seconds),
        )
        request = errors.Request("watch", resources.resource(kind), kind, namespace, None)
        # The read timeout outlasts the server's own timeoutSeconds, so it only fires when the
        # connection silently died; the caller then watches again.
        response = self._send(
            "GET",
            resources.path(kind, namespace),
            query,
            None,
            None,
            request,
            timeout=(CONNECT_TIMEOUT, timeout_seconds + 15),
        )
        with self._lock:
            self._streams.add(response)
        try:
            for line in response.response:
                if not line.strip():
                    continue
                event = json.loads(line)
                if event["type"] == "ERROR":
                    status = event["object"]
                    raise errors.api_error(status.get("code"), json.dumps(status), request)
                yield event["type"], event["object"]
        except (urllib3.exceptions.HTTPError, OSError):
            return  # dropped, or closed by close_streams(): the caller decides whether to go on
        finally:
            with self._lock:
                self._streams.discard(response)
            response.response.release_conn()

    def close_streams(self):
        with self._lock:
            streams = list(self._streams)
        for response in streams:
            # The watch thread may have ended the stream in the meantime, so it is already unblocked:
            # OSError (socket closed), RuntimeError (connection released to the pool), ValueError
            # (response closed). urllib3 raises each, depending on how far the thread got.
            with contextlib.suppress(OSError, RuntimeError, ValueError):
                response.response.shutdown()

    def ready(self):
        """Whether the API server's /readyz answers ok: its RBAC rules are loaded and its caches synced.

        Every identity may read it (the system:public-info-viewer role)."""
        request = errors.Request("get", "readyz", None, None, None)
        try:
            self._send("GET", "/readyz", [], None, None, request, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
        except errors.ApiError:
            return False
        return True

    # -- plumbing ------------------------------------------------------------------------

    def _json(self, method, verb, kind, namespace, name=None, query=None, body=None, content_type=None):
        request = errors.Request(verb, resources.resource(kind), kind, namespace, name)
        response = self._send(
            method,
            resources.path(kind, namespace, name),
            query or [],
            body,
            content_type,
            request,
            timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
        )
        data = response.read()
        return json.loads(data) if data else None

    def _send(self, method, path, query, body, content_type, request, timeout):
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        _method, url, headers, body, _post_params = self.api.param_serialize(
            method, path, query_params=query, header_params=headers, body=body, auth_settings=["BearerToken"]
        )
        headers = urllib3.HTTPHeaderDict(headers)
        if self._impersonate_user:
            headers["Impersonate-User"] = self._impersonate_user
        for group in self._impersonate_groups:
            headers.add("Impersonate-Group", group)  # one header per group, as the API requires
        try:
            response = self.api.call_api(method, url, header_params=headers, body=body, _request_timeout=timeout)
        except ApiException as e:
            if not e.status:  # TLS failures come back as status 0
                raise errors.unreachable(self.host, e.reason, request) from None
            raise errors.api_error(e.status, e.body, request) from None
        except (urllib3.exceptions.HTTPError, OSError) as e:
            raise errors.unreachable(self.host, _cause(e), request) from None
        if not 200 <= response.status <= 299:
            raise errors.api_error(response.status, response.read(), request)
        return response


def side_by_side(*calls):
    """Call each zero-argument function, all but the first in threads beside it; the first failure is raised."""
    if len(calls) < 2:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=len(calls) - 1) as pool:
        others = [pool.submit(call) for call in calls[1:]]
        first = calls[0]()
        return [first, *(other.result() for other in others)]


def retry_on_conflict(attempt, tries=CONFLICT_TRIES):
    for left in range(tries - 1, -1, -1):
        try:
            return attempt()
        except errors.ApiError as e:
            if e.status != 409 or e.reason == "AlreadyExists" or not left:
                raise


def _query(**params):
    """Query parameters without the unset ones; True becomes "true" and dryRun "All"."""
    query = []
    for key, value in params.items():
        if value is None or value is False:
            continue
        if key == "dryRun":
            value = "All"
        elif value is True:
            value = "true"
        query.append((key, value))
    return query


def _cause(exc):
    reason = getattr(exc, "reason", None)
    return str(reason or exc)
