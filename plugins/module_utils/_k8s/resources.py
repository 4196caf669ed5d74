# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kinds the collection touches and where they live in the REST API.

    path(kind, namespace=None, name=None, subresource=None) -> "/apis/apps/v1/namespaces/shop/deployments/web"
    resource(kind)   -> "deployments.apps" (what RBAC rules and error messages call it)
    API_VERSION[kind] -> "apps/v1"

A fixed table instead of discovery: every kind here is a stable built-in (or, for HTTPRoute, the
Gateway API's standard channel v1), and skipping
discovery saves a round of requests on every module run.  Add a row to support a kind.
"""

from __future__ import annotations

# kind: (group, version, plural, namespaced)
KINDS = {
    "Deployment": ("apps", "v1", "deployments", True),
    "StatefulSet": ("apps", "v1", "statefulsets", True),
    "DaemonSet": ("apps", "v1", "daemonsets", True),
    "ReplicaSet": ("apps", "v1", "replicasets", True),
    "ControllerRevision": ("apps", "v1", "controllerrevisions", True),
    "Pod": ("", "v1", "pods", True),
    "Service": ("", "v1", "services", True),
    "ConfigMap": ("", "v1", "configmaps", True),
    "Event": ("", "v1", "events", True),
    "Namespace": ("", "v1", "namespaces", False),
    "Node": ("", "v1", "nodes", False),
    "EndpointSlice": ("discovery.k8s.io", "v1", "endpointslices", True),
    "Lease": ("coordination.k8s.io", "v1", "leases", True),
    "HorizontalPodAutoscaler": ("autoscaling", "v2", "horizontalpodautoscalers", True),
    "HTTPRoute": ("gateway.networking.k8s.io", "v1", "httproutes", True),
}

API_VERSION = {kind: f"{g}/{v}" if g else v for kind, (g, v, _plural, _namespaced) in KINDS.items()}


def _row(kind):
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"unsupported kind {kind!r}; supported: {', '.join(sorted(KINDS))}") from None


def resource(kind):
    group, _version, plural, _namespaced = _row(kind)
    return f"{plural}.{group}" if group else plural


def path(kind, namespace=None, name=None, subresource=None):
    group, version, plural, namespaced = _row(kind)
    parts = ["/apis", group, version] if group else ["/api", version]
    if namespaced and namespace:
        parts += ["namespaces", namespace]
    parts.append(plural)
    if name:
        parts.append(name)
        if subresource:
            parts.append(subresource)
    return "/".join(parts)
