"""(3) Overhead: wall time of a rolling update through the rolling_update role, minus the controller's own time.

Each sample is `ansible-playbook playbooks/rolling_update.yml` (the role as users run it: lock,
report, version read, rollout) rolling a Deployment of `replicas` pause pods to a new image with
the role's defaults (maxSurge 25%, maxUnavailable 0).  The independent observer stamps when the
Deployment's new generation appeared (changed) and when the rollout was complete with every old
pod gone (settled): settled - changed is the controller-inherent time, which no tool can shorten.
overhead = playbook wall time - inherent; it splits into `before` (CLI start until the change
reached the API: Python and Ansible start-up, the lock, the reads) and `after` (settled until the
CLI exited: detection, the report, releasing the lock, exit).
"""

import os

import stats
import tools
from kube import PAUSE, pause_deployment
from observer import Observer

from localcluster import paths

PLAYBOOK = os.path.join(paths.REPO_ROOT, "playbooks", "rolling_update.yml")


def measure(kube, reps, replicas=10, log=print):
    ns = kube.namespace("overhead")
    kube.create_deployment(ns, pause_deployment("web", replicas, tag="o0", max_surge="25%", max_unavailable=0))
    samples = []
    try:
        with Observer(kube, ns) as obs:
            for rep in range(reps):
                run = tools.ansible_playbook(
                    PLAYBOOK, {"app_name": "web", "app_namespace": ns, "images": {"app": f"{PAUSE}:o{rep + 1}"}}, kube
                )
                run.check("playbooks/rolling_update.yml")
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
                }
                samples.append(sample)
                log(
                    f"overhead rep {rep + 1}/{reps}: wall {run.wall:.2f}s - inherent {inherent:.2f}s "
                    f"= {sample['overhead']:.2f}s (before {sample['before']:.2f}s, after {sample['after']:.2f}s)"
                )
    finally:
        kube.delete_namespace(ns)
    out = {
        "workload": {
            "image": PAUSE,
            "replicas": replicas,
            "max_surge": "25%",
            "max_unavailable": 0,
            "playbook": "playbooks/rolling_update.yml",
        }
    }
    out.update({key: stats.summary([s[key] for s in samples]) for key in samples[0]} if samples else {})
    overhead = out.get("overhead", {}).get("median")
    out["goal"] = {"overhead_median_max_s": 2.0, "met": overhead is not None and overhead <= 2.0}
    return out
