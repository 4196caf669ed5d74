"""Two release runs at once: on one application exactly one proceeds and the other fails fast naming the
holder; on two applications both proceed side by side; a lock whose holder died is taken over once it
has expired, or at once when the holder was a process of this host that no longer runs."""

import datetime
import getpass
import os
import socket
import time

import pytest
from ansible_run import run_module
from interrupt import LOCK_TTL, Run, held_by, image, lease, took_over_from

from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s import host_process
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
    extra = {"app_name": "web", "app_namespace": namespace, "images": {"app": image("2")}}
    with Meter(url, rps=25, max_duration=300) as m:
        first = Run("rolling_update", extra, tmp_path / "first.log")
        held_by(kube, namespace, "web", first.proc.pid, 60)
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
    assert m.summary["failed"] == 0, (m.summary["failed_by_kind"], m.summary["failure_samples"])
    assert "3" not in m.summary["versions"]
    assert not _holder(kube, namespace, "web")  # released at the end


@pytest.mark.timeout(300)
def test_runs_on_two_apps_proceed_side_by_side(kube, namespace, deploy, tmp_path):
    deploy(_app("shop", {"app": "shop"}), service=False)
    deploy(_app("cart", {"app": "cart"}), service=False)
    runs = {
        app: Run(
            "rolling_update",
            {"app_name": app, "app_namespace": namespace, "images": {"app": image("2")}},
            tmp_path / f"{app}.log",
        )
        for app in ("shop", "cart")
    }
    # Both hold their own lock at the same moment: neither waited for the other.
    for app, run in runs.items():
        held_by(kube, namespace, app, run.proc.pid, 90)
    # Each run takes its lock once and releases it once: shop still held after cart was taken means both
    # were held at once.
    assert all(_holder(kube, namespace, app) for app in runs)
    for app, run in runs.items():
        rc, out = run.wait(300)
        assert rc == 0, f"{app}: {out[-3000:]}"
        d = kube.apps.read_namespaced_deployment(app, namespace)
        assert workloads.deployment_complete(d) and d.spec.template.spec.containers[0].image == image("2")
        assert not _holder(kube, namespace, app)


@pytest.mark.timeout(300)
def test_an_expired_lock_is_taken_over(kube, namespace, deploy, tmp_path):
    deploy(_app("web"), service=False)
    _lease_held_by(kube, namespace, "ci@dead-runner pid 4242", ago=600, ttl=60, transitions=3)
    run = Run(
        "rolling_update",
        {"app_name": "web", "app_namespace": namespace, "images": {"app": image("2")}},
        tmp_path / "run.log",
    )
    rc, out = run.wait(300)
    assert rc == 0, out[-3000:]
    held = lease(kube, namespace, "web")
    assert held.spec.lease_transitions == 4 and not held.spec.holder_identity
    assert kube.apps.read_namespaced_deployment("web", namespace).spec.template.spec.containers[0].image == image("2")


@pytest.mark.timeout(300)
def test_a_killed_runs_lock_is_taken_over_at_once_while_a_live_holder_is_refused(kube, namespace, deploy, tmp_path):
    deploy(_app("web"), service=False)
    extra = {"app_name": "web", "app_namespace": namespace, "images": {"app": image("2")}}
    first = Run("rolling_update", extra, tmp_path / "first.log")
    ttl = held_by(kube, namespace, "web", first.proc.pid, 60).spec.lease_duration_seconds
    assert ttl == LOCK_TTL

    # Alive, on this very host: still refused, whoever asks.
    alive, _out = run_module("lock", {"name": "nodowntime-web", "namespace": namespace, "holder": "someone else"})
    assert alive["action"] == "refuse" and f"is locked: held by {_holder(kube, namespace, 'web')}" in alive["msg"], (
        alive
    )

    first.kill()
    again = Run("rolling_update", extra, tmp_path / "again.log")
    rc, out = again.wait(300)
    assert rc == 0, out[-3000:]
    assert took_over_from(first, out), out[-3000:]
    assert time.monotonic() - again.started < ttl / 10  # nowhere near the dead run's TTL
    held = lease(kube, namespace, "web")
    assert not held.spec.holder_identity and held.spec.lease_transitions == 1
    assert kube.apps.read_namespaced_deployment("web", namespace).spec.template.spec.containers[0].image == image("2")


def _lease_held_by(kube, namespace, holder, ago=0, ttl=LOCK_TTL, transitions=0):
    """The application's Lease, as if holder had taken it ago seconds ago for ttl seconds."""
    then = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=ago)
    stamp = then.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    spec = {
        "holderIdentity": holder,
        "leaseDurationSeconds": ttl,
        "acquireTime": stamp,
        "renewTime": stamp,
        "leaseTransitions": transitions,
    }
    kube.coordination.create_namespaced_lease(namespace, {"metadata": {"name": "nodowntime-web"}, "spec": spec})


@pytest.mark.timeout(120)
def test_a_reused_pid_is_not_the_holder_but_the_holder_itself_is(kube, namespace):
    me = f"{getpass.getuser()}@{socket.gethostname()} pid {os.getpid()}"
    started = host_process.start_ticks(os.getpid())
    args = {"name": "nodowntime-web", "namespace": namespace, "holder": "tester"}

    # The pid runs, but it started at another time than the holder's: another process has that pid now.
    _lease_held_by(kube, namespace, f"{me} started {int(started) + 1}")
    taken, _out = run_module("lock", args)
    assert taken["action"] == "take" and "is another process now" in taken["message"], taken
    assert lease(kube, namespace, "web").spec.holder_identity == "tester"

    kube.coordination.delete_namespaced_lease("nodowntime-web", namespace)
    _lease_held_by(kube, namespace, f"{me} started {started}")
    refused, _out = run_module("lock", args)
    assert refused["action"] == "refuse" and "is locked: held by" in refused["msg"], refused
    assert lease(kube, namespace, "web").spec.holder_identity == f"{me} started {started}"
