"""`up` starts every part, `down` stops exactly those and leaves nothing behind: no process (pods
included), mount, cgroup or network namespace.

A second cluster in its own state directory, beside the shared one: this also shows
that two clusters on one machine pick their own ports, namespaces and cgroups and don't collide.
"""

import glob
import json
import os
import subprocess
import sys

import pytest
import yaml

from localcluster import cluster, netns, procs, teardown


def _localcluster(state_dir, *args):
    env = dict(os.environ, NODOWNTIME_CLUSTER_DIR=state_dir)
    return subprocess.run(
        [sys.executable, "-m", "localcluster", *args], env=env, capture_output=True, text=True, timeout=240, check=False
    )


def _processes_with_marker(state_dir):
    marker = f"NODOWNTIME_CLUSTER_DIR={state_dir}".encode()
    found = []
    for environ in glob.glob("/proc/[0-9]*/environ"):
        try:
            with open(environ, "rb") as f:
                if marker in f.read().split(b"\0"):
                    found.append(int(environ.split("/")[2]))
        except OSError:
            pass
    return found


@pytest.mark.timeout(400)
def test_second_cluster_starts_serves_and_stops_without_leftovers(kube, tmp_path):
    state_dir = str(tmp_path / "cluster")
    up = _localcluster(state_dir, "up")
    try:
        assert up.returncode == 0, up.stderr
        assert f"export KUBECONFIG={state_dir}/kubeconfig" in up.stdout
        with open(os.path.join(state_dir, "cluster.json")) as f:
            info = json.load(f)
        assert info["ports"]["apiserver"] != kube.info["ports"]["apiserver"]
        (first, last), (shared_first, shared_last) = info["node_port_range"], kube.info["node_port_range"]
        assert last < shared_first or first > shared_last, "NodePort windows overlap"
        assert set(info["processes"]) == set(cluster.order(cluster.DEFAULT_SETTINGS))
        assert info["netns"] != kube.info["netns"] and netns.exists(info["netns"])
        with open(os.path.join(state_dir, "kubeconfig")) as f:
            assert yaml.safe_load(f)["clusters"][0]["cluster"]["server"] == info["server"]

        kubectl = [info["binary"], "kubectl", "--kubeconfig", os.path.join(state_dir, "kubeconfig")]
        subprocess.run(
            [*kubectl, "create", "deployment", "web", "--image=localhost:5000/nodowntime/demo-app:1", "--replicas=2"],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [*kubectl, "rollout", "status", "deployment/web", "--timeout=60s"], check=True, capture_output=True
        )
        cgroup_root = "/" + info["netns"]
        # Each pod: the sandbox's pause and the app, in the cluster's own cgroups.
        pod_pids = [pid for d in teardown.cgroup_dirs(cgroup_root) if "/memory/" in d for pid in _pids_below(d)]
        assert len(pod_pids) >= 4, pod_pids
        component_records = list(info["processes"].values())
    finally:
        down = _localcluster(state_dir, "down")
    assert down.returncode == 0, down.stderr
    assert f"stopped: {', '.join(reversed(cluster.order(cluster.DEFAULT_SETTINGS)))}" in down.stdout
    assert not [r for r in component_records if procs.alive(r)]
    assert not [pid for pid in pod_pids if os.path.exists(f"/proc/{pid}")]
    assert _processes_with_marker(state_dir) == []
    assert not netns.exists(info["netns"])
    assert teardown.cgroup_dirs(cgroup_root) == []
    assert teardown.mounts_below(state_dir) == []
    assert not os.path.exists(f"/run/{info['netns']}")


def _pids_below(cgroup_dir):
    pids = []
    for procs_file in glob.glob(os.path.join(cgroup_dir, "**", "cgroup.procs"), recursive=True):
        with open(procs_file) as f:
            pids += [int(line) for line in f if line.strip()]
    return pids


@pytest.mark.timeout(300)
def test_a_start_that_fails_at_its_last_step_leaves_nothing_behind(tmp_path):
    # kube-proxy refuses a negative minSyncPeriod: everything before it (the node with its cgroups, mounts
    # and namespace) is up when the start fails, and down must take all of it away.
    state_dir = str(tmp_path / "cluster")
    up = _localcluster(state_dir, "up", "--proxy-sync-delay", "-1")
    assert up.returncode != 0
    assert "kube-proxy exited during start-up" in up.stderr, up.stderr[-2000:]
    assert "kubelet healthy" in up.stderr
    name = netns.name_for(state_dir)
    assert not netns.exists(name)
    assert teardown.cgroup_dirs("/" + name) == []
    assert teardown.mounts_below(state_dir) == []
    assert not os.path.exists(f"/run/{name}")
    assert _processes_with_marker(state_dir) == []
    assert not os.path.exists(os.path.join(state_dir, "cluster.json"))
