"""A Deployment rolls out through the real controllers and is served through the proxy."""

from localcluster import workloads
from localcluster.meter import Meter


def test_demo_app_reaches_available_and_is_served(kube, namespace, deploy):
    url = deploy(workloads.deployment("web", workloads.demo_container("1"), replicas=3))

    d = kube.apps.read_namespaced_deployment("web", namespace)
    assert d.status.available_replicas == 3
    pods = kube.core.list_namespaced_pod(namespace, label_selector="app=web").items
    assert {p.status.pod_ip.split(".")[:2] == ["10", "244"] for p in pods} == {True}
    assert len({p.status.pod_ip for p in pods}) == 3

    with Meter(url, rps=30, max_requests=30, max_duration=10) as m:
        m.wait(15)
    s = m.summary
    assert (s["sent"], s["failed"]) == (30, 0), s
    assert set(s["versions"]) == {"1"}
    # Round robin over three ready endpoints: every pod answers.
    assert {r.pod for r in m.records if r.ok} == {p.metadata.name for p in pods}


def test_pause_image_runs_no_process_and_is_running_at_once(kube, namespace, deploy):
    container = {"name": "pause", "image": "localhost:5000/pause:3.10"}
    deploy(workloads.deployment("idle", container, replicas=5), service=False, timeout=60)

    pods = kube.core.list_namespaced_pod(namespace, label_selector="app=idle").items
    assert [p.status.phase for p in pods] == ["Running"] * 5
    assert all(p.status.container_statuses[0].ready for p in pods)
