"""A release run killed at each phase (SIGKILL to ansible-playbook and everything it started), then run again.

The killed run cannot release its lock; the next one, on the same host, sees that the holder's process is
gone and takes the lock over at once, long before its 1800 s time-to-live. Running the same playbook again
converges, finishing or rolling back, with no failed request over the whole story and nothing left behind:
no leftover canary pods, no half-switched selector, no lock still held.
"""

import time

import pytest
from interrupt import Run, image, lease, took_over_from, until

from localcluster import workloads
from localcluster.meter import Meter

RPS = 25


def _app(version="1", env=None):
    # A slow start keeps each phase open long enough to be killed in.
    return workloads.demo_container(version, env=dict({"STARTUP_SECONDS": 3}, **(env or {})), pre_stop_seconds=3)


def _service(kube, namespace, selector):
    svc = kube.core.create_namespaced_service(namespace, workloads.node_port_service("web", selector))
    url = f"http://127.0.0.1:{svc.spec.ports[0].node_port}/"
    workloads.wait_serving(url, timeout=30)
    return url


def _deployment(kube, namespace, name):
    return kube.apps.read_namespaced_deployment(name, namespace)


def _exists(kube, namespace, name):
    try:
        return _deployment(kube, namespace, name)
    except Exception as e:
        if getattr(e, "status", None) == 404:
            return None
        raise


def _kill_then_rerun(kube, namespace, tmp_path, playbook, first_vars, phase, rerun_vars=None):
    """Run, kill when phase() says so, run again at once: the dead run's lock is taken over, not waited out.

    Returns (rc, output) of the run that converged."""
    first = Run(playbook, first_vars, tmp_path / "first.log")
    until(phase, 120, f"the phase to kill {playbook} in")
    first.kill()
    held = lease(kube, namespace, "web")
    assert f"pid {first.proc.pid}" in held.spec.holder_identity and held.spec.lease_duration_seconds >= 1800

    again = Run(playbook, rerun_vars or first_vars, tmp_path / "again.log")
    rc, out = again.wait(600)
    assert took_over_from(first, out), out[-3000:]
    return rc, out


def _no_lock_left(kube, namespace):
    held = lease(kube, namespace, "web")
    assert held is None or not held.spec.holder_identity, held.spec


def _check_meter(m, settled):
    s = m.summary
    assert s["sent"] > 100
    assert s["failed"] == 0, (s["failed_by_kind"], s["first_failure"], s["last_failure"])
    return m.versions_after(settled)


@pytest.mark.timeout(420)
def test_rolling_update_killed_mid_rollout_finishes_on_the_next_run(kube, namespace, deploy, tmp_path):
    url = deploy(workloads.deployment("web", _app(), replicas=3))
    extra = {"name": "web", "namespace": namespace, "images": {"app": image("2")}}

    def mid_rollout():
        d = _deployment(kube, namespace, "web")
        return d.metadata.generation >= 2 and (d.status.updated_replicas or 0) >= 1

    with Meter(url, rps=RPS, max_duration=400) as m:
        rc, out = _kill_then_rerun(kube, namespace, tmp_path, "rolling_update", extra, mid_rollout)
        settled = m.elapsed() + 2
        time.sleep(4)
    assert rc == 0, out[-3000:]
    assert _check_meter(m, settled).keys() == {"2"}
    d = _deployment(kube, namespace, "web")
    assert workloads.deployment_complete(d) and d.spec.template.spec.containers[0].image == image("2")
    live = [rs for rs in kube.apps.list_namespaced_replica_set(namespace).items if rs.spec.replicas]
    assert len(live) == 1, [rs.metadata.name for rs in live]
    _no_lock_left(kube, namespace)


def _blue_green(kube, namespace, deploy):
    labels = {"app": "web", "slot": "blue"}
    deploy(workloads.deployment("web-blue", _app(), replicas=3, labels=labels), service=False)
    return _service(kube, namespace, labels)


def _converged_blue_green(kube, namespace):
    """The Service selects one colour, at full size with the new image; the other has no pods."""
    selector = kube.core.read_namespaced_service("web", namespace).spec.selector
    live = selector["slot"]
    other = "green" if live == "blue" else "blue"
    serving, idle = _deployment(kube, namespace, f"web-{live}"), _deployment(kube, namespace, f"web-{other}")
    assert serving.spec.replicas == 3 and workloads.deployment_complete(serving)
    assert serving.spec.template.spec.containers[0].image == image("2")
    assert idle.spec.replicas == 0
    assert not kube.core.list_namespaced_pod(namespace, label_selector=f"slot={other}").items
    return live


@pytest.mark.timeout(420)
def test_blue_green_killed_after_the_new_colour_was_created_switches_on_the_next_run(kube, namespace, deploy, tmp_path):
    url = _blue_green(kube, namespace, deploy)
    extra = {
        "name": "web",
        "namespace": namespace,
        "images": {"app": image("2")},
        "blue_green_scale_down_delay_seconds": 2,
    }
    with Meter(url, rps=RPS, max_duration=400) as m:
        rc, out = _kill_then_rerun(
            kube, namespace, tmp_path, "blue_green", extra, lambda: _exists(kube, namespace, "web-green")
        )
        settled = m.elapsed() + 2
        time.sleep(4)
    assert rc == 0, out[-3000:]
    assert _converged_blue_green(kube, namespace) == "green"
    assert _check_meter(m, settled).keys() == {"2"}
    _no_lock_left(kube, namespace)


@pytest.mark.timeout(420)
def test_blue_green_killed_after_the_switch_converges_on_the_next_run(kube, namespace, deploy, tmp_path):
    url = _blue_green(kube, namespace, deploy)
    extra = {"name": "web", "namespace": namespace, "images": {"app": image("2")}}

    def switched():
        return kube.core.read_namespaced_service("web", namespace).spec.selector.get("slot") == "green"

    with Meter(url, rps=RPS, max_duration=400) as m:
        rc, out = _kill_then_rerun(
            kube,
            namespace,
            tmp_path,
            "blue_green",
            dict(extra, blue_green_scale_down_delay_seconds=60),  # killed while blue waits to be retired
            switched,
            rerun_vars=dict(extra, blue_green_scale_down_delay_seconds=2),
        )
        settled = m.elapsed() + 2
        time.sleep(4)
    assert rc == 0, out[-3000:]
    # The re-run sees green live and releases to blue; either way one colour serves :2, the other is gone.
    _converged_blue_green(kube, namespace)
    assert _check_meter(m, settled).keys() == {"2"}
    _no_lock_left(kube, namespace)


@pytest.mark.timeout(420)
def test_canary_killed_mid_step_promotes_on_the_next_run(kube, namespace, deploy, tmp_path):
    manifest = workloads.deployment("web", _app(), replicas=4, labels={"app": "web", "track": "stable"})
    deploy(manifest, service=False)
    url = _service(kube, namespace, {"app": "web"})
    extra = {
        "name": "web",
        "namespace": namespace,
        "images": {"app": image("2")},
        "canary_steps": [{"weight": 50}, {"pause": 1}],
        "canary_wait_timeout": 90,
    }

    def canary_growing():
        canary = _exists(kube, namespace, "web-canary")
        return canary is not None and (canary.spec.replicas or 0) >= 1

    with Meter(url, rps=RPS, max_duration=400) as m:
        rc, out = _kill_then_rerun(kube, namespace, tmp_path, "canary", extra, canary_growing)
        settled = m.elapsed() + 2
        time.sleep(4)
    assert rc == 0, out[-3000:]
    assert _check_meter(m, settled).keys() == {"2"}
    stable, canary = _deployment(kube, namespace, "web"), _deployment(kube, namespace, "web-canary")
    assert canary.spec.replicas == 0
    assert not kube.core.list_namespaced_pod(namespace, label_selector="track=canary").items
    assert stable.spec.template.spec.containers[0].image == image("2")
    _no_lock_left(kube, namespace)
    # The release started with 4 pods and must end with 4, though the killed step had shrunk stable.
    assert stable.spec.replicas == 4


@pytest.mark.timeout(420)
def test_rollback_killed_mid_undo_rolls_back_again_on_the_next_run(kube, namespace, deploy, tmp_path):
    url = deploy(workloads.deployment("web", _app(), replicas=3))
    extra = {
        "name": "web",
        "namespace": namespace,
        "images": {"app": "example.invalid/web:2"},  # cannot be pulled: fail fast, then undo
        # One old pod goes at once, so the undo has a pod to bring back: it takes a start-up's time.
        "rolling_update_max_surge": 0,
        "rolling_update_max_unavailable": 1,
    }

    def undoing():
        d = _deployment(kube, namespace, "web")
        return d.metadata.generation >= 3 and d.spec.template.spec.containers[0].image == image("1")

    with Meter(url, rps=RPS, max_duration=400) as m:
        rc, out = _kill_then_rerun(kube, namespace, tmp_path, "rolling_update", extra, undoing)
        settled = m.elapsed() + 2
        time.sleep(4)
    assert rc != 0 and "rolled_back" in out, out[-3000:]
    assert _check_meter(m, settled).keys() == {"1"}
    d = _deployment(kube, namespace, "web")
    assert workloads.deployment_complete(d) and d.spec.template.spec.containers[0].image == image("1")
    _no_lock_left(kube, namespace)
