"""Faults during a release, on a private cluster on the real node, with the meter running through it.

Each strategy's module is mid-wait when one component is killed with SIGKILL (as a crash would) and
started again: kube-apiserver (the watches drop and resume), etcd (the API server answers errors until it
is back), the kubelet (pods keep running in containerd and the next kubelet adopts them), containerd (the
shims keep the containers running and the next containerd reconnects to them) and kube-proxy (the kernel's
rules stay in place while it is gone, and the next one rewrites them). Every run must end as designed with
no false failure, and the meter must see no failed request in any of them.
"""

import json
import threading
import time

import pytest
from ansible_run import run_module, run_playbook

from localcluster import workloads
from localcluster.meter import Meter

RPS = 25
COMPONENTS = ["kube-apiserver", "etcd", "kubelet", "containerd", "kube-proxy"]


# docs/probes.md's preStop: longer than the endpoint propagation delay, which a fault makes longer than the
# proxy's 1 s. After a kube-apiserver restart the controller-manager's informers resume late (its watches
# backed off through the outage, and the restarted apiserver answers 403 until its RBAC cache is filled), and
# the EndpointSlice controller writes nothing while its cache is out of date: one run measured 4.06 s from a
# stable pod's deletion to the proxy dropping it, so a 3 s preStop let 4 requests reach a pod that had
# exited. The delay grows with the outage (client-go backs off up to 30 s), so 5 s is a margin, not a bound.
PRE_STOP = 5


def v1():
    return workloads.demo_container("1", pre_stop_seconds=PRE_STOP)


def v2():
    # A slow start keeps the wait going long enough for the restart to land in it.
    return workloads.demo_container("2", env={"STARTUP_SECONDS": 4}, pre_stop_seconds=PRE_STOP)


class InBackground(threading.Thread):
    def __init__(self, fn):
        super().__init__(daemon=True)
        self.fn, self.result, self.error = fn, None, None

    def run(self):
        try:
            self.result = self.fn()
        except BaseException as e:  # noqa: BLE001 - reported by the test
            self.error = e


def _under_fault(private, url, run, in_progress, component):
    """Start run in the background with the meter going; once in_progress() returns, restart component.

    Returns (meter, run's result, (fault start, fault end) on the meter's clock, end of run on it)."""
    with Meter(url, rps=RPS, max_duration=400) as m:
        job = InBackground(run)
        job.start()
        in_progress()
        assert job.is_alive(), "the module finished before the fault: the fault would not land mid-wait"
        fault_start = m.elapsed()
        private.restart(component)
        fault_end = m.elapsed()
        job.join(300)
        assert not job.is_alive(), "the module did not finish within 300 s of the fault"
        done = m.elapsed()
        # Old pods leave the proxy's table one sync delay after their deletion started.
        time.sleep(private.sync_delay + 2)
    if job.error:
        raise job.error
    return m, job.result, (fault_start, fault_end), done


def _report(what, component, m, window, done):
    s = m.summary
    line = {
        "run": what,
        "fault": component,
        "restart_seconds": round(window[1] - window[0], 2),
        "sent": s["sent"],
        "failed": s["failed"],
        "failed_by_kind": s["failed_by_kind"],
        "failures_from": s["first_failure"],
        "failures_to": s["last_failure"],
        "fault_window": [round(t, 2) for t in window],
        "run_ended": round(done, 2),
    }
    print(f"\nFAULT {json.dumps(line)}")
    return s


def _check_meter(m, window):
    s = m.summary
    assert s["sent"] > 100
    assert s["failed"] == 0, (s["failed_by_kind"], s["failure_samples"], window)


def _waited_through(result, component):
    """The module's own timeline shows the outage it rode out (kube-apiserver only: the others leave
    the API up)."""
    if component == "kube-apiserver":
        messages = [e["message"] for e in result["timeline"]]
        assert any("retrying" in msg for msg in messages), messages


# -- rolling update --------------------------------------------------------------------------------


@pytest.mark.timeout(480)
@pytest.mark.parametrize("component", COMPONENTS)
def test_rolling_update_rides_out_a_restart(private_cluster, deployer, component):
    private = private_cluster
    ns = private.namespace(f"roll-{component}")
    url = private.deploy(ns, workloads.deployment("web", v1(), replicas=3), selector={"app": "web"})
    env = {"K8S_AUTH_KUBECONFIG": deployer(ns)}
    args = {
        "name": "web",
        "namespace": ns,
        "images": {"app": "localhost:5000/nodowntime/demo-app:2"},
        "wait_timeout": 300,
    }

    def started():
        private.wait_deployment(
            ns, "web", lambda d: d.metadata.generation >= 2 and (d.status.updated_replicas or 0) >= 1, timeout=60
        )

    m, (result, out), window, done = _under_fault(
        private, url, lambda: run_module("rollout", args, env=env), started, component
    )
    _report("rolling_update", component, m, window, done)
    assert result.get("outcome") == "complete" and result["revision"] == 2, out
    assert result["replicas"]["available"] == 3
    _waited_through(result, component)
    _check_meter(m, window)
    assert set(m.versions_after(done + private.sync_delay + 1)) == {"2"}


# -- blue/green: the new colour's rollout is hit, then the switch ----------------------------------


@pytest.mark.timeout(480)
@pytest.mark.parametrize("component", COMPONENTS)
def test_blue_green_rides_out_a_restart_while_green_comes_up(private_cluster, deployer, component, tmp_path):
    private = private_cluster
    ns = private.namespace(f"bg-{component}")
    blue = workloads.deployment("web-blue", v1(), replicas=2, labels={"app": "web", "slot": "blue"})
    url = private.deploy(ns, blue, selector={"app": "web", "slot": "blue"})
    green = workloads.deployment("web-green", v2(), replicas=2, labels={"app": "web", "slot": "green"})
    play = tmp_path / "blue_green.yml"
    play.write_text(f"""\
- hosts: localhost
  gather_facts: false
  tasks:
    - nodowntime.k8s.rollout: {{name: web-green, namespace: {ns}, definition: {json.dumps(green)}, wait_timeout: 300}}
      register: green
    - nodowntime.k8s.switch_selector:
        namespace: {ns}
        service: web
        selector: {{app: web, slot: green}}
        wait_timeout: 120
      register: switch
    - ansible.builtin.assert:
        that: [green.outcome == 'complete', switch.changed, switch.ready_endpoints | length == 2]
""")
    env = {"K8S_AUTH_KUBECONFIG": deployer(ns)}

    def green_started():
        private.wait_deployment(ns, "web-green", lambda d: (d.status.replicas or 0) >= 1, timeout=60)

    m, proc, window, done = _under_fault(
        private, url, lambda: run_playbook(str(play), env=env), green_started, component
    )
    _report("blue_green", component, m, window, done)
    assert proc.returncode == 0, proc.stdout
    _check_meter(m, window)
    assert set(m.versions_after(done + private.sync_delay + 1)) == {"2"}


# -- canary: the scale-up wait is hit ---------------------------------------------------------------


@pytest.mark.timeout(480)
@pytest.mark.parametrize("component", COMPONENTS)
def test_canary_step_rides_out_a_restart(private_cluster, deployer, component):
    private = private_cluster
    ns = private.namespace(f"canary-{component}")
    url = private.deploy(ns, workloads.deployment("web", v1(), replicas=3), selector={"app": "web"})
    canary = workloads.deployment("web-canary", v2(), replicas=0, labels={"app": "web", "track": "canary"})
    canary["spec"]["template"]["metadata"]["labels"] = {"app": "web", "track": "canary"}
    private.deploy(ns, canary)
    env = {"K8S_AUTH_KUBECONFIG": deployer(ns)}
    args = {"namespace": ns, "stable": "web", "canary": "web-canary", "weight": 50, "wait_timeout": 300}

    def canary_growing():
        private.wait_deployment(ns, "web-canary", lambda d: (d.status.replicas or 0) >= 1, timeout=60)

    m, (result, out), window, done = _under_fault(
        private, url, lambda: run_module("canary_scale", args, env=env), canary_growing, component
    )
    _report("canary", component, m, window, done)
    assert "FAILED" not in out and result["canary_replicas"] == 2 and result["stable_replicas"] == 1, out
    _waited_through(result, component)
    _check_meter(m, window)
    assert set(m.versions_after(done + private.sync_delay + 1)) == {"1", "2"}
