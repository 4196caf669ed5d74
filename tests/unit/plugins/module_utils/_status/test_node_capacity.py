"""The capacity check: whether more pods fit on the nodes, from plain API dicts."""

import pytest

from ansible_collections.nodowntime.k8s.plugins.module_utils._status import node_capacity


@pytest.mark.parametrize(
    "text, value", [("250m", 0.25), ("2", 2.0), ("64Mi", 64 * 2**20), ("1G", 1e9), ("1e3", 1000.0), (0, 0.0)]
)
def test_quantities(text, value):
    assert node_capacity.quantity(text) == pytest.approx(value)


def test_a_bad_quantity_is_refused():
    with pytest.raises(ValueError, match="not a Kubernetes quantity: '12 apples'"):
        node_capacity.quantity("12 apples")


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
    found = node_capacity.capacity([node("n1")], [pod("n1", "500m", "1Gi")], TEMPLATE, 3)
    assert found["fits"] is True
    assert found["needed"] == {"cpu": 1.5, "memory": 3 * 2**30, "pods": 3}


def test_too_little_room_is_reported_with_what_is_needed_and_free():
    found = node_capacity.capacity(
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
    found = node_capacity.capacity(nodes, [], TEMPLATE, 3)
    assert found["fits"] is False and found["free"]["cpu"] == pytest.approx(1.4)


def test_the_pod_count_limits_too():
    assert (
        node_capacity.capacity([node("n1", pods="2")], [pod("n1")], {"spec": {"containers": [{"name": "a"}]}}, 2)[
            "fits"
        ]
        is False
    )
