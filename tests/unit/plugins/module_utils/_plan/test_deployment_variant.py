"""Derived Deployments and Services: pure functions on API dicts."""

import pytest

from ansible_collections.nodowntime.k8s.plugins.module_utils._plan import deployment_variant

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
    assert deployment_variant.images(BLUE) == {"app": "shop:1", "proxy": "envoy:1"}
    assert deployment_variant.version(BLUE) == "shop:1, envoy:1"
    assert deployment_variant.version({"app": "shop:2"}) == "shop:2"


def test_the_other_colour_is_the_live_one_with_new_images_and_labels():
    green = deployment_variant.variant(BLUE, "web-green", {"slot": "green"}, {"app": "shop:2"})
    assert green["metadata"] == {
        "name": "web-green",
        "namespace": "shop",
        "labels": {"app": "web", "slot": "green"},
        "annotations": {"team": "shop"},
    }
    assert green["spec"]["selector"] == {"matchLabels": {"app": "web", "slot": "green"}}
    assert green["spec"]["template"]["metadata"]["labels"] == {"app": "web", "slot": "green"}
    assert deployment_variant.images(green) == {"app": "shop:2", "proxy": "envoy:1"}
    assert green["spec"]["replicas"] == 3 and "paused" not in green["spec"] and "status" not in green
    assert deployment_variant.images(BLUE) == {"app": "shop:1", "proxy": "envoy:1"}  # the source is untouched


def test_a_canary_variant_starts_at_zero_pods():
    canary = deployment_variant.variant(BLUE, "web-canary", {"track": "canary"}, {}, 0)
    assert canary["spec"]["replicas"] == 0
    assert canary["spec"]["selector"]["matchLabels"] == {"app": "web", "slot": "blue", "track": "canary"}


def test_an_unknown_container_is_refused_naming_those_there_are():
    with pytest.raises(ValueError, match=r"no container named web in the pod template \(containers: app, proxy\)"):
        deployment_variant.variant(BLUE, "x", {}, {"web": "shop:2"})


def test_preview_service_copies_ports_without_node_ports():
    service = {
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "type": "NodePort",
            "selector": {"app": "web", "slot": "blue"},
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "nodePort": 30080, "protocol": "TCP"}],
        },
    }
    preview = deployment_variant.preview_service(service, "web-preview", {"app": "web", "slot": "green"})
    assert preview["spec"] == {
        "selector": {"app": "web", "slot": "green"},
        "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
    }
    assert preview["metadata"]["namespace"] == "shop"
