"""(3) Overhead: wall time of a rolling update through the rolling_update role, minus the controller's own time.

Each sample is `ansible-playbook playbooks/rolling_update.yml` (the role as users run it: lock,
report, version read, rollout) rolling a Deployment of `replicas` pause pods to a new image with
the role's defaults (maxSurge 25%, maxUnavailable 0).  The independent observer stamps when the
Deployment's new generation appeared (changed) and when the rollout was complete with every old
pod gone (settled): settled - changed is the controller-inherent time, which no tool can shorten.
overhead = playbook wall time - inherent; it splits into `before` (CLI start until the change
reached the API: Python and Ansible start-up, the lock, the reads) and `after` (settled until the
CLI exited: detection, the report, releasing the lock, exit).

node: "hollow" (pause pods on kubemark's hollow node, a new image tag each time) or "real" (the demo
app on the real node, 3 replicas at most, a new value of one env variable each time: its image is in
containerd already).  A timing callback (callbacks/task_times.py) splits each run further: `startup`
(CLI start until the first task began), `rollout_task` (the rollout module's task), `other_tasks`
(every other task, with their count) and `exit` (the last task's end until the CLI exited).
"""

import json
import os
import tempfile

import stats
import tools
from kube import PAUSE, pause_deployment
from observer import Observer

from localcluster import paths, workloads

GOAL_S = 1.0  # issue 18: the role's overhead over the controller's own time
PLAYBOOK = os.path.join(paths.REPO_ROOT, "playbooks", "rolling_update.yml")
CALLBACKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "callbacks")
ROLLOUT_ACTION = "nodowntime.k8s.rollout"


def _workload(node, replicas):
    if node == "hollow":
        return pause_deployment("web", replicas, tag="o0", max_surge="25%", max_unavailable=0)
    container = workloads.demo_container(1, env={"REP": 0})
    return workloads.deployment("web", container, replicas=min(replicas, 3), max_surge="25%", max_unavailable=0)


def _change(node, ns, rep):
    change = {"app_name": "web", "app_namespace": ns}
    if node == "hollow":
        return dict(change, images={"app": f"{PAUSE}:o{rep}"})
    # The playbook's images stays empty: the env change comes as the role's template patch.
    container = {"name": "app", "image": f"{workloads.DEMO_IMAGE}:1", "env": [{"name": "REP", "value": str(rep)}]}
    return dict(change, images={}, rolling_update_template_patch={"spec": {"containers": [container]}})


def _timed_playbook(extra_vars, kube):
    """The playbook run, and where its time went by the timing callback."""
    with tempfile.TemporaryDirectory() as tmp:
        times = os.path.join(tmp, "times.json")
        callback = {"ANSIBLE_CALLBACK_PLUGINS": CALLBACKS, "ANSIBLE_CALLBACKS_ENABLED": "task_times"}
        run = tools.ansible_playbook(PLAYBOOK, extra_vars, kube, env=dict(callback, BENCH_TASK_TIMES=times))
        run.check("playbooks/rolling_update.yml")
        with open(times) as f:
            recorded = json.load(f)
    tasks = [t for t in recorded["tasks"] if t["end"] is not None]
    rollout = [t["end"] - t["start"] for t in tasks if t["action"] == ROLLOUT_ACTION]
    others = [t for t in tasks if t["action"] != ROLLOUT_ACTION]
    split = {
        "startup": tasks[0]["start"] - run.started,
        "rollout_task": sum(rollout),
        "other_tasks": sum(t["end"] - t["start"] for t in others),
        "other_task_count": len(others),
        "skipped_task_count": sum(1 for t in others if t.get("status") == "skipped"),
        "exit": run.ended - tasks[-1]["end"],
    }
    return run, split


def measure(kube, reps, replicas=10, node="hollow", log=print):
    ns = kube.namespace("overhead")
    kube.create_deployment(ns, _workload(node, replicas))
    samples = []
    try:
        with Observer(kube, ns) as obs:
            for rep in range(reps):
                run, split = _timed_playbook(_change(node, ns, rep + 1), kube)
                generation = kube.generation(ns, "web")
                changed = obs.wait(lambda g=generation: obs.changed_at("web", g), 60, "the change")
                settled = obs.wait(lambda g=generation: obs.settled_at("web", g), 300, "the rollout")
                inherent = settled - changed
                sample = {
                    "wall": run.wall,
                    "inherent": inherent,
                    "overhead": run.wall - inherent,
                    "before": changed - run.started,
                    "after": run.ended - settled,
                    **split,
                }
                samples.append(sample)
                log(
                    f"overhead rep {rep + 1}/{reps}: wall {run.wall:.2f}s - inherent {inherent:.2f}s "
                    f"= {sample['overhead']:.2f}s (before {sample['before']:.2f}s, after {sample['after']:.2f}s; "
                    f"startup {split['startup']:.2f}s, rollout task {split['rollout_task']:.2f}s, "
                    f"{split['other_task_count']} other tasks {split['other_tasks']:.2f}s, exit {split['exit']:.2f}s)"
                )
    finally:
        kube.delete_namespace(ns)
    out = {
        "workload": {
            "node": node,
            "image": PAUSE if node == "hollow" else workloads.DEMO_IMAGE,
            "replicas": replicas if node == "hollow" else min(replicas, 3),
            "max_surge": "25%",
            "max_unavailable": 0,
            "playbook": "playbooks/rolling_update.yml",
        }
    }
    out.update({key: stats.summary([s[key] for s in samples]) for key in samples[0]} if samples else {})
    overhead = out.get("overhead", {}).get("median")
    out["goal"] = {"overhead_median_max_s": GOAL_S, "met": overhead is not None and overhead <= GOAL_S}
    return out
