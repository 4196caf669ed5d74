"""The cluster's settings: from the command line into cluster.json, and from there into each component's argv."""

import sys

import pytest
from clusterhelpers import CLUSTER_INFO

from localcluster import __main__ as cli
from localcluster import build, cluster

INFO = CLUSTER_INFO


def _argv(name, **settings):
    argv, _env = cluster.command(name, dict(INFO, settings=dict(cluster.DEFAULT_SETTINGS, **settings)))
    return argv


def test_each_setting_reaches_its_component():
    assert "--max-pods=2600" in _argv("hollow-node-1", hollow_pods=2600)
    cm = _argv("kube-controller-manager", controller_qps=150, controller_burst=300)
    assert {"--kube-api-qps=150", "--kube-api-burst=300"} <= set(cm)
    assert {"--kube-api-qps=80", "--kube-api-burst=160"} <= set(
        _argv("kube-scheduler", scheduler_qps=80, scheduler_burst=160)
    )


def test_a_record_from_before_a_setting_existed_gets_its_default():
    argv, _env = cluster.command("kube-scheduler", dict(INFO, settings={"proxy_sync_delay": 1.0}))
    assert f"--kube-api-qps={cluster.DEFAULT_SETTINGS['scheduler_qps']}" in argv


def test_the_command_line_names_only_the_settings_given(monkeypatch):
    seen = {}
    monkeypatch.setattr(cluster, "up", lambda components, settings: seen.update(settings=settings))
    monkeypatch.setattr(sys, "argv", ["localcluster", "up", "--hollow-pods", "2600", "--controller-qps", "100"])
    cli.main()
    assert seen["settings"] == {"hollow_pods": 2600, "controller_qps": 100.0}


def test_unknown_settings_are_refused_before_anything_starts():
    with pytest.raises(ValueError, match="unknown cluster settings: pods"):
        cluster.up(settings={"pods": 2600})


def test_the_kubernetes_version_is_a_setting_of_up(monkeypatch):
    seen = {}
    monkeypatch.setattr(cluster, "up", lambda components, settings: seen.update(settings=settings))
    monkeypatch.setattr(sys, "argv", ["localcluster", "up", "--kubernetes-version", "v1.34.4"])
    cli.main()
    assert seen["settings"] == {"kubernetes_version": "v1.34.4"}


def test_a_release_with_no_go_mod_is_refused_before_anything_starts():
    with pytest.raises(ValueError, match=r"kubernetes_version: 'v1\.30\.0' is not one of v1\.37\.2, v1\.34\.4"):
        cluster.up(settings={"kubernetes_version": "v1.30.0"})


def test_each_release_builds_from_its_own_go_mod_into_its_own_cache_directory():
    default = build.kubernetes_version()
    assert cluster.DEFAULT_SETTINGS["kubernetes_version"] == default == build.kubernetes_versions()[0]
    assert [build.modfile(v) for v in build.kubernetes_versions()] == ["go.mod", "kubernetes-v1.34.4.mod"]
    assert build.binary_path() == build.binary_path(default) != build.binary_path("v1.34.4")
