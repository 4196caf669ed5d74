"""playbooks/fleet_release.yml with no cluster at all: every API server refuses, so each cluster reached
fails at its first module task; the waves, the halt, --limit and the report show without a cluster.
The releases themselves, on three clusters, are tests/integration/fleet/test_fleet_release.py."""

import json
import os
import subprocess

import pytest

from localcluster import ansiblecli

PLAYBOOK = os.path.join(os.path.dirname(__file__), "..", "..", "..", "playbooks", "fleet_release.yml")
DEAD = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "dead", "cluster": {"server": "https://127.0.0.1:1", "insecure-skip-tls-verify": True}}],
    "users": [{"name": "u", "user": {"token": "x"}}],
    "contexts": [{"name": "dead", "context": {"cluster": "dead", "user": "u"}}],
    "current-context": "dead",
}
APP = {"app_name": "web", "app_namespace": "shop", "images": {"app": "registry.example.com/shop:2"}}


def _run(tmp_path, limit=None, **extra):
    (tmp_path / "dead.kubeconfig").write_text(json.dumps(DEAD))
    hosts = {f"c{n}": {"k8s_auth": {"kubeconfig": str(tmp_path / "dead.kubeconfig")}} for n in range(1, 5)}
    (tmp_path / "inventory.json").write_text(json.dumps({"clusters": {"hosts": hosts}}))
    extra_vars = dict(APP, fleet_report_path=str(tmp_path / "fleet"), **extra)
    argv = ansiblecli.playbook_argv(PLAYBOOK, extra_vars, inventory=str(tmp_path / "inventory.json"))
    argv += ["--limit", limit] if limit else []
    env = ansiblecli.env("/nonexistent", ansiblecli.WARNINGS_ON)
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
    report = json.loads((tmp_path / "fleet.json").read_text())
    return proc, report, [(r["cluster"], r["wave"], r["outcome"]) for r in report["clusters"]]


@pytest.mark.parametrize(
    "limit, extra, rows",
    [
        pytest.param(
            None,
            {},
            # [1, "10%", "100%"] of 4: 10% of 4 is 0.4 clusters, which ansible-core makes 1.
            [("c1", 1, "unreachable"), ("c2", 2, "not_run"), ("c3", 3, "not_run"), ("c4", 3, "not_run")],
            id="default-waves-halt-after-the-first-cluster",
        ),
        pytest.param(
            "c3,c4",
            {"fleet_waves": [1]},
            [("c3", 1, "unreachable"), ("c4", 2, "not_run")],
            id="limit-makes-the-waves-of-the-clusters-left",
        ),
        # A whole wave failed: ansible-core ends the play whatever max_fail_percentage allows.
        pytest.param(
            None,
            {"fleet_waves": [2], "fleet_max_fail_percentage": 100},
            [("c1", 1, "unreachable"), ("c2", 1, "unreachable"), ("c3", 2, "not_run"), ("c4", 2, "not_run")],
            id="a-wave-all-failed-halts-even-at-100-percent",
        ),
    ],
)
def test_a_fleet_of_refusing_clusters_halts_after_its_first_wave(tmp_path, limit, extra, rows):
    proc, report, listed = _run(tmp_path, limit, **extra)
    assert proc.returncode == 2, proc.stdout
    assert ansiblecli.warnings(proc.stdout) == [], proc.stdout
    assert listed == rows
    assert report["halted"] and report["failed_clusters"] == [row[0] for row in rows if row[2] == "unreachable"]
    assert report["clusters"][0]["rollback_cause"].startswith("Unreachable: cannot reach the API server"), report
    assert (tmp_path / "fleet.md").exists() and (tmp_path / "fleet.svg").exists()


def test_an_unknown_strategy_fails_every_cluster_of_the_wave_naming_the_variable(tmp_path):
    proc, report, listed = _run(tmp_path, fleet_strategy="bluegreen", fleet_waves=[1])
    assert proc.returncode == 2 and listed[0] == ("c1", 1, "failed")
    assert "fleet_strategy: 'bluegreen' is not one of rolling_update" in report["clusters"][0]["rollback_cause"]


def test_rolling_back_a_halted_wave_of_canaries_fails_before_any_change_naming_the_variable(tmp_path):
    proc, report, listed = _run(tmp_path, fleet_strategy="canary", fleet_rollback_wave_on_halt=True, fleet_waves=[1])
    assert proc.returncode == 2 and listed[0] == ("c1", 1, "failed")
    assert (
        "fleet_rollback_wave_on_halt: rolls back rolling_update releases only"
        in report["clusters"][0]["rollback_cause"]
    )


def test_a_halted_wave_of_refusing_clusters_has_nothing_released_to_roll_back(tmp_path):
    proc, report, listed = _run(tmp_path, fleet_rollback_wave_on_halt=True, fleet_waves=[2])
    assert proc.returncode == 2, proc.stdout
    assert ansiblecli.warnings(proc.stdout) == [], proc.stdout
    assert listed[:2] == [("c1", 1, "unreachable"), ("c2", 1, "unreachable")]
    assert (report["roll_back"], report["rolled_back_by_fleet"]) == ({}, [])
