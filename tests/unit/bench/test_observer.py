"""The bench's observer: what it records from watch events, looking only at what each event changed."""

import pytest
from observer import Observer

SELECTOR = {"app": "web"}


def pod(uid, app="web", ready=False):
    status = {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    return {"metadata": {"uid": uid, "name": f"pod-{uid}", "labels": {"app": app}}, "spec": {}, "status": status}


def deployment(generation=2, replicas=2):
    status = {
        "observedGeneration": generation,
        "replicas": replicas,
        "updatedReplicas": replicas,
        "readyReplicas": replicas,
        "availableReplicas": replicas,
    }
    spec = {"replicas": replicas, "selector": {"matchLabels": SELECTOR}}
    return {"metadata": {"uid": "d", "name": "web", "generation": generation}, "spec": spec, "status": status}


@pytest.fixture
def observer():
    """An observer that has listed a complete Deployment of 2 with three pods (one old pod still there)."""
    o = Observer(None, "ns")
    for uid in "abc":
        o.record(1.0, "pods", "ADDED", pod(uid))
    o.record(1.0, "pods", "ADDED", pod("x", app="other"))
    o.record(1.0, "deployments", "ADDED", deployment())
    return o


def test_settled_when_the_last_old_pod_is_deleted_not_before(observer):
    assert observer.complete_at("web", 2) == 1.0
    assert observer.settled_at("web", 2) is None
    observer.record(2.0, "pods", "MODIFIED", pod("c"))
    assert observer.settled_at("web", 2) is None
    observer.record(3.0, "pods", "DELETED", pod("c"))
    assert observer.settled_at("web", 2) == 3.0


def test_a_pod_of_another_selector_counts_for_nothing(observer):
    observer.record(2.0, "pods", "DELETED", pod("x", app="other"))
    assert observer.settled_at("web", 2) is None
    observer.record(3.0, "pods", "DELETED", pod("a"))
    assert observer.settled_at("web", 2) == 3.0


def test_a_pod_whose_labels_change_leaves_the_count(observer):
    observer.record(2.0, "pods", "MODIFIED", pod("b", app="quarantined"))
    assert observer.settled_at("web", 2) == 2.0


def test_milestones_come_from_the_event_that_reached_them(observer):
    observer.record(2.0, "pods", "MODIFIED", pod("a", ready=True))
    observer.record(3.0, "pods", "MODIFIED", pod("b", ready=True))
    milestones = observer.pod_milestones()
    assert milestones["pod-a"]["ready"] == 2.0 and milestones["pod-b"]["ready"] == 3.0
    assert "ready" not in milestones["pod-c"]


def test_a_mark_rises_once_per_object_when_its_test_starts_to_hold():
    o = Observer(None, "ns", marks={"ready": ("pods", lambda p: p["status"]["conditions"][0]["status"] == "True")})
    o.record(1.0, "pods", "ADDED", pod("a"))
    o.record(2.0, "pods", "MODIFIED", pod("a", ready=True))
    o.record(3.0, "pods", "MODIFIED", pod("a", ready=True))
    o.record(4.0, "pods", "ADDED", pod("b", ready=True))
    assert o.marked["ready"] == [(2.0, "pod-a"), (4.0, "pod-b")]
