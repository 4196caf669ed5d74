"""Fixtures for tests on the local cluster: the cluster once per session, a namespace per test."""

import fcntl
import os
import re
import uuid

import pytest
from kubernetes import client, config

from localcluster import cluster, paths


class Kube:
    """Typed API clients on the admin kubeconfig, plus the running cluster's record."""

    def __init__(self, info):
        self.info = info
        self.kubeconfig = paths.ADMIN_KUBECONFIG
        self.api = config.new_client_from_config(self.kubeconfig)
        self.core = client.CoreV1Api(self.api)
        self.apps = client.AppsV1Api(self.api)
        self.discovery = client.DiscoveryV1Api(self.api)
        self.coordination = client.CoordinationV1Api(self.api)


@pytest.fixture(scope="session")
def kube():
    os.makedirs(paths.STATE_DIR, exist_ok=True)
    # pytest-xdist workers share one cluster: the first to take the lock starts it.
    with open(paths.state(".up.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        info = cluster.running()
        started_here = info is None
        if started_here:
            info = cluster.up()
    yield Kube(info)
    # Under xdist other workers may still be using it; `localcluster with` stops it then.
    if started_here and "PYTEST_XDIST_WORKER" not in os.environ:
        cluster.down()


@pytest.fixture
def namespace(kube, request):
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40].strip("-")
    name = f"{slug}-{uuid.uuid4().hex[:5]}"
    kube.core.create_namespace({"metadata": {"name": name, "labels": {"nodowntime-test": "true"}}})
    yield name
    kube.core.delete_namespace(name)


@pytest.fixture
def deploy(kube, namespace):
    """Create a Deployment (and optionally a NodePort Service) and wait until it is rolled out."""
    from localcluster import workloads

    def _deploy(manifest, service=True, timeout=90):
        name = manifest["metadata"]["name"]
        kube.apps.create_namespaced_deployment(namespace, manifest)
        workloads.wait_for(
            kube.apps.list_namespaced_deployment,
            name,
            workloads.deployment_complete,
            timeout,
            f"deployment {namespace}/{name} to roll out",
            namespace=namespace,
        )
        if not service:
            return None
        svc = kube.core.create_namespaced_service(
            namespace, workloads.node_port_service(name, manifest["spec"]["selector"]["matchLabels"])
        )
        url = f"http://127.0.0.1:{svc.spec.ports[0].node_port}/"
        workloads.wait_serving(url, timeout=timeout)
        return url

    return _deploy


# NODOWNTIME_TEST_KUBECONFIG_MODE=least-privilege: in every test that has a namespace, the collection's
# modules and playbooks (ansible_run, faults/interrupt.py) run with a token of the ServiceAccount that
# docs/rbac.yml binds in that namespace, instead of the admin kubeconfig. The tests' own setup and
# checks (the kube fixture) stay admin. Tests that pass a kubeconfig of their own keep it.
KUBECONFIG_MODE = os.environ.get("NODOWNTIME_TEST_KUBECONFIG_MODE", "admin")


@pytest.fixture(autouse=True)
def kubeconfig_mode(request, monkeypatch, tmp_path):
    if KUBECONFIG_MODE != "least-privilege" or "namespace" not in request.fixturenames:
        yield
        return
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "security"))
    import kubeaccess

    kube, namespace = request.getfixturevalue("kube"), request.getfixturevalue("namespace")
    server = kube.info["server"]
    token = kubeaccess.bind(kube, namespace)
    kubeaccess.wait_allowed(kube, server, token, namespace, "patch", "deployments", "apps")
    kubeaccess.wait_allowed(kube, server, token, "", "list", "nodes")
    path = kubeaccess.write_kubeconfig(
        tmp_path / "least-privilege.kubeconfig", kubeaccess.kubeconfig_dict(server, token)
    )
    monkeypatch.setattr(paths, "ADMIN_KUBECONFIG", path)
    yield
    kubeaccess.unbind_cluster(kube, namespace)
