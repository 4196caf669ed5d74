"""What the strategy role tests share: the demo app as each test starts it, a run under the meter."""

import json
import os
import re
import threading
import time

from ansible_run import run_playbook
from kubernetes import client

from localcluster import ansiblecli, workloads
from localcluster.meter import Meter

PLAYBOOKS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "playbooks")
PRE_STOP = 3  # outlasts the proxy's 1 s sync delay, so a terminating pod drains before it stops
# Quick failure for tests: a release that never becomes ready gives up after this long.
PROGRESS_DEADLINE = 12


def playbook(name):
    return os.path.abspath(os.path.join(PLAYBOOKS, f"{name}.yml"))


def image(version):
    return f"{workloads.DEMO_IMAGE}:{version}"


def container(version, safeguards=True, env=None):
    """The demo app with (or, for a negative control, without) readiness probe and preStop sleep."""
    return workloads.demo_container(
        version, env=env, readiness=safeguards, pre_stop_seconds=PRE_STOP if safeguards else 0
    )


def run(name, extra_vars, tmp_path, env=None, timeout=600, warns=()):
    """ansible-playbook playbooks/<name>.yml writing its report to tmp_path; returns (process, report).

    Ansible's warnings are on, as a user's terminal shows them, and the run may print only the warnings
    that contain one of warns: every playbook run of the strategy tests is checked to print no other."""
    report = tmp_path / f"report-{name}-{time.monotonic_ns()}"
    extra = dict(extra_vars, nodowntime_report_path=str(report))
    proc = run_playbook(playbook(name), extra, env={**ansiblecli.WARNINGS_ON, **(env or {})}, timeout=timeout)
    report.with_name(report.name + ".log").write_text(proc.stdout)  # kept for a failing test's reader
    unexpected = [w for w in ansiblecli.warnings(proc.stdout) if not any(text in w for text in warns)]
    assert unexpected == [], proc.stdout
    path = report.with_name(report.name + ".json")
    return proc, (json.loads(path.read_text()) if path.exists() else None)


def run_metered(kube, url, name, extra_vars, tmp_path, env=None, after=0.0, warns=()):
    """The playbook under 50 rps; returns (process, report, meter, seconds at which the run had settled)."""
    with Meter(url, rps=50, max_duration=300) as meter:
        proc, report = run(name, extra_vars, tmp_path, env=env, warns=warns)
        settled = kube.settle_after(meter, after)
    return proc, report, meter, settled


def image_of(kube, namespace, name):
    return kube.apps.read_namespaced_deployment(name, namespace).spec.template.spec.containers[0].image


def in_background(fn, *args, **kwargs):
    """Run fn in a thread; .join() returns its result."""
    box = {}
    thread = threading.Thread(target=lambda: box.update(result=fn(*args, **kwargs)), daemon=True)
    thread.start()

    class Handle:
        def join(self, timeout=None):
            thread.join(timeout)
            return box.get("result")

    return Handle()


def task_status(output, name):
    """How the first task whose name contains `name` ended in ansible-playbook's output: ok, changed, failed..."""
    found = re.search(r"TASK \[[^\n]*" + re.escape(name) + r"[^\n]*\n(\w+): ", output)
    return found and found.group(1)


def gate(url):
    return {"url": url, "success_condition": "error_rate < `0.01`", "count": 2, "interval": 0.5}


NEVER_READY_IMAGE = "localhost:5000/pause:3.10"  # runs no process: the readiness probe never passes
BAD_IMAGE = "registry.invalid/web:2"


def autoscaler(kube, namespace, target, low, high):
    """HPA web on Deployment target with a CPU metric: no metrics-server runs, so the controller only
    enforces minReplicas and maxReplicas (every 2 s: the local cluster's HPA sync period)."""
    metric = {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}
    body = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
            "minReplicas": low,
            "maxReplicas": high,
            "metrics": [{"type": "Resource", "resource": metric}],
        },
    }
    client.AutoscalingV2Api(kube.api).create_namespaced_horizontal_pod_autoscaler(namespace, body)


def read_autoscaler(kube, namespace):
    return client.AutoscalingV2Api(kube.api).read_namespaced_horizontal_pod_autoscaler("web", namespace)


def raise_min_once(kube, namespace, name, seen, low, timeout=120):
    """In the background: once Deployment name is watched with seen(deployment) true mid-release, HPA web's
    minReplicas goes to low.  .join() says whether it did."""

    def wait_then_raise():
        try:
            workloads.wait_for(
                kube.apps.list_namespaced_deployment, name, seen, timeout, f"{name} mid-release", namespace=namespace
            )
        except TimeoutError:
            return False
        client.AutoscalingV2Api(kube.api).patch_namespaced_horizontal_pod_autoscaler(
            "web", namespace, {"spec": {"minReplicas": low}}
        )
        return True

    return in_background(wait_then_raise)
