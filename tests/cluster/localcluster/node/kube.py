"""A thin JSON-dict client for the few API calls the node makes (no model classes)."""

import json
import threading

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.watch.watch import iter_resp_lines

SMP = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"


class Kube:
    def __init__(self, kubeconfig, pool_size=16):
        cfg = client.Configuration()
        config.load_kube_config(config_file=kubeconfig, client_configuration=cfg)
        cfg.connection_pool_maxsize = pool_size
        self.api = client.ApiClient(cfg)
        # Many pod workers call at once; beyond the pool, urllib3 would open and drop connections.
        self._slots = threading.BoundedSemaphore(pool_size - 2)  # the watch keeps one for itself

    def request(self, method, path, query=None, body=None, content_type="application/json", timeout=30, stream=False):
        """One request; returns the decoded JSON (or the raw response when stream=True)."""
        headers = {"Accept": "application/json", "Content-Type": content_type}
        query_params = [(k, v) for k, v in (query or {}).items() if v is not None]
        method, url, headers, body, post = self.api.param_serialize(
            method, path, query_params=query_params, header_params=headers, body=body, auth_settings=["BearerToken"]
        )
        if stream:
            resp = self.api.call_api(
                method, url, header_params=headers, body=body, post_params=post, _request_timeout=timeout
            )
        else:
            with self._slots:
                resp = self.api.call_api(
                    method, url, header_params=headers, body=body, post_params=post, _request_timeout=timeout
                )
                resp.read()
        if not 200 <= resp.status < 300:
            resp.read()
            raise ApiException(http_resp=resp)
        if stream:
            return resp.response
        data = resp.read()
        return json.loads(data) if data else None

    # ------------------------------------------------------------ pods

    def list_pods(self, node):
        out = self.request("GET", "/api/v1/pods", {"fieldSelector": f"spec.nodeName={node}"})
        return out.get("items") or [], out["metadata"]["resourceVersion"]

    def watch_pods(self, node, resource_version, timeout_seconds):
        """Yield (type, object) events; raises ApiException(410) when the version is too old."""
        resp = self.request(
            "GET",
            "/api/v1/pods",
            {
                "fieldSelector": f"spec.nodeName={node}",
                "watch": "true",
                "allowWatchBookmarks": "true",
                "resourceVersion": resource_version,
                "timeoutSeconds": str(timeout_seconds),
            },
            timeout=(10, timeout_seconds + 30),
            stream=True,
        )
        try:
            for line in iter_resp_lines(resp):
                if not line:
                    continue
                event = json.loads(line)
                if event.get("type") == "ERROR":
                    obj = event.get("object") or {}
                    raise ApiException(status=obj.get("code"), reason=obj.get("message"))
                yield event["type"], event["object"]
        finally:
            resp.release_conn()

    def patch_pod_status(self, namespace, name, uid, status):
        return self.request(
            "PATCH",
            f"/api/v1/namespaces/{namespace}/pods/{name}/status",
            body={"metadata": {"uid": uid}, "status": status},
            content_type=SMP,
        )

    def delete_pod(self, namespace, name, uid):
        return self.request(
            "DELETE",
            f"/api/v1/namespaces/{namespace}/pods/{name}",
            body={"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0, "preconditions": {"uid": uid}},
        )

    # ------------------------------------------------------------ node and lease

    def get_node(self, name):
        return self.request("GET", f"/api/v1/nodes/{name}")

    def create_node(self, node):
        return self.request("POST", "/api/v1/nodes", body=node)

    def patch_node_status(self, name, status):
        return self.request("PATCH", f"/api/v1/nodes/{name}/status", body={"status": status}, content_type=SMP)

    def get_lease(self, namespace, name):
        return self.request("GET", f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}")

    def create_lease(self, namespace, lease):
        return self.request("POST", f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases", body=lease)

    def update_lease(self, namespace, lease):
        name = lease["metadata"]["name"]
        return self.request("PUT", f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}", body=lease)
