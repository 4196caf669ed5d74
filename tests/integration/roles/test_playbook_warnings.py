"""Each of the six playbooks, run as a user runs it with its extra vars, prints no warning and no deprecation.

Ansible's warnings are on here (the other tests turn some off to keep their output plain). The
playbooks' parsing is checked without a cluster by tests/unit/playbooks/test_playbook_warnings.py."""

import os

import pytest
from strategy_helpers import PLAYBOOKS, container, image, image_of, run

from localcluster import ansiblecli, workloads

# The playbooks the tests below run; a new playbook fails test_every_playbook_is_run_here until it is added.
RUN_HERE = {"rolling_update", "rollback", "blue_green", "canary", "promote", "abort"}
# Playbooks that need more than the shared cluster, checked for warnings by their own tests.
RUN_ELSEWHERE = {"fleet_release"}  # tests/integration/fleet/test_fleet_release.py, on three clusters


def _run(name, extra_vars, tmp_path):
    proc, report = run(name, extra_vars, tmp_path, env=ansiblecli.WARNINGS_ON)
    assert proc.returncode == 0, proc.stdout
    assert ansiblecli.warnings(proc.stdout) == [], proc.stdout
    return report


def _app(namespace, **more):
    return dict({"app_name": "web", "app_namespace": namespace}, **more)


@pytest.mark.timeout(300)
def test_rolling_update_and_rollback_warn_nothing(kube, namespace, deploy, tmp_path):
    deploy(workloads.deployment("web", container("1"), replicas=2), service=False)
    _run("rolling_update", _app(namespace, images={"app": image("2")}), tmp_path)
    report = _run("rollback", _app(namespace), tmp_path)
    assert report["outcome"] == "rolled_back" and image_of(kube, namespace, "web") == image("1")


@pytest.mark.timeout(300)
def test_blue_green_warns_nothing(kube, namespace, deploy, tmp_path):
    deploy(workloads.deployment("web-blue", container("1"), replicas=2, labels={"app": "web", "slot": "blue"}))
    extra = _app(namespace, service="web-blue", images={"app": image("2")}, blue_green_scale_down_delay_seconds=1)
    assert _run("blue_green", extra, tmp_path)["outcome"] == "complete"


@pytest.mark.timeout(420)
def test_canary_promote_and_abort_warn_nothing(kube, namespace, deploy, tmp_path):
    labels = {"app": "web", "track": "stable"}
    deploy(workloads.deployment("web", container("1"), replicas=2, labels=labels), service=False)
    kube.core.create_namespaced_service(namespace, workloads.node_port_service("web", {"app": "web"}))
    steps = [{"weight": 50}, {"pause": "manual"}]
    for version, ending, outcome in (("2", "promote", "complete"), ("3", "abort", "aborted")):
        paused = _run("canary", _app(namespace, images={"app": image(version)}, canary_steps=steps), tmp_path)
        assert paused["outcome"] == "paused"
        assert _run(ending, _app(namespace, canary_version=image(version)), tmp_path)["outcome"] == outcome
    assert image_of(kube, namespace, "web") == image("2")


def test_every_playbook_is_run_here():
    assert {f[: -len(".yml")] for f in os.listdir(PLAYBOOKS) if f.endswith(".yml")} == RUN_HERE | RUN_ELSEWHERE
