"""(6) Pod start on the real node: from a pod's creation to Ready, and where the time goes.

Each rep creates a Deployment of the demo app (N pods, readiness probe every 1 s, no initial
delay; the image is already in containerd, pulled by a warm-up pod first) and the observer stamps
each pod when it first sees it:
  created   - the pod exists in the API (the ReplicaSet controller made it);
  scheduled - it is bound to the node;
  started   - its container runs: the kubelet made the sandbox through containerd and runc, the
              CNI bridge plugin wired its network, and the app's process started;
  ready     - its Ready condition is True: the kubelet's first passing readiness probe.
Figures are per pod over every rep: created -> ready, and the three steps.  Each rep's Deployment
is deleted and its pods watched until they are gone before the next.  Real node only: the hollow
node's pods would be "Ready" at once.
"""

import stats
from observer import Observer

from localcluster import workloads

STEPS = (("created", "scheduled"), ("scheduled", "started"), ("started", "ready"), ("created", "ready"))


def measure(kube, reps, replicas, log=print):
    ns = kube.namespace("podstart")
    samples = []
    try:
        _start(kube, ns, "warmup", 1, log)  # the image pull, not measured
        for rep in range(reps):
            with Observer(kube, ns, kinds=("pods",)) as obs:
                name = f"web{rep}"
                _start(kube, ns, name, replicas, log)
                pods = {n: m for n, m in obs.pod_milestones().items() if n.startswith(name + "-")}
            for milestones in pods.values():
                samples.append({f"{a}_to_{b}": milestones[b] - milestones[a] for a, b in STEPS})
            log(
                f"podstart rep {rep + 1}/{reps}: {replicas} pods, created -> ready "
                + ", ".join(f"{s['created_to_ready']:.2f}s" for s in samples[-len(pods) :])
            )
    finally:
        kube.delete_namespace(ns)
    return {
        "workload": {"image": workloads.DEMO_IMAGE, "replicas": replicas, "readiness_period_seconds": 1},
        "pods": len(samples),
        "steps": {f"{a}_to_{b}": stats.summary([s[f"{a}_to_{b}"] for s in samples]) for a, b in STEPS},
    }


def _start(kube, ns, name, replicas, log):
    """Create the Deployment, wait until it is complete, delete it and wait until its pods are gone."""
    manifest = workloads.deployment(name, workloads.demo_container("1"), replicas=replicas, grace=0)
    kube.create_deployment(ns, manifest, timeout=120)
    # Foreground: the Deployment goes only after its ReplicaSet, which goes only after its pods.
    kube.apps.delete_namespaced_deployment(name, ns, propagation_policy="Foreground")
    workloads.wait_gone(
        kube.apps.list_namespaced_deployment, name, 120, f"{ns}/{name} and its pods to go", namespace=ns
    )
