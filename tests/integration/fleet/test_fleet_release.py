"""playbooks/fleet_release.yml on three local clusters at once, waves [1, 1, 1], rolling_update.

A good release reaches every cluster wave by wave with 0 failed requests on each, and a re-run finds
them all at the version (resume); a release that never becomes ready fails on the first cluster,
which rolls itself back, and the fleet halts with the later clusters untouched."""

import json
import os
import subprocess

import pytest
from strategy_helpers import PROGRESS_DEADLINE, MetricsStub, container, gate, image, image_of

from localcluster import ansiblecli, workloads
from localcluster.meter import Meter

PLAYBOOK = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "playbooks", "fleet_release.yml"))
FAST = {
    "rolling_update_max_surge": 1,
    "rolling_update_max_unavailable": 0,
    "rolling_update_progress_deadline_seconds": PROGRESS_DEADLINE,
    "rolling_update_wait_timeout": 90,
    "fleet_waves": [1, 1, 1],
}


def _inventory(clusters, path):
    hosts = {f"c{n}": {"k8s_auth": {"kubeconfig": c.kubeconfig}} for n, c in enumerate(clusters, start=1)}
    path.write_text(json.dumps({"clusters": {"hosts": hosts}}))
    return str(path)


def _fleet_release(clusters, extra_vars, tmp_path, name):
    report = tmp_path / name
    inventory = _inventory(clusters, tmp_path / f"{name}-inventory.json")
    argv = ansiblecli.playbook_argv(
        PLAYBOOK, dict(FAST, fleet_report_path=str(report), **extra_vars), inventory=inventory
    )
    # The environment's kubeconfig leads nowhere, so only each host's k8s_auth reaches its cluster.
    env = ansiblecli.env("/nonexistent/kubeconfig", ansiblecli.WARNINGS_ON)
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)
    (tmp_path / f"{name}.log").write_text(proc.stdout + proc.stderr)
    return proc, json.loads((tmp_path / f"{name}.json").read_text())


def _web_on_each(clusters, namespace):
    urls = []
    for c in clusters:
        c.core.create_namespace({"metadata": {"name": namespace}})
        manifest = workloads.deployment("web", container("1"), replicas=2)
        urls.append(c.deploy(namespace, manifest, selector={"app": "web"}))
    return urls


def _rows(report):
    return [(r["cluster"], r["wave"], r["outcome"]) for r in report["clusters"]]


@pytest.mark.timeout(420)
def test_a_good_release_reaches_every_cluster_wave_by_wave_and_a_rerun_skips_them(fleet_clusters, tmp_path):
    urls = _web_on_each(fleet_clusters, "good")
    extra = {"app_name": "web", "app_namespace": "good", "images": {"app": image("2")}}

    meters = [Meter(url, rps=20, max_duration=300) for url in urls]
    for m in meters:
        m.start()
    try:
        proc, report = _fleet_release(fleet_clusters, extra, tmp_path, "good")
    finally:
        for m in meters:
            m.stop()

    assert proc.returncode == 0, proc.stdout
    assert ansiblecli.warnings(proc.stdout) == [], proc.stdout
    assert _rows(report) == [("c1", 1, "complete"), ("c2", 2, "complete"), ("c3", 3, "complete")]
    assert report["outcome"] == "complete" and not report["halted"] and report["failed_clusters"] == []
    for c, m in zip(fleet_clusters, meters, strict=True):
        s = m.summary
        assert s["sent"] > 50 and s["failed"] == 0, (c.dir, s["failed_by_kind"], s["failure_samples"])
        assert image_of(c, "good", "web") == image("2")
    rows = report["clusters"]
    assert rows[0]["finished"] <= rows[1]["started"] and rows[1]["finished"] <= rows[2]["started"], rows
    assert (tmp_path / "good.svg").read_text().startswith("<svg") and (tmp_path / "good.md").exists()
    print(f"\nfleet good release: {[(r['cluster'], r['duration_seconds']) for r in rows]}; picture {tmp_path}/good.svg")

    proc, report = _fleet_release(fleet_clusters, extra, tmp_path, "rerun")
    assert proc.returncode == 0, proc.stdout
    assert _rows(report) == [("c1", 1, "unchanged"), ("c2", 2, "unchanged"), ("c3", 3, "unchanged")]


@pytest.mark.timeout(420)
def test_a_bad_release_fails_on_the_first_cluster_rolls_it_back_and_halts(fleet_clusters, tmp_path):
    _web_on_each(fleet_clusters, "bad")
    never_ready = {"name": "app", "image": image("2"), "env": [{"name": "FAIL_READINESS", "value": "1"}]}
    # The image goes into the same container patch, as test_role_rolling_update.py does it.
    extra = {
        "app_name": "web",
        "app_namespace": "bad",
        "images": {},
        "rolling_update_template_patch": {"spec": {"containers": [never_ready]}},
    }

    proc, report = _fleet_release(fleet_clusters, extra, tmp_path, "bad")

    assert proc.returncode != 0
    assert _rows(report) == [("c1", 1, "rolled_back"), ("c2", 2, "not_run"), ("c3", 3, "not_run")], report
    assert report["halted"] and report["failed_clusters"] == ["c1"]
    assert report["clusters"][0]["rollback_cause"].startswith("ProgressDeadlineExceeded"), report
    assert image_of(fleet_clusters[0], "bad", "web") == image("1")
    for c in fleet_clusters[1:]:
        d = c.apps.read_namespaced_deployment("web", "bad")
        assert (d.metadata.generation, image_of(c, "bad", "web")) == (1, image("1"))


@pytest.mark.timeout(300)
def test_a_failed_analysis_after_the_bake_halts_the_fleet(fleet_clusters, tmp_path):
    _web_on_each(fleet_clusters, "gated")
    extra = {"app_name": "web", "app_namespace": "gated", "images": {"app": image("2")}, "fleet_bake_seconds": 1}

    with MetricsStub({"error_rate": 0.3}) as stub:
        proc, report = _fleet_release(fleet_clusters, dict(extra, fleet_analysis=gate(stub.url)), tmp_path, "gated")

    assert proc.returncode != 0
    assert _rows(report) == [("c1", 1, "failed"), ("c2", 2, "not_run"), ("c3", 3, "not_run")], report
    assert report["clusters"][0]["rollback_cause"].startswith("analysis after the wave: "), report
    # The cluster had released: it keeps the new version (rolling back finished clusters is not an option yet).
    assert image_of(fleet_clusters[0], "gated", "web") == image("2")
    assert [image_of(c, "gated", "web") for c in fleet_clusters[1:]] == [image("1")] * 2


@pytest.mark.timeout(300)
def test_a_wave_of_two_lets_both_releases_finish_before_it_halts(fleet_clusters, tmp_path):
    _web_on_each(fleet_clusters, "pair")
    # On c2 no pod beyond the two running may start: its rollout cannot surge, fails and rolls back.
    quota = {"metadata": {"name": "two-pods"}, "spec": {"hard": {"pods": "2"}}}
    fleet_clusters[1].core.create_namespaced_resource_quota("pair", quota)
    extra = {"app_name": "web", "app_namespace": "pair", "images": {"app": image("2")}, "fleet_waves": [2, 1]}

    proc, report = _fleet_release(fleet_clusters, extra, tmp_path, "pair")

    assert proc.returncode == 2, proc.stdout
    assert _rows(report) == [("c1", 1, "complete"), ("c2", 1, "rolled_back"), ("c3", 2, "not_run")], report
    assert report["halted"] and report["failed_clusters"] == ["c2"]
    # c1 finished its own release although c2 failed beside it; c3 was never touched.
    assert [image_of(c, "pair", "web") for c in fleet_clusters] == [image("2"), image("1"), image("1")]
    assert fleet_clusters[2].apps.read_namespaced_deployment("web", "pair").metadata.generation == 1
