"""The strategy playbooks release with only docs/rbac.yml's rights: lock, report, rollout, colours, preview
Service, capacity check, switch, canary steps and promotion, all with the ServiceAccount's token."""

import os

import pytest
from ansible_run import run_playbook

from localcluster import workloads

PLAYBOOKS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "playbooks")


def _playbook(name):
    return os.path.abspath(os.path.join(PLAYBOOKS, f"{name}.yml"))


def _deployment(kube, namespace, name, labels):
    container = workloads.demo_container("1", pre_stop_seconds=2)
    kube.apps.create_namespaced_deployment(namespace, workloads.deployment(name, container, replicas=2, labels=labels))
    workloads.wait_for(
        kube.apps.list_namespaced_deployment, name, workloads.deployment_complete, 90, name, namespace=namespace
    )


def _service(kube, namespace, name, selector):
    service = workloads.node_port_service(name, selector)
    service["spec"]["type"] = "ClusterIP"
    kube.core.create_namespaced_service(namespace, service)


def _release(least_privilege, playbook, extra_vars):
    env = {"K8S_AUTH_KUBECONFIG": least_privilege["kubeconfig"]}
    extra = dict(
        extra_vars, app_namespace=least_privilege["namespace"], images={"app": "localhost:5000/nodowntime/demo-app:2"}
    )
    proc = run_playbook(_playbook(playbook), extra, env=env, timeout=400)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "forbidden" not in proc.stdout.lower(), proc.stdout[-4000:]
    return proc


def _image(kube, namespace, name):
    return kube.apps.read_namespaced_deployment(name, namespace).spec.template.spec.containers[0].image


@pytest.mark.timeout(300)
def test_rolling_update_playbook_with_only_the_role(kube, least_privilege):
    ns = least_privilege["namespace"]
    _deployment(kube, ns, "shop", {"app": "shop"})
    _release(least_privilege, "rolling_update", {"app_name": "shop"})
    assert _image(kube, ns, "shop") == "localhost:5000/nodowntime/demo-app:2"


@pytest.mark.timeout(300)
def test_blue_green_playbook_with_a_preview_service_with_only_the_role(kube, least_privilege):
    ns = least_privilege["namespace"]
    _deployment(kube, ns, "cart-blue", {"app": "cart", "slot": "blue"})
    _service(kube, ns, "cart", {"app": "cart", "slot": "blue"})
    extra = {"app_name": "cart", "blue_green_preview_service": "cart-preview", "blue_green_scale_down_delay_seconds": 1}
    _release(least_privilege, "blue_green", extra)
    assert kube.core.read_namespaced_service("cart", ns).spec.selector["slot"] == "green"
    assert kube.core.read_namespaced_service("cart-preview", ns).spec.selector["slot"] == "green"
    assert _image(kube, ns, "cart-green") == "localhost:5000/nodowntime/demo-app:2"


@pytest.mark.timeout(300)
def test_canary_playbook_with_only_the_role(kube, least_privilege):
    ns = least_privilege["namespace"]
    _deployment(kube, ns, "api", {"app": "api", "track": "stable"})
    _service(kube, ns, "api", {"app": "api"})
    _release(
        least_privilege, "canary", {"app_name": "api", "canary_steps": [{"weight": 50}], "canary_wait_timeout": 90}
    )
    assert _image(kube, ns, "api") == "localhost:5000/nodowntime/demo-app:2"
    assert kube.apps.read_namespaced_deployment("api-canary", ns).spec.replicas == 0
