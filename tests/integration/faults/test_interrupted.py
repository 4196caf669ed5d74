"""A release run killed at each phase (SIGKILL to ansible-playbook and everything it started), then run again.

The killed run cannot release its lock; the next one, on the same host, sees that the holder's process is
gone and takes the lock over at once, long before its 1800 s time-to-live. It reads the progress the
killed run recorded (the annotation nodowntime.k8s/progress on the Service for blue/green, on the canary
Deployment for a canary), says where that run stopped, and carries on from there: after a switch it only
verifies and retires the old colour, mid-step it resumes the step, mid-rollback it finishes the rollback.
Over the whole story no request fails, and nothing is left behind: no leftover canary pods, no
half-switched selector, no lock still held, the progress marked done.
"""

import pytest
from gateway_routes import GROUP, PLURAL, VERSION, read_route, routes, stable_app, users_part
from interrupt import LOCK_TTL, Run, folded, image, lease, took_over_from

from ansible_collections.nodowntime.k8s.plugins.module_utils._release import progress_record
from localcluster import workloads
from localcluster.meter import Meter

RPS = 25
# The first task of a new colour's deployment: a resumed run after the switch must not run it.
DEPLOY_TASK = "Roll out the new colour"


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


def _deployments(kube, name, predicate):
    """The phase to kill in: the Deployment name as predicate(deployment) sees it."""
    return kube.apps.list_namespaced_deployment, name, predicate


def _service_web(kube, predicate):
    return kube.core.list_namespaced_service, "web", predicate


def _kill_then_rerun(kube, namespace, tmp_path, playbook, first_vars, phase, rerun_vars=None):
    """Run, kill once phase (list function, name, predicate) is watched true, run again at once: the dead run's
    lock is taken over, not waited out.

    Returns (the killed run, rc, output of the run that converged)."""
    first = Run(playbook, first_vars, tmp_path / "first.log")
    list_fn, name, predicate = phase
    workloads.wait_for(list_fn, name, predicate, 120, f"the phase to kill {playbook} in", namespace=namespace)
    first.kill()
    held = lease(kube, namespace, "web")
    assert f"pid {first.proc.pid}" in held.spec.holder_identity and held.spec.lease_duration_seconds == LOCK_TTL

    again = Run(playbook, rerun_vars or first_vars, tmp_path / "again.log")
    rc, out = again.wait(600)
    assert took_over_from(first, out), out[-3000:]
    return first, rc, out


def _progress(obj):
    """The progress a run recorded on obj, {} when none."""
    return progress_record.recorded(obj.to_dict())


def _resumed(first, out, phase):
    """The re-run said it resumes the killed run, naming it and the phase it stopped at."""
    text = folded(out)
    return "resuming run " in text and f"pid {first.proc.pid}" in text and f"stopped at {phase}" in text


def _no_lock_left(kube, namespace):
    held = lease(kube, namespace, "web")
    assert held is None or not held.spec.holder_identity, held.spec


def _check_meter(m, settled):
    s = m.summary
    assert s["sent"] > 100
    assert s["failed"] == 0, (s["failed_by_kind"], s["failure_samples"])
    return m.versions_after(settled)


@pytest.mark.timeout(420)
def test_rolling_update_killed_mid_rollout_finishes_on_the_next_run(kube, namespace, deploy, tmp_path):
    url = deploy(workloads.deployment("web", _app(), replicas=3))
    extra = {"app_name": "web", "app_namespace": namespace, "images": {"app": image("2")}}

    def mid_rollout(d):
        return d.metadata.generation >= 2 and (d.status.updated_replicas or 0) >= 1

    with Meter(url, rps=RPS, max_duration=400) as m:
        _first, rc, out = _kill_then_rerun(
            kube, namespace, tmp_path, "rolling_update", extra, _deployments(kube, "web", mid_rollout)
        )
        settled = kube.settle_after(m)
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
        "app_name": "web",
        "app_namespace": namespace,
        "images": {"app": image("2")},
        "blue_green_scale_down_delay_seconds": 2,
    }
    with Meter(url, rps=RPS, max_duration=400) as m:
        _first, rc, out = _kill_then_rerun(
            kube, namespace, tmp_path, "blue_green", extra, _deployments(kube, "web-green", bool)
        )
        settled = kube.settle_after(m)
    assert rc == 0, out[-3000:]
    # Nothing was recorded before the switch: the Service had not changed, and the re-run planned from it.
    assert "resuming run" not in out
    assert _converged_blue_green(kube, namespace) == "green"
    assert _check_meter(m, settled).keys() == {"2"}
    _no_lock_left(kube, namespace)
    assert _progress(kube.core.read_namespaced_service("web", namespace))["phase"] == "done"


@pytest.mark.timeout(420)
def test_blue_green_killed_after_the_switch_converges_on_the_next_run(kube, namespace, deploy, tmp_path):
    url = _blue_green(kube, namespace, deploy)
    extra = {"app_name": "web", "app_namespace": namespace, "images": {"app": image("2")}}

    def switched(service):
        return service.spec.selector.get("slot") == "green"

    with Meter(url, rps=RPS, max_duration=400) as m:
        first, rc, out = _kill_then_rerun(
            kube,
            namespace,
            tmp_path,
            "blue_green",
            dict(extra, blue_green_scale_down_delay_seconds=60),  # killed while blue waits to be retired
            _service_web(kube, switched),
            rerun_vars=dict(extra, blue_green_scale_down_delay_seconds=2),
        )
        settled = kube.settle_after(m)
    assert rc == 0, out[-3000:]
    # The switch recorded its progress in its own patch: the re-run resumes after it, verifies green and
    # retires blue, without deploying anything a second time.
    assert _resumed(first, out, "switched"), out[-3000:]
    assert DEPLOY_TASK not in out, out[-3000:]
    assert _converged_blue_green(kube, namespace) == "green"
    assert _deployment(kube, namespace, "web-blue").spec.template.spec.containers[0].image == image("1")
    assert _check_meter(m, settled).keys() == {"2"}
    _no_lock_left(kube, namespace)
    done = _progress(kube.core.read_namespaced_service("web", namespace))
    assert done["phase"] == "done" and done["outcome"] == "complete" and f"pid {first.proc.pid}" not in done["holder"]


def _stable(kube, namespace, deploy):
    """web, 4 pods of :1 with track stable, behind a Service that selects app=web only; its URL."""
    manifest = workloads.deployment("web", _app(), replicas=4, labels={"app": "web", "track": "stable"})
    deploy(manifest, service=False)
    return _service(kube, namespace, {"app": "web"})


def _canary_vars(namespace, steps):
    return {
        "app_name": "web",
        "app_namespace": namespace,
        "images": {"app": image("2")},
        "canary_steps": steps,
        "canary_wait_timeout": 90,
    }


@pytest.mark.timeout(420)
def test_canary_killed_mid_step_promotes_on_the_next_run(kube, namespace, deploy, tmp_path):
    url = _stable(kube, namespace, deploy)
    extra = _canary_vars(namespace, [{"weight": 50}, {"pause": 1}])

    def canary_growing(canary):
        return (canary.spec.replicas or 0) >= 1

    with Meter(url, rps=RPS, max_duration=400) as m:
        first, rc, out = _kill_then_rerun(
            kube, namespace, tmp_path, "canary", extra, _deployments(kube, "web-canary", canary_growing)
        )
        settled = kube.settle_after(m)
    assert rc == 0, out[-3000:]
    assert _resumed(first, out, "step 0 (weight 50)"), out[-3000:]
    assert _check_meter(m, settled).keys() == {"2"}
    stable, canary = _deployment(kube, namespace, "web"), _deployment(kube, namespace, "web-canary")
    assert canary.spec.replicas == 0
    assert not kube.core.list_namespaced_pod(namespace, label_selector="track=canary").items
    assert stable.spec.template.spec.containers[0].image == image("2")
    _no_lock_left(kube, namespace)
    # The release started with 4 pods and must end with 4, though the killed step had shrunk stable.
    assert stable.spec.replicas == 4
    assert _progress(canary)["phase"] == "done" and _progress(canary)["outcome"] == "complete"


@pytest.mark.timeout(420)
def test_gateway_canary_killed_with_the_weight_on_the_route_promotes_on_the_next_run(kube, namespace, deploy, tmp_path):
    url, created = stable_app(kube, namespace, deploy, _app(), replicas=2)
    extra = dict(
        _canary_vars(namespace, [{"weight": 50}, {"pause": 2}]),
        canary_traffic_router="gateway_api",
        canary_route={"name": "web"},
    )

    def list_routes(namespace, **kwargs):  # as _kill_then_rerun lists: the namespace by name
        return routes(kube).list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, **kwargs)

    def weighted(route):  # the first weight is on the route: the annotation keeping the user's rules is there
        return "nodowntime.k8s/traffic-weight" in (route["metadata"].get("annotations") or {})

    with Meter(url, rps=RPS, max_duration=400) as m:
        first, rc, out = _kill_then_rerun(kube, namespace, tmp_path, "canary", extra, (list_routes, "web", weighted))
        settled = kube.settle_after(m)
    assert rc == 0, out[-3000:]
    assert _resumed(first, out, "step 0 (weight 50)"), out[-3000:]
    assert _check_meter(m, settled).keys() == {"2"}
    stable, canary = _deployment(kube, namespace, "web"), _deployment(kube, namespace, "web-canary")
    assert canary.spec.replicas == 0 and stable.spec.replicas == 2
    assert stable.spec.template.spec.containers[0].image == image("2")
    assert users_part(read_route(kube, namespace)) == users_part(created)
    _no_lock_left(kube, namespace)
    assert _progress(canary)["phase"] == "done" and _progress(canary)["outcome"] == "complete"


def _failing_gate(url):
    """An analysis of the Service's own answers that only the old version passes: fails once :2 serves.

    Ten answers, not four: at a 50% canary kube-proxy picks a pod at random, and all of four came from
    stable once in 16 runs (the canary then promoted); all of ten, once in a thousand."""
    return {"url": url, "success_condition": "version == '1'", "count": 10, "interval": 0.25}


def _rollback_killed_then_rerun(kube, namespace, tmp_path, url, playbook, extra, phase):
    """Under traffic: kill the run while it rolls back, run it again; the re-run must finish that rollback,
    failing with the killed run's cause, not try the release again. (output, meter, settled)."""
    with Meter(url, rps=RPS, max_duration=400) as m:
        first, rc, out = _kill_then_rerun(kube, namespace, tmp_path, playbook, extra, phase)
        settled = kube.settle_after(m)
    assert rc != 0 and _resumed(first, out, "rolling_back"), out[-3000:]
    assert "stopped while rolling back: " in folded(out) and "version == '1'" in out, out[-3000:]
    return out, m, settled


def _rolled_back(kube, namespace, serving, idle, versions_after):
    """serving (name, size) runs :1 at its full size, idle (name, pod labels) has no pod left, only :1
    answered once settled, and the lock is free."""
    (name, size), (idle_name, idle_pods) = serving, idle
    old = _deployment(kube, namespace, name)
    assert old.spec.replicas == size and old.spec.template.spec.containers[0].image == image("1")
    assert _deployment(kube, namespace, idle_name).spec.replicas == 0
    assert not kube.core.list_namespaced_pod(namespace, label_selector=idle_pods).items
    assert versions_after.keys() == {"1"}
    _no_lock_left(kube, namespace)


@pytest.mark.timeout(420)
def test_blue_green_killed_while_switching_back_finishes_the_rollback_on_the_next_run(
    kube, namespace, deploy, tmp_path
):
    url = _blue_green(kube, namespace, deploy)
    extra = {
        "app_name": "web",
        "app_namespace": namespace,
        "images": {"app": image("2")},
        "blue_green_post_switch_analysis": _failing_gate(url),
    }

    def switching_back(service):
        return _progress(service).get("phase") == "rolling_back" and service.spec.selector["slot"] == "blue"

    out, m, settled = _rollback_killed_then_rerun(
        kube, namespace, tmp_path, url, "blue_green", extra, _service_web(kube, switching_back)
    )
    assert "switched_back" in out, out[-3000:]
    assert DEPLOY_TASK not in out and "Switch the Service to the new colour" not in out, out[-3000:]
    service = kube.core.read_namespaced_service("web", namespace)
    assert service.spec.selector["slot"] == "blue"
    _rolled_back(kube, namespace, ("web-blue", 3), ("web-green", "slot=green"), _check_meter(m, settled))
    assert _progress(service)["phase"] == "done" and _progress(service)["outcome"] == "switched_back"


@pytest.mark.timeout(420)
def test_canary_killed_while_rolling_back_finishes_the_rollback_on_the_next_run(kube, namespace, deploy, tmp_path):
    url = _stable(kube, namespace, deploy)
    extra = _canary_vars(namespace, [{"weight": 50}, {"analysis": _failing_gate(url)}, {"weight": 100}])

    def rolling_back(canary):
        return _progress(canary).get("phase") == "rolling_back" and canary.spec.replicas

    out, m, settled = _rollback_killed_then_rerun(
        kube, namespace, tmp_path, url, "canary", extra, _deployments(kube, "web-canary", rolling_back)
    )
    assert "rolled_back" in out, out[-3000:]
    assert "Weight of step" not in out, out[-3000:]  # no step of the release ran again
    _rolled_back(kube, namespace, ("web", 4), ("web-canary", "track=canary"), _check_meter(m, settled))
    canary = _deployment(kube, namespace, "web-canary")
    assert _progress(canary)["phase"] == "done" and _progress(canary)["outcome"] == "rolled_back"


@pytest.mark.timeout(420)
def test_rollback_killed_mid_undo_rolls_back_again_on_the_next_run(kube, namespace, deploy, tmp_path):
    url = deploy(workloads.deployment("web", _app(), replicas=3))
    extra = {
        "app_name": "web",
        "app_namespace": namespace,
        "images": {"app": "example.invalid/web:2"},  # cannot be pulled: fail fast, then undo
        # One old pod goes at once, so the undo has a pod to bring back: it takes a start-up's time.
        "rolling_update_max_surge": 0,
        "rolling_update_max_unavailable": 1,
    }

    def undoing(d):
        return d.metadata.generation >= 3 and d.spec.template.spec.containers[0].image == image("1")

    with Meter(url, rps=RPS, max_duration=400) as m:
        _first, rc, out = _kill_then_rerun(
            kube, namespace, tmp_path, "rolling_update", extra, _deployments(kube, "web", undoing)
        )
        settled = kube.settle_after(m)
    assert rc != 0 and "rolled_back" in out, out[-3000:]
    assert _check_meter(m, settled).keys() == {"1"}
    d = _deployment(kube, namespace, "web")
    assert workloads.deployment_complete(d) and d.spec.template.spec.containers[0].image == image("1")
    _no_lock_left(kube, namespace)
