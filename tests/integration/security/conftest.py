"""Fixtures of the security tests: one namespace per test module with the workloads set up once,
docs/rbac.yml bound in it, and the kubeconfigs that use the bound ServiceAccount's token."""

import re
import uuid

import kubeaccess
import pytest

from localcluster import workloads


def module_namespace(kube, request, prefix):
    slug = re.sub(r"[^a-z0-9]+", "-", request.module.__name__.lower()).strip("-")[-30:].strip("-")
    name = f"{prefix}-{slug}-{uuid.uuid4().hex[:5]}"
    kube.core.create_namespace({"metadata": {"name": name, "labels": {"nodowntime-test": "true"}}})
    return name


def demo_deployment(name, labels, replicas=2, version="1"):
    manifest = workloads.deployment(name, workloads.demo_container(version), replicas=replicas, labels=labels)
    manifest["spec"]["progressDeadlineSeconds"] = 60
    return manifest


def wait_deployment(kube, namespace, name, timeout=90):
    workloads.wait_for(
        kube.apps.list_namespaced_deployment,
        name,
        workloads.deployment_complete,
        timeout,
        f"deployment {namespace}/{name} to roll out",
        namespace=namespace,
    )


@pytest.fixture(scope="module")
def app(kube, request):
    """A namespace with web (app=web, slot=blue, 2 pods), web-green (slot=green, 2 pods), web-canary
    (0 pods) and the Service web selecting {app: web, slot: blue}; shared by one test module."""
    namespace = module_namespace(kube, request, "sec")
    blue = demo_deployment("web", {"app": "web", "slot": "blue"})
    green = demo_deployment("web-green", {"app": "web", "slot": "green"})
    canary = demo_deployment("web-canary", {"app": "web", "slot": "canary"}, replicas=0)
    for manifest in (blue, green, canary):
        kube.apps.create_namespaced_deployment(namespace, manifest)
    service = workloads.node_port_service("web", {"app": "web", "slot": "blue"})
    service["spec"]["type"] = "ClusterIP"
    kube.core.create_namespaced_service(namespace, service)
    for name in ("web", "web-green", "web-canary"):
        wait_deployment(kube, namespace, name)
    # The tests compare resourceVersions before and after a module: start from a namespace whose controllers
    # are done (the EndpointSlices follow the pods' readiness a moment after the Deployments report it).
    kubeaccess.settled_snapshot(kube, namespace)
    yield namespace
    kube.core.delete_namespace(namespace)
    kubeaccess.unbind_cluster(kube, namespace)


@pytest.fixture(scope="module")
def least_privilege(kube, app, tmp_path_factory):
    """docs/rbac.yml bound in the app's namespace: {"token", "kubeconfig" (a file), "server"}."""
    server = kube.info["server"]
    token, path = kubeaccess.bound_kubeconfig(kube, server, app, tmp_path_factory.mktemp("lp") / "kubeconfig")
    return {"token": token, "kubeconfig": path, "server": server, "namespace": app}
