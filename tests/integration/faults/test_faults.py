"""Faults during a release, on a private cluster, with the meter running through its proxy.

Each strategy's module is mid-wait when one component restarts: kube-apiserver (the watches drop and
resume), etcd (the API server answers errors until it is back), the node agent (pods keep running and are
adopted by the next agent) and the proxy. Every run must end as designed with no false failure, and the
meter must see no failed request, except for the proxy: ours is a userspace proxy, so restarting it closes
its listeners, which models a node-level fault (kube-proxy's iptables rules would stay in place). There the
test measures what it costs, and asserts that the cost stays inside the restart: measured on a 2-core
machine at 25 rps, 53 to 68 requests (2.1 to 2.7 s) were refused, from the moment the old proxy closed its
listeners until the new one had listed the Services and opened them again, about 1.7 s after
`localcluster restart proxy` returned (at a load average of 30, up to 6.5 s: the test measures when the
proxy serves again rather than assuming it); none failed before or after, and the release itself went on.
"""

import json
import threading
import time

import pytest
from ansible_run import run_module, run_playbook

from localcluster import workloads
from localcluster.meter import Meter

RPS = 25
COMPONENTS = ["kube-apiserver", "etcd", "node", "proxy"]


# docs/probes.md's preStop: longer than the endpoint propagation delay, which a fault makes longer than the
# proxy's 1 s. After a kube-apiserver restart the controller-manager's informers resume late (its watches
# backed off through the outage, and the restarted apiserver answers 403 until its RBAC cache is filled), and
# the EndpointSlice controller writes nothing while its cache is out of date: one run measured 4.06 s from a
# stable pod's deletion to the proxy dropping it, so a 3 s preStop let 4 requests reach a pod that had
# exited. The delay grows with the outage (client-go backs off up to 30 s), so 5 s is a margin, not a bound.
PRE_STOP = 5
# The new proxy serves again within this long of `localcluster restart proxy` returning: 1.7 s on a quiet
# 2-core machine, 6.5 s at a load average of 30. Failures are excused until the moment it serves, so this
# bound is what keeps a proxy that never comes back (or comes back late) from passing.
PROXY_BACK_WITHIN = 10


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

    Returns (meter, run's result, (fault start, fault end, serving again) on the meter's clock, end of run
    on it). Serving again is when a GET of our own through the proxy first succeeded after a proxy restart
    (the new proxy has listed the Services and EndpointSlices and opened its listeners); for the other
    components, the fault's end."""
    with Meter(url, rps=RPS, max_duration=400) as m:
        job = InBackground(run)
        job.start()
        in_progress()
        assert job.is_alive(), "the module finished before the fault: the fault would not land mid-wait"
        fault_start = m.elapsed()
        private.restart(component)
        fault_end = m.elapsed()
        if component == "proxy":
            workloads.wait_serving(url, timeout=60)
        serving_again = m.elapsed()
        job.join(300)
        assert not job.is_alive(), "the module did not finish within 300 s of the fault"
        done = m.elapsed()
        # Old pods leave the proxy's table one sync delay after their deletion started.
        time.sleep(private.sync_delay + 2)
    if job.error:
        raise job.error
    return m, job.result, (fault_start, fault_end, serving_again), done


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
        "fault_window": [round(t, 2) for t in window[:2]],
        "serving_again": round(window[2], 2),
        "run_ended": round(done, 2),
    }
    print(f"\nFAULT {json.dumps(line)}")
    return s


def _check_meter(m, window, component):
    s = m.summary
    assert s["sent"] > 100
    if component != "proxy":
        assert s["failed"] == 0, (s["failed_by_kind"], s["first_failure"], s["last_failure"], window)
        return
    # The proxy is down from the restart's start until it has listed the Services again: no request fails
    # before the restart or after the proxy served our own GET again, and only for want of a listener.
    # (That moment is measured, not assumed: on a loaded machine the new proxy takes seconds to start.)
    assert window[2] - window[1] < PROXY_BACK_WITHIN, window
    outside = [r for r in m.sorted_records() if not r.ok and not window[0] <= r.start <= window[2]]
    assert outside == [], outside[:5]
    assert set(s["failed_by_kind"]) <= {"refused", "reset"}, s["failed_by_kind"]


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
    args = {"name": "web", "namespace": ns, "images": {"app": "nodowntime/demo-app:2"}, "wait_timeout": 300}

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
    _check_meter(m, window, component)
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
    _check_meter(m, window, component)
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
    _check_meter(m, window, component)
    assert set(m.versions_after(done + private.sync_delay + 1)) == {"1", "2"}
