"""The kubelet's probes and image handling, seen through the API."""

import datetime

from localcluster import httpget, workloads
from localcluster.meter import Meter


def _wait_pod(kube, namespace, name, predicate, timeout, what):
    return workloads.wait_for(kube.core.list_namespaced_pod, name, predicate, timeout, what, namespace=namespace)


def _container(pod):
    statuses = pod.status.container_statuses or []
    return statuses[0] if statuses else None


def test_liveness_failure_restarts_then_crash_loop_back_off(kube, namespace):
    c = workloads.demo_container("1", env={"FAIL_LIVENESS_AFTER_SECONDS": 1}, readiness=False, liveness=True)
    kube.apps.create_namespaced_deployment(namespace, workloads.deployment("sick", c, replicas=1))
    name = _wait_first_pod(kube, namespace, "sick")

    def crash_looping(p):
        s = _container(p)
        return s and s.restart_count >= 1 and s.state.waiting and s.state.waiting.reason == "CrashLoopBackOff"

    pod = _wait_pod(kube, namespace, name, crash_looping, 60, "restartCount >= 1 and CrashLoopBackOff")
    status = _container(pod)
    assert status.last_state.terminated is not None
    assert not status.ready


def test_readiness_failure_takes_the_endpoint_out_and_its_traffic_away(kube, namespace, deploy):
    # The pod turns unready while it keeps running: the demo app's /fail-readiness, asked at the pod's own IP
    # from inside the cluster's namespace.
    c = workloads.demo_container("1")
    c["readinessProbe"]["failureThreshold"] = 1
    url = deploy(workloads.deployment("web", c, replicas=2))
    pods = kube.core.list_namespaced_pod(namespace, label_selector="app=web").items
    victim, survivor = (p.metadata.name for p in pods)
    outcome = httpget.get(pods[0].status.pod_ip, 8080, "/fail-readiness", timeout=5, netns=kube.info["netns"])[0]
    assert outcome == "ok"
    _wait_pod(kube, namespace, victim, lambda p: not _container(p).ready, 20, f"{victim} to turn unready")
    _wait_endpoint_not_ready(kube, namespace, victim)
    settle = kube.settle
    with Meter(url, rps=40, max_duration=settle + 3) as m:
        m.wait(settle + 5)
    late = [r for r in m.records if r.start > settle]
    assert late and all(r.ok for r in late)
    assert {r.pod for r in late} == {survivor}
    pod = kube.core.read_namespaced_pod(victim, namespace)
    assert pod.status.phase == "Running" and _container(pod).restart_count == 0


def test_unknown_image_gives_err_image_pull(kube, namespace):
    c = {"name": "app", "image": "example.invalid/nothing:1"}
    kube.apps.create_namespaced_deployment(namespace, workloads.deployment("ghost", c, replicas=1))
    name = _wait_first_pod(kube, namespace, "ghost")

    def pull_failed(p):
        s = _container(p)
        return s and s.state.waiting and s.state.waiting.reason in ("ErrImagePull", "ImagePullBackOff")

    pod = _wait_pod(kube, namespace, name, pull_failed, 30, "ErrImagePull")
    assert pod.status.phase == "Pending"
    pod = _wait_pod(
        kube,
        namespace,
        name,
        lambda p: _container(p).state.waiting.reason == "ImagePullBackOff",
        30,
        "ImagePullBackOff",
    )
    assert not _container(pod).ready


def test_available_replicas_respect_min_ready_seconds(kube, namespace):
    kube.apps.create_namespaced_deployment(
        namespace, workloads.deployment("slow", workloads.demo_container("1"), replicas=1, min_ready_seconds=5)
    )
    name = _wait_first_pod(kube, namespace, "slow")
    pod = _wait_pod(kube, namespace, name, lambda p: _container(p) and _container(p).ready, 30, "pod ready")
    ready_since = next(c.last_transition_time for c in pod.status.conditions if c.type == "Ready")

    d = kube.apps.read_namespaced_deployment("slow", namespace)
    assert not d.status.available_replicas, "available before minReadySeconds passed"
    d = workloads.wait_for(
        kube.apps.list_namespaced_deployment,
        "slow",
        lambda d: (d.status.available_replicas or 0) == 1,
        30,
        "available",
        namespace=namespace,
    )
    available_at = next(c.last_update_time for c in d.status.conditions if c.type == "Available")
    # Both timestamps have one-second resolution.
    assert available_at - ready_since >= datetime.timedelta(seconds=4)


def _wait_first_pod(kube, namespace, app):
    from kubernetes import watch

    for event in watch.Watch().stream(
        kube.core.list_namespaced_pod, namespace, label_selector=f"app={app}", timeout_seconds=30
    ):
        return event["object"].metadata.name
    raise TimeoutError(f"no pod of {app} created in 30s")


def _wait_endpoint_not_ready(kube, namespace, pod_name):
    from kubernetes import watch

    for event in watch.Watch().stream(
        kube.discovery.list_namespaced_endpoint_slice,
        namespace,
        label_selector="kubernetes.io/service-name=web",
        timeout_seconds=20,
    ):
        for ep in event["object"].endpoints or []:
            if ep.target_ref and ep.target_ref.name == pod_name and ep.conditions.ready is False:
                return
    raise TimeoutError(f"endpoint of {pod_name} still ready after 20s")
