"""playbooks/fleet_release.yml on three local clusters at once (conftest.py: the session's cluster at
v1.37.2, a private one at v1.34.4, another at v1.37.2), waves [1, 1, 1], rolling_update.

A good release, run through ansible-runner as AWX runs a job, reaches every cluster wave by wave with
0 failed requests on each, and its artifacts carry the fleet report; a re-run finds them all at the
version (resume); a release that never becomes ready fails on the first cluster, which rolls itself
back, and the fleet halts with the later clusters untouched; with fleet_rollback_wave_on_halt a halted
wave's released cluster is rolled back too.  blue_green and canary release on the v1.34.4 cluster."""

import json
import os
import subprocess

import ansible_runner
import pytest
from kubernetes import client
from strategy_helpers import PROGRESS_DEADLINE, container, gate, image, image_of

from localcluster import ansiblecli, build, workloads
from localcluster.meter import Meter
from localcluster.metrics_stub import MetricsStub

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PLAYBOOK = os.path.join(REPO, "playbooks", "fleet_release.yml")
FAST = {
    "rolling_update_max_surge": 1,
    "rolling_update_max_unavailable": 0,
    "rolling_update_progress_deadline_seconds": PROGRESS_DEADLINE,
    "rolling_update_wait_timeout": 90,
    "fleet_waves": [1, 1, 1],
}


def _hosts(clusters):
    return {f"c{n}": {"k8s_auth": {"kubeconfig": c.kubeconfig}} for n, c in enumerate(clusters, start=1)}


def _inventory(clusters, path):
    path.write_text(json.dumps({"clusters": {"hosts": _hosts(clusters)}}))
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


def _awx_job(clusters, extra_vars, tmp_path, name):
    """The fleet playbook as AWX runs a job: ansible-runner on a private data directory with inventory/,
    env/extravars, env/envvars and project/ (a project playbook importing the collection's); the runner's
    result, the set_stats artifacts of its last playbook_on_stats event, and the report written."""
    private = tmp_path / name
    for sub in ("inventory", "env", "project"):
        (private / sub).mkdir(parents=True)
    (private / "inventory" / "hosts.json").write_text(json.dumps({"clusters": {"hosts": _hosts(clusters)}}))
    extra = dict(FAST, fleet_report_path=str(tmp_path / name / "fleet"), **extra_vars)
    (private / "env" / "extravars").write_text(json.dumps(extra))
    # The runner finds ansible-playbook on PATH, as in AWX's execution environment: ours first.
    path = f"{ansiblecli.BIN}:{os.environ['PATH']}"
    envvars = {
        "K8S_AUTH_KUBECONFIG": "/nonexistent/kubeconfig",
        "PATH": path,
        **ansiblecli.QUIET,
        **ansiblecli.WARNINGS_ON,
    }
    (private / "env" / "envvars").write_text(json.dumps(envvars))
    (private / "project" / "fleet.yml").write_text("- ansible.builtin.import_playbook: nodowntime.k8s.fleet_release\n")
    # Where AWX installs a project's collections/requirements.yml: beside the playbook, found by ansible-core.
    (private / "project" / "collections" / "ansible_collections" / "nodowntime").mkdir(parents=True)
    (private / "project" / "collections" / "ansible_collections" / "nodowntime" / "k8s").symlink_to(REPO)
    run = ansible_runner.run(
        private_data_dir=str(private),
        playbook="fleet.yml",
        ident="job",
        quiet=True,
        timeout=600,
    )
    stats = [e for e in run.events if e["event"] == "playbook_on_stats"]
    artifacts = stats[-1]["event_data"].get("artifact_data", {}) if stats else {}
    return run, artifacts, json.loads((private / "fleet.json").read_text())


def _web_on_each(clusters, namespace):
    urls = []
    for c in clusters:
        manifest = workloads.deployment("web", container("1"), replicas=2)
        urls.append(c.deploy(namespace, manifest, selector={"app": "web"}))
    return urls


def _rows(report):
    return [(r["cluster"], r["wave"], r["outcome"]) for r in report["clusters"]]


def _versions(clusters):
    """Each cluster's kube-apiserver and kubelet releases."""
    return [
        (client.VersionApi(c.api).get_code().git_version, c.core.list_node().items[0].status.node_info.kubelet_version)
        for c in clusters
    ]


def _recorded(clusters):
    """The release each cluster was started at (its kubernetes_version setting), as (apiserver, kubelet)."""
    return [(c.info["settings"]["kubernetes_version"],) * 2 for c in clusters]


@pytest.mark.timeout(420)
def test_a_good_release_reaches_every_cluster_wave_by_wave_and_a_rerun_skips_them(
    fleet_clusters, fleet_namespace, tmp_path
):
    # Every release the collection supports runs in the fleet: the oldest (v1.34.x) and the newest.
    assert _versions(fleet_clusters) == _recorded(fleet_clusters)
    assert {apiserver for apiserver, _kubelet in _recorded(fleet_clusters)} == set(build.kubernetes_versions())
    urls = _web_on_each(fleet_clusters, fleet_namespace)
    extra = {"app_name": "web", "app_namespace": fleet_namespace, "images": {"app": image("2")}}

    meters = [Meter(url, rps=20, max_duration=300) for url in urls]
    for m in meters:
        m.start()
    try:
        run, artifacts, report = _awx_job(fleet_clusters, extra, tmp_path, "good")
    finally:
        for m in meters:
            m.stop()

    stdout = run.stdout.read()
    assert (run.rc, run.status) == (0, "successful"), stdout
    assert ansiblecli.warnings(stdout) == [], stdout
    # What AWX shows on the job and hands to the next workflow node: the report the last wave wrote.
    assert artifacts["nodowntime_fleet_report"] == report
    assert _rows(report) == [("c1", 1, "complete"), ("c2", 2, "complete"), ("c3", 3, "complete")]
    assert report["outcome"] == "complete" and not report["halted"] and report["failed_clusters"] == []
    for c, m in zip(fleet_clusters, meters, strict=True):
        s = m.summary
        assert s["sent"] > 50 and s["failed"] == 0, (c.dir, s["failed_by_kind"], s["failure_samples"])
        assert image_of(c, fleet_namespace, "web") == image("2")
    rows = report["clusters"]
    assert rows[0]["finished"] <= rows[1]["started"] and rows[1]["finished"] <= rows[2]["started"], rows
    assert (tmp_path / "good" / "fleet.svg").read_text().startswith("<svg")
    assert "| c2 | 2 | complete |" in (tmp_path / "good" / "fleet.md").read_text()
    durations = [(r["cluster"], r["duration_seconds"]) for r in rows]
    print(f"\nfleet good release: {durations}; picture {tmp_path}/good/fleet.svg")

    proc, report = _fleet_release(fleet_clusters, extra, tmp_path, "rerun")
    assert proc.returncode == 0, proc.stdout
    assert _rows(report) == [("c1", 1, "unchanged"), ("c2", 2, "unchanged"), ("c3", 3, "unchanged")]


@pytest.mark.timeout(420)
def test_a_bad_release_fails_on_the_first_cluster_rolls_it_back_and_halts(fleet_clusters, fleet_namespace, tmp_path):
    _web_on_each(fleet_clusters, fleet_namespace)
    never_ready = {"name": "app", "image": image("2"), "env": [{"name": "FAIL_READINESS", "value": "1"}]}
    # The image goes into the same container patch, as test_role_rolling_update.py does it.
    extra = {
        "app_name": "web",
        "app_namespace": fleet_namespace,
        "images": {},
        "rolling_update_template_patch": {"spec": {"containers": [never_ready]}},
    }

    proc, report = _fleet_release(fleet_clusters, extra, tmp_path, "bad")

    assert proc.returncode != 0
    assert _rows(report) == [("c1", 1, "rolled_back"), ("c2", 2, "not_run"), ("c3", 3, "not_run")], report
    assert report["halted"] and report["failed_clusters"] == ["c1"]
    assert report["clusters"][0]["rollback_cause"].startswith("ProgressDeadlineExceeded"), report
    assert image_of(fleet_clusters[0], fleet_namespace, "web") == image("1")
    for c in fleet_clusters[1:]:
        d = c.apps.read_namespaced_deployment("web", fleet_namespace)
        assert (d.metadata.generation, image_of(c, fleet_namespace, "web")) == (1, image("1"))


@pytest.mark.timeout(300)
def test_a_failed_analysis_after_the_bake_halts_the_fleet(fleet_clusters, fleet_namespace, tmp_path):
    _web_on_each(fleet_clusters, fleet_namespace)
    extra = {
        "app_name": "web",
        "app_namespace": fleet_namespace,
        "images": {"app": image("2")},
        "fleet_bake_seconds": 1,
    }

    with MetricsStub({"error_rate": 0.3}) as stub:
        proc, report = _fleet_release(fleet_clusters, dict(extra, fleet_analysis=gate(stub.url)), tmp_path, "gated")

    assert proc.returncode != 0
    assert _rows(report) == [("c1", 1, "failed"), ("c2", 2, "not_run"), ("c3", 3, "not_run")], report
    assert report["clusters"][0]["rollback_cause"].startswith("analysis after the wave: "), report
    # The cluster had released: without fleet_rollback_wave_on_halt it keeps the new version.
    assert image_of(fleet_clusters[0], fleet_namespace, "web") == image("2")
    assert [image_of(c, fleet_namespace, "web") for c in fleet_clusters[1:]] == [image("1")] * 2


@pytest.mark.timeout(300)
def test_a_wave_of_two_lets_both_releases_finish_then_rolls_back_the_released_one(
    fleet_clusters, fleet_namespace, tmp_path
):
    _web_on_each(fleet_clusters, fleet_namespace)
    # On c2 no pod beyond the two running may start: its rollout cannot surge, fails and rolls back.
    quota = {"metadata": {"name": "two-pods"}, "spec": {"hard": {"pods": "2"}}}
    fleet_clusters[1].core.create_namespaced_resource_quota(fleet_namespace, quota)
    extra = {
        "app_name": "web",
        "app_namespace": fleet_namespace,
        "images": {"app": image("2")},
        "fleet_waves": [2, 1],
        "fleet_rollback_wave_on_halt": True,
    }

    proc, report = _fleet_release(fleet_clusters, extra, tmp_path, "pair")

    assert proc.returncode == 2, proc.stdout
    assert _rows(report) == [("c1", 1, "rolled_back"), ("c2", 1, "rolled_back"), ("c3", 2, "not_run")], report
    assert report["halted"] and report["failed_clusters"] == ["c2"] and report["rolled_back_by_fleet"] == ["c1"]
    # c1 finished its own release although c2 failed beside it, then the fleet rolled it back, saying why.
    first = report["clusters"][0]
    assert first["rollback_cause"] == "the fleet halted after wave 1, where c2 failed", first
    assert first["fleet_rollback"] == {"reason": first["rollback_cause"], "error": None}, first
    assert "rolled back by the fleet: c1" in (tmp_path / "pair.md").read_text()
    assert [image_of(c, fleet_namespace, "web") for c in fleet_clusters] == [image("1")] * 3
    assert fleet_clusters[2].apps.read_namespaced_deployment("web", fleet_namespace).metadata.generation == 1


@pytest.mark.timeout(300)
def test_blue_green_and_canary_release_on_the_oldest_kubernetes(fleet_clusters, fleet_namespace, tmp_path):
    # The cluster at the oldest supported release only (fleet_hosts), side by side: two applications.
    oldest = min(fleet_clusters, key=lambda c: tuple(map(int, c.info["settings"]["kubernetes_version"][1:].split("."))))
    host = f"c{fleet_clusters.index(oldest) + 1}"
    blue = workloads.deployment("web-blue", container("1"), replicas=2, labels={"app": "web", "slot": "blue"})
    stable = workloads.deployment("api", container("1"), replicas=2, labels={"app": "api", "track": "stable"})
    urls = [
        oldest.deploy(fleet_namespace, blue, selector={"app": "web", "slot": "blue"}, service="web-blue"),
        oldest.deploy(fleet_namespace, stable, selector={"app": "api"}, service="api"),
    ]
    common = {"app_namespace": fleet_namespace, "images": {"app": image("2")}, "fleet_hosts": host}
    releases = {
        "blue_green": dict(
            common,
            app_name="web",
            service="web-blue",
            fleet_strategy="blue_green",
            blue_green_progress_deadline_seconds=PROGRESS_DEADLINE,
            blue_green_scale_down_delay_seconds=2,
        ),
        "canary": dict(common, app_name="api", fleet_strategy="canary", canary_steps=[{"weight": 50}]),
    }

    with Meter(urls[0], rps=20, max_duration=300) as web, Meter(urls[1], rps=20, max_duration=300) as api:
        results = {name: _fleet_release(fleet_clusters, extra, tmp_path, name) for name, extra in releases.items()}

    for name, (proc, report) in results.items():
        assert proc.returncode == 0, proc.stdout
        assert [(r["cluster"], r["strategy"], r["outcome"]) for r in report["clusters"]] == [(host, name, "complete")]
    for m in (web, api):
        assert m.summary["sent"] > 50 and m.summary["failed"] == 0, (
            m.summary["failed_by_kind"],
            m.summary["failure_samples"],
        )
    assert image_of(oldest, fleet_namespace, "web-green") == image("2")
    assert image_of(oldest, fleet_namespace, "api") == image("2")
