"""(7) Fleet cost per cluster: what one run of playbooks/fleet_release.yml costs the controller per cluster.

For each fleet size (3 clusters and up) the fleet releases a Deployment of 0 replicas from v1 to v2 on
every cluster in one wave ("100%", with as many forks as clusters: all side by side, as AWX would with
forks >= the wave), and the harness measures the run's wall time, its CPU time (ansible-playbook, its
forks and every module process, from the children's rusage), and its peak memory (the summed PSS of
the ansible-playbook process tree, sampled every SAMPLE_S: pages a fork shares with its parent count
once).  Divided by the clusters: the per-cluster cost.  The clusters' own control planes are measured
apart (their PSS): what holding one costs.

The clusters are control-plane-only: `localcluster up --only` with etcd, kube-apiserver,
kube-controller-manager and kube-scheduler (and the host ports), no node: the Deployment's 0 replicas
need none, and the rollout still goes through the controller (new ReplicaSet, observed generation,
complete), so every module task of a real release runs.  Starting one takes ~15-20 s, where a real
node would add containerd, the kubelet and kube-proxy.  Each size adds clusters to the ones already
up, so N clusters are started once for the whole section.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import stats
from kubernetes import client, config

from localcluster import ansiblecli, cluster, paths, procs, workloads

PLAYBOOK = os.path.join(paths.REPO_ROOT, "playbooks", "fleet_release.yml")
ONLY = ",".join(("hostports", *cluster.CONTROL_PLANE))
SAMPLE_S = 0.2


def measure(sizes=(3, 4, 5), reps=1, log=print):
    workdir = tempfile.mkdtemp(prefix="bench-fleet-")
    clusters, out = [], {"sizes": {}, "cluster": {"components": ONLY.split(",")}}
    try:
        for size in sorted(sizes):
            new = [_Cluster(os.path.join(workdir, f"c{n}")) for n in range(len(clusters) + 1, size + 1)]
            started = time.monotonic()
            _each(new, "up")
            if new:
                log(f"fleet: started {len(new)} control-plane-only cluster(s) in {time.monotonic() - started:.0f} s")
            clusters += new
            out["sizes"][str(size)] = _fleet_runs(clusters, reps, workdir, log)
        out["cluster"]["pss_mb"] = stats.summary([c.pss_mb() for c in clusters], "MB")
    finally:
        _each(clusters, "down")
    return out


def _fleet_runs(clusters, reps, workdir, log):
    namespace = f"bench-fleet-{uuid.uuid4().hex[:5]}"
    for c in clusters:
        c.core.create_namespace({"metadata": {"name": namespace, "labels": {"nodowntime-bench": "true"}}})
        c.apps.create_namespaced_deployment(
            namespace, workloads.deployment("web", workloads.demo_container("1"), replicas=0)
        )
    hosts = {f"c{n}": {"k8s_auth": {"kubeconfig": c.kubeconfig}} for n, c in enumerate(clusters, start=1)}
    inventory = os.path.join(workdir, f"inventory-{len(clusters)}.json")
    with open(inventory, "w") as f:
        json.dump({"clusters": {"hosts": hosts}}, f)
    samples = []
    for rep in range(reps):
        version = str(2 + rep)  # a new version every run, so each is a release
        extra = {
            "app_name": "web",
            "app_namespace": namespace,
            "images": {"app": f"{workloads.DEMO_IMAGE}:{version}"},
            "fleet_waves": ["100%"],
            "rolling_update_wait_timeout": 120,
            "fleet_report_path": os.path.join(workdir, f"fleet-{len(clusters)}-{rep}"),
        }
        sample = _run(ansiblecli.playbook_argv(PLAYBOOK, extra, inventory=inventory), len(clusters))
        with open(extra["fleet_report_path"] + ".json") as f:
            report = json.load(f)
        sample["outcomes"] = report["counts"]
        if report["outcome"] != "complete":
            raise RuntimeError(f"fleet of {len(clusters)}: {report['outcome']}, {report['counts']}")
        log(
            f"fleet of {len(clusters)}: {sample['wall_s']:.1f} s, {sample['cpu_s']:.1f} CPU s, "
            f"peak {sample['peak_pss_mb']:.0f} MB"
        )
        samples.append(sample)
    n = len(clusters)
    return {
        "clusters": n,
        "wall_s": stats.summary([s["wall_s"] for s in samples], "s"),
        "cpu_s": stats.summary([s["cpu_s"] for s in samples], "s"),
        "peak_pss_mb": stats.summary([s["peak_pss_mb"] for s in samples], "MB"),
        "per_cluster": {
            "wall_s": stats.summary([s["wall_s"] / n for s in samples], "s"),
            "cpu_s": stats.summary([s["cpu_s"] / n for s in samples], "s"),
            "peak_pss_mb": stats.summary([s["peak_pss_mb"] / n for s in samples], "MB"),
        },
        "outcomes": samples[-1]["outcomes"],
    }


def _run(argv, forks):
    """The playbook with forks forks; wall time, CPU time of the whole tree, and its peak summed RSS."""
    env = ansiblecli.env("/nonexistent/kubeconfig", {"ANSIBLE_FORKS": str(forks)})
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = [0]

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_pss(proc.pid))
            time.sleep(SAMPLE_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = proc.communicate(timeout=900)[0]
    wall = time.monotonic() - started
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"fleet run failed (exit {proc.returncode}):\n{output[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_pss_mb": round(peak[0] / 1e6, 1)}


def tree_pss(root):
    """Bytes of memory of root and all its descendants (summed PSS, so shared pages count once), from /proc."""
    stat = {int(entry): procs.stat_fields(entry) for entry in os.listdir("/proc") if entry.isdigit()}
    parents = {pid: int(fields[1]) for pid, fields in stat.items() if fields}  # field 4, ppid
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo += [child for child, parent in parents.items() if parent == pid and child not in tree]
    return sum(_pss(pid) for pid in tree)


def _pss(pid):
    """Bytes of pid's proportional set size: its share of pages it shares (forks, one multi-call binary)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("Pss:"))
    except (OSError, StopIteration, IndexError, ValueError):
        return 0


class _Cluster:
    """A control-plane-only cluster in a state directory of its own (`localcluster up --only`)."""

    def __init__(self, state_dir):
        self.dir = state_dir
        self.kubeconfig = os.path.join(state_dir, "kubeconfig")

    def _cli(self, *args):
        env = dict(os.environ, NODOWNTIME_CLUSTER_DIR=self.dir)
        argv = [sys.executable, "-m", "localcluster", *args]
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"localcluster {' '.join(args)} in {self.dir}: {proc.stderr[-2000:]}")

    def up(self):
        # No Service here: a small NodePort window leaves the machine's range to other clusters.
        self._cli("up", "--only", ONLY, "--node-ports", "10")
        api = config.new_client_from_config(self.kubeconfig)
        self.core, self.apps = client.CoreV1Api(api), client.AppsV1Api(api)

    def down(self):
        self._cli("down")

    def pss_mb(self):
        """The control plane's memory (PSS): its recorded processes (etcd, kube-apiserver, ...)."""
        with open(os.path.join(self.dir, "cluster.json")) as f:
            processes = json.load(f)["processes"]
        return round(sum(_pss(p["pid"]) for p in processes.values()) / 1e6, 1)


def _each(clusters, method):
    """method on every cluster at once; every call finishes before the first error is raised."""
    with ThreadPoolExecutor(max_workers=max(len(clusters), 1)) as pool:
        futures = [pool.submit(getattr(c, method)) for c in clusters]
    for f in futures:
        f.result()
