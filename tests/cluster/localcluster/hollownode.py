"""kubemark's hollow node, for the scale benchmark only: NOT a real node.

It is the kubelet's own code over kubemark's fake container runtime, fake image service and fake
prober, so its pods run no process, have no network, pull any image tag and are Ready at once.
It lets `make bench` hold 1000+ pods on 2 cores, and nothing it does backs a zero-downtime figure.
It registers with a taint and a label of its own, so only pods that ask for it (tests/bench) land
there, and it runs in the cluster's network namespace beside the real node, started last.
"""

import os

# kubemark has no --node-ip; a node name that is an IP is the kubelet's own way to give the
# address (the namespace has no DNS and no default route to find one by).  Not on any interface:
# nothing dials the hollow kubelet.
NAME = "10.250.0.2"
LABEL = "nodowntime.k8s/hollow-node"
TAINT = f"{LABEL}=true:NoSchedule"
# The real kubelet holds 10250 in the same namespace.
KUBELET_PORT = 10350


def toleration_and_selector():
    """The pod spec fields that put a pod on the hollow node and nowhere else."""
    return {
        "nodeSelector": {LABEL: "true"},
        "tolerations": [{"key": LABEL, "operator": "Equal", "value": "true", "effect": "NoSchedule"}],
    }


def command(info, kubeconfig, root_dir):
    """argv and environment of `kubemark --morph=kubelet` with this cluster's pod capacity."""
    pods = info["settings"]["hollow_pods"]
    argv = [
        info["binary"],
        "kubemark",
        "--morph=kubelet",
        f"--name={NAME}",
        f"--kubeconfig={kubeconfig}",
        f"--kubelet-port={KUBELET_PORT}",
        "--kubelet-read-only-port=0",
        f"--max-pods={pods}",
        "--use-host-image-service=false",
        f"--node-labels={LABEL}=true",
        f"--register-with-taints={TAINT}",
        # A thousand pods' status updates at kubemark's default 10 qps take minutes; 5000 pods (the
        # scale section's largest size) at 100 qps still took most of a rollout's time.
        "--kube-api-qps=400",
        "--kube-api-burst=800",
        "--v=1",
    ]
    # kubemark makes its root directory (pod records, logs) under TMPDIR: keep it in the cluster's state.
    os.makedirs(root_dir, exist_ok=True)
    return argv, {"TMPDIR": root_dir}
