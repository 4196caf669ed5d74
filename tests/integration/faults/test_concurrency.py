"""Two release runs at once: on one application exactly one proceeds and the other fails fast naming the
holder; on two applications both proceed side by side; a lock whose holder died is taken over once it
has expired."""

import datetime
import time

import pytest
from interrupt import Run, image, lease, until

from localcluster import workloads
from localcluster.meter import Meter


def _app(name, labels=None):
    container = workloads.demo_container("1", env={"STARTUP_SECONDS": 3}, pre_stop_seconds=3)
    return workloads.deployment(name, container, replicas=3, labels=labels)


def _holder(kube, namespace, application):
    held = lease(kube, namespace, application)
    return held.spec.holder_identity if held is not None else None


@pytest.mark.timeout(300)
def test_a_second_run_on_the_same_app_fails_fast_naming_the_holder(kube, namespace, deploy, tmp_path):
    url = deploy(_app("web"))
    extra = {"name": "web", "namespace": namespace, "images": {"app": image("2")}}
    with Meter(url, rps=25, max_duration=300) as m:
        first = Run("rolling_update", extra, tmp_path / "first.log")
        until(lambda: f"pid {first.proc.pid}" in (_holder(kube, namespace, "web") or ""), 60, "the first run's lock")
        second = Run("rolling_update", dict(extra, images={"app": image("3")}), tmp_path / "second.log")
        rc2, out2 = second.wait(120)
        refused_after = time.monotonic() - second.started
        assert first.proc.poll() is None, "the first run was over before the second was refused"
        rc1, out1 = first.wait(300)
        time.sleep(3)
    assert rc1 == 0, out1[-3000:]
    assert rc2 != 0 and "web is locked: held by" in out2 and f"pid {first.proc.pid}" in out2, out2[-3000:]
    assert refused_after < 30, refused_after  # ansible-playbook's own start is most of it
    # The refused run changed nothing: one patch (the first run's image) and :3 never appeared.
    d = kube.apps.read_namespaced_deployment("web", namespace)
    assert d.metadata.generation == 2 and d.spec.template.spec.containers[0].image == image("2")
    assert m.summary["failed"] == 0, m.summary["failed_by_kind"]
    assert "3" not in m.summary["versions"]
    assert not _holder(kube, namespace, "web")  # released at the end


@pytest.mark.timeout(300)
def test_runs_on_two_apps_proceed_side_by_side(kube, namespace, deploy, tmp_path):
    deploy(_app("shop", {"app": "shop"}), service=False)
    deploy(_app("cart", {"app": "cart"}), service=False)
    runs = {
        app: Run(
            "rolling_update",
            {"name": app, "namespace": namespace, "images": {"app": image("2")}},
            tmp_path / f"{app}.log",
        )
        for app in ("shop", "cart")
    }
    # Both hold their own lock at the same moment: neither waited for the other.
    until(lambda: all(_holder(kube, namespace, app) for app in runs), 90, "both locks held at once")
    for app, run in runs.items():
        rc, out = run.wait(300)
        assert rc == 0, f"{app}: {out[-3000:]}"
        d = kube.apps.read_namespaced_deployment(app, namespace)
        assert workloads.deployment_complete(d) and d.spec.template.spec.containers[0].image == image("2")
        assert not _holder(kube, namespace, app)


@pytest.mark.timeout(300)
def test_an_expired_lock_is_taken_over(kube, namespace, deploy, tmp_path):
    deploy(_app("web"), service=False)
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=10)
    stamp = past.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    kube.coordination.create_namespaced_lease(
        namespace,
        {
            "metadata": {"name": "nodowntime-web"},
            "spec": {
                "holderIdentity": "ci@dead-runner pid 4242",
                "leaseDurationSeconds": 60,
                "acquireTime": stamp,
                "renewTime": stamp,
                "leaseTransitions": 3,
            },
        },
    )
    run = Run(
        "rolling_update", {"name": "web", "namespace": namespace, "images": {"app": image("2")}}, tmp_path / "run.log"
    )
    rc, out = run.wait(300)
    assert rc == 0, out[-3000:]
    held = lease(kube, namespace, "web")
    assert held.spec.lease_transitions == 4 and not held.spec.holder_identity
    assert kube.apps.read_namespaced_deployment("web", namespace).spec.template.spec.containers[0].image == image("2")
