"""The user's side of a Gateway API canary on the local cluster's gateway: stable behind a Service of its own,
an HTTPRoute matching /<namespace> (rewritten to /, the demo app's page) so tests side by side never share a
path, the route rights of docs/rbac-gateway.yml, and the requests the meter cannot send (marked by a header)."""

import copy
import functools
import http.client
import json
import os
import threading
import time
from datetime import datetime
from urllib.parse import urlsplit

import yaml
from kubernetes import client

from localcluster import cluster, gateway, workloads

GROUP, VERSION, PLURAL = "gateway.networking.k8s.io", "v1", "httproutes"
RBAC_GATEWAY = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "rbac-gateway.yml")
STABLE_LABELS = {"app": "web", "track": "stable"}


def routes(kube):
    return client.CustomObjectsApi(kube.api)


def read_route(kube, namespace, name="web"):
    return routes(kube).get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)


def users_part(route):
    """What the user wrote and a GitOps tool compares: the spec and the annotations."""
    return copy.deepcopy(route["spec"]), dict(route["metadata"].get("annotations") or {})


def grant_route_rights(kube, namespace):
    """docs/rbac-gateway.yml in namespace, for the deployer account docs/rbac.yml binds there."""
    with open(RBAC_GATEWAY) as f:
        items = yaml.safe_load(f)["items"]
    rbac = client.RbacAuthorizationV1Api(kube.api)
    for item in items:
        item["metadata"]["namespace"] = namespace
        for subject in item.get("subjects", ()):
            subject["namespace"] = namespace
        create = rbac.create_namespaced_role if item["kind"] == "Role" else rbac.create_namespaced_role_binding
        create(namespace, item)


def service(name, selector, target_port="http"):
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": dict(selector), "ports": [{"name": "http", "port": 80, "targetPort": target_port}]},
    }


def user_route(namespace, stable="web"):
    """The route the user starts from: one rule, all to stable (no weight: the API defaults it to 1)."""
    return gateway.http_route("web", namespace, [{"name": stable, "port": 80}], annotations={"team": "shop"})


def stable_app(kube, namespace, deploy, container, replicas=2):
    """web (track: stable) behind Service web, reached through the gateway; returns (url, the route as created)."""
    deploy(workloads.deployment("web", container, replicas=replicas, labels=STABLE_LABELS), service=False)
    kube.core.create_namespaced_service(namespace, service("web", STABLE_LABELS))
    routes(kube).create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, user_route(namespace))
    list_routes = functools.partial(routes(kube).list_namespaced_custom_object, GROUP, VERSION, namespace, PLURAL)
    created = workloads.wait_for(list_routes, "web", gateway.route_accepted, 30, f"HTTPRoute {namespace}/web accepted")
    url = f"{cluster.gateway_url(kube.info)}{namespace}"
    workloads.wait_serving(url, timeout=30)
    grant_route_rights(kube, namespace)
    return url, created


class MarkedRequests:
    """In the background, GETs carrying header: value through the gateway, `rate` a second, bounded in count and
    time; .records: [(wall, status, version)]."""

    def __init__(self, url, header, value, rate=10, max_seconds=300):
        parts = urlsplit(url)
        assert parts.hostname == "127.0.0.1", url  # the network rule: loopback only
        self.port, self.path = parts.port, parts.path
        self.header, self.value, self.rate, self.max_seconds = header, value, rate, max_seconds
        self.records, self._stop = [], threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _one(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", self.path, headers={self.header: self.value})
            response = conn.getresponse()
            body = response.read()
            version = json.loads(body).get("version") if response.status == 200 else None
            return response.status, version
        except (OSError, ValueError) as e:
            return type(e).__name__, None
        finally:
            conn.close()

    def _loop(self):
        end = time.monotonic() + self.max_seconds
        while not self._stop.is_set() and time.monotonic() < end and len(self.records) < self.rate * self.max_seconds:
            wall = time.time()
            status, version = self._one()
            self.records.append((wall, status, version))
            self._stop.wait(1 / self.rate)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(10)

    def between(self, start, end):
        return [(status, version) for wall, status, version in self.records if start <= wall <= end]


def wall(at):
    """A report step's "at" (ISO, UTC, Z) as a Unix timestamp."""
    return datetime.fromisoformat(at).timestamp()


def weight_windows(report, pause, settle=1.0):
    """[(weight, start, end)]: from each weight step's record (its gateway accepted the weight) for the pause
    that follows it, less settle seconds for the data plane to take the accepted weight."""
    found = []
    for step in report["steps"]:
        name = step["step"]
        if ": weight " in name:
            start = wall(step["at"]) + settle
            found.append((int(name.rsplit(" ", 1)[1]), start, start + pause - settle))
    return found
