"""The benchmark harness (make bench) in miniature, so it cannot rot: one tiny run of each measurement.

Each test runs tests/bench/run.py --smoke --only NAME and checks the shape of results.json and the table;
the figures themselves are not judged here (see make bench). Like make bench, it runs on a cluster with
kubemark's hollow node beside the real node (the bench's pause images take any tag there, and its scale
needs more pods than a real node holds), started here in a state directory of its own.
"""

import json
import os
import subprocess
import sys

import pytest

from localcluster import paths

RUN = os.path.join(paths.REPO_ROOT, "tests", "bench", "run.py")


def _figure(fig):
    assert set(fig) >= {"median", "min", "max", "n", "values", "unit"}, fig
    assert fig["n"] >= 1 and fig["min"] <= fig["median"] <= fig["max"], fig


@pytest.fixture(scope="module")
def bench_cluster(tmp_path_factory):
    """The environment of a cluster with a hollow node, up for this module."""
    state_dir = str(tmp_path_factory.mktemp("bench-cluster"))
    env = dict(os.environ, NODOWNTIME_CLUSTER_DIR=state_dir, KUBECONFIG=os.path.join(state_dir, "kubeconfig"))

    def localcluster(*args):
        proc = subprocess.run(
            [sys.executable, "-m", "localcluster", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]

    localcluster("up", "--hollow-pods", "50")
    try:
        yield env
    finally:
        localcluster("down")


def _run(env, tmp_path, name):
    proc = subprocess.run(
        [sys.executable, RUN, "--smoke", "--only", name, "--out", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    results = json.loads((tmp_path / "results.json").read_text())
    table = (tmp_path / "results.md").read_text()
    assert results["meta"]["profile"] == "smoke" and table in proc.stdout
    assert "error" not in results[name], results[name]
    assert results[name]["duration_s"] > 0 and "s; load average" in table
    assert f"{name} on the {results['meta']['nodes'][name]} node" in table
    return results[name], table


@pytest.mark.timeout(300)
def test_latency(bench_cluster, tmp_path):
    r, table = _run(bench_cluster, tmp_path, "latency")
    assert set(r["tools"]) == {"ours", "kubernetes.core", "kubectl"}
    for fig in r["tools"].values():
        _figure(fig["latency"])
    assert set(r["ratios"]) == {"kubernetes.core/ours", "kubectl/ours"} and "met" in r["goal"]
    assert "| kubernetes.core |" in table


@pytest.mark.timeout(300)
def test_apiload(bench_cluster, tmp_path):
    r, table = _run(bench_cluster, tmp_path, "apiload")
    for tool in ("ours", "kubernetes.core", "kubectl"):
        _figure(r["tool_requests"][tool])
        # Each identity's schemas add up to its total, and every tool at least patched the Deployment.
        by = r["by_request"][tool]
        assert sum(f["values"][0] for f in by.values()) == r["tool_requests"][tool]["values"][0], by
        assert by["patch deployments"]["values"] == [1], by
    assert set(r["ratios"]) == {"kubernetes.core/ours", "kubectl/ours"} and "met" in r["goal"]
    assert "| kubectl |" in table


@pytest.mark.timeout(300)
@pytest.mark.parametrize(("section", "node"), [("overhead", "hollow"), ("overhead_real", "real")])
def test_overhead(bench_cluster, tmp_path, section, node):
    r, table = _run(bench_cluster, tmp_path, section)
    for key in ("wall", "inherent", "overhead", "before", "after"):
        _figure(r[key])
    assert r["overhead"]["median"] > 0 and r["workload"]["node"] == node
    assert "Goal overhead ≤ 1.0 s median" in table


@pytest.mark.timeout(300)
def test_scale(bench_cluster, tmp_path):
    r, _table = _run(bench_cluster, tmp_path, "scale")
    (size,) = r["sizes"].values()
    for key in ("wall", "inherent", "latency", "module_rss_mb", "module_cpu"):
        _figure(size["rollout"][key])
    assert 10 < size["rollout"]["module_rss_mb"]["median"] < 1000
    _figure(size["bluegreen"]["switch_seconds"])
    _figure(size["bluegreen"]["observer_switch_seconds"])
    _figure(size["canary"]["module_wall"])
    assert set(size["throttling"]) == {"kube-controller-manager", "kube-scheduler"}
    assert r["goal"]["bluegreen_largest_size"] == size["replicas"]
    settings = r["settings"]
    assert settings["controller_qps"] > 0 and settings["hollow_pods"] == settings["hollow_capacity"] == 50


@pytest.mark.timeout(300)
def test_rollback(bench_cluster, tmp_path):
    r, _table = _run(bench_cluster, tmp_path, "rollback")
    assert set(r["strategies"]) == {"blue/green", "rolling", "canary"}
    for s in r["strategies"].values():
        _figure(s["to_all_old"])
        assert s["never_settled"] == 0


@pytest.mark.timeout(300)
def test_podstart(bench_cluster, tmp_path):
    r, table = _run(bench_cluster, tmp_path, "podstart")
    assert r["pods"] == 2
    for fig in r["steps"].values():
        _figure(fig)
    # Each step is a span of one pod's own life, so the steps add up to the whole.
    parts = ("created_to_scheduled", "scheduled_to_started", "started_to_ready")
    assert abs(sum(r["steps"][k]["values"][0] for k in parts) - r["steps"]["created_to_ready"]["values"][0]) < 0.01
    assert "6. Pod start on the real node" in table


@pytest.mark.timeout(300)
def test_failure(bench_cluster, tmp_path):
    r, table = _run(bench_cluster, tmp_path, "failure")
    assert set(r["cases"]) == {"rolling, crash loop", "canary, analysis", "blue/green, analysis"}
    for case in r["cases"].values():
        for key in ("first_change", "task_reacts", "all_old"):
            _figure(case[key])
        assert case["outcomes"] == ["rolled_back"] and case["failed_requests"] == 0
    assert "5b. Automatic failure path" in table
