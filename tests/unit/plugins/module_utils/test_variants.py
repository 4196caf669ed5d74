"""Derived Deployments and Services, and the capacity check: pure functions on API dicts."""

import pytest

from ansible_collections.nodowntime.k8s.plugins.module_utils import variants

BLUE = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "web-blue",
        "namespace": "shop",
        "uid": "u1",
        "resourceVersion": "9",
        "labels": {"app": "web", "slot": "blue"},
        "annotations": {
            "deployment.kubernetes.io/revision": "3",
            "team": "shop",
            "nodowntime.k8s/canary-total-replicas": "4",
        },
    },
    "spec": {
        "replicas": 3,
        "paused": False,
        "selector": {"matchLabels": {"app": "web", "slot": "blue"}},
        "template": {
            "metadata": {"labels": {"app": "web", "slot": "blue"}},
            "spec": {"containers": [{"name": "app", "image": "shop:1"}, {"name": "proxy", "image": "envoy:1"}]},
        },
    },
    "status": {"replicas": 3},
}


def test_images_and_version():
    assert variants.images(BLUE) == {"app": "shop:1", "proxy": "envoy:1"}
    assert variants.version(BLUE) == "shop:1, envoy:1"
    assert variants.version({"app": "shop:2"}) == "shop:2"


def test_the_other_colour_is_the_live_one_with_new_images_and_labels():
    green = variants.variant(BLUE, "web-green", {"slot": "green"}, {"app": "shop:2"})
    assert green["metadata"] == {
        "name": "web-green",
        "namespace": "shop",
        "labels": {"app": "web", "slot": "green"},
        "annotations": {"team": "shop"},
    }
    assert green["spec"]["selector"] == {"matchLabels": {"app": "web", "slot": "green"}}
    assert green["spec"]["template"]["metadata"]["labels"] == {"app": "web", "slot": "green"}
    assert variants.images(green) == {"app": "shop:2", "proxy": "envoy:1"}
    assert green["spec"]["replicas"] == 3 and "paused" not in green["spec"] and "status" not in green
    assert variants.images(BLUE) == {"app": "shop:1", "proxy": "envoy:1"}  # the source is untouched


def test_a_canary_variant_starts_at_zero_pods():
    canary = variants.variant(BLUE, "web-canary", {"track": "canary"}, {}, 0)
    assert canary["spec"]["replicas"] == 0
    assert canary["spec"]["selector"]["matchLabels"] == {"app": "web", "slot": "blue", "track": "canary"}


def test_an_unknown_container_is_refused_naming_those_there_are():
    with pytest.raises(ValueError, match=r"no container named web in the pod template \(containers: app, proxy\)"):
        variants.variant(BLUE, "x", {}, {"web": "shop:2"})


def test_preview_service_copies_ports_without_node_ports():
    service = {
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "type": "NodePort",
            "selector": {"app": "web", "slot": "blue"},
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "nodePort": 30080, "protocol": "TCP"}],
        },
    }
    preview = variants.preview_service(service, "web-preview", {"app": "web", "slot": "green"})
    assert preview["spec"] == {
        "selector": {"app": "web", "slot": "green"},
        "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
    }
    assert preview["metadata"]["namespace"] == "shop"


@pytest.mark.parametrize(
    "text, value", [("250m", 0.25), ("2", 2.0), ("64Mi", 64 * 2**20), ("1G", 1e9), ("1e3", 1000.0), (0, 0.0)]
)
def test_quantities(text, value):
    assert variants.quantity(text) == pytest.approx(value)


def test_a_bad_quantity_is_refused():
    with pytest.raises(ValueError, match="not a Kubernetes quantity: '12 apples'"):
        variants.quantity("12 apples")


def node(name, cpu="2", memory="4Gi", pods="110", ready=True, unschedulable=False):
    return {
        "metadata": {"name": name},
        "spec": {"unschedulable": unschedulable},
        "status": {
            "allocatable": {"cpu": cpu, "memory": memory, "pods": pods},
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def pod(node_name, cpu="0", memory="0", phase="Running"):
    return {
        "spec": {
            "nodeName": node_name,
            "containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": memory}}}],
        },
        "status": {"phase": phase},
    }


TEMPLATE = {"spec": {"containers": [{"name": "app", "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}}]}}


def test_a_second_colour_fits_in_free_allocatable():
    found = variants.capacity([node("n1")], [pod("n1", "500m", "1Gi")], TEMPLATE, 3)
    assert found["fits"] is True
    assert found["needed"] == {"cpu": 1.5, "memory": 3 * 2**30, "pods": 3}


def test_too_little_room_is_reported_with_what_is_needed_and_free():
    found = variants.capacity(
        [node("n1")], [pod("n1", "1", "1Gi"), pod("n1", "1", "0", phase="Succeeded")], TEMPLATE, 3
    )
    assert found["fits"] is False
    assert found["message"].startswith("only 2 of 3 more pods fit on the nodes: they need cpu 1.5, memory 3072Mi")


def test_pods_cannot_span_nodes_and_unready_or_cordoned_nodes_do_not_count():
    nodes = [
        node("a", cpu="700m"),
        node("b", cpu="700m"),
        node("c", cpu="8", ready=False),
        node("d", cpu="8", unschedulable=True),
    ]
    found = variants.capacity(nodes, [], TEMPLATE, 3)
    assert found["fits"] is False and found["free"]["cpu"] == pytest.approx(1.4)


def test_the_pod_count_limits_too():
    assert (
        variants.capacity([node("n1", pods="2")], [pod("n1")], {"spec": {"containers": [{"name": "a"}]}}, 2)["fits"]
        is False
    )
