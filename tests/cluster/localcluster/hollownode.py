"""kubemark's hollow node, for the scale benchmark only: NOT a real node.

It is the kubelet's own code over kubemark's fake container runtime, fake image service and fake
prober, so its pods run no process, have no network, pull any image tag and are Ready at once.
It lets `make bench` hold 1000+ pods on 2 cores, and nothing it does backs a zero-downtime figure.
It registers with a taint and a label of its own, so only pods that ask for it (tests/bench) land
there, and it runs in the cluster's network namespace beside the real node, started last.

Several hollow nodes may join (settings.hollow_nodes): each kubelet reports its pods' status one
request after another (the status manager's GET and PATCH per change), so one node starting and
stopping thousands of pods is bound by the API's latency, where several share the work like a
real cluster's nodes.  Components hollow-node-1..N, node names 10.250.0.2.. .
"""

import os

MAX_NODES = 8
LABEL = "nodowntime.k8s/hollow-node"
TAINT = f"{LABEL}=true:NoSchedule"
# The real kubelet holds 10250 in the same namespace; hollow node i listens on KUBELET_PORT + i - 1.
KUBELET_PORT = 10350
COMPONENTS = tuple(f"hollow-node-{i}" for i in range(1, MAX_NODES + 1))


def node_name(component):
    """The node's name, which is its address: kubemark has no --node-ip, and a node name that is an IP
    is the kubelet's own way to give one (the namespace has no DNS and no default route to find one by).
    Not on any interface: nothing dials a hollow kubelet."""
    return f"10.250.0.{_index(component) + 1}"


def _index(component):
    return COMPONENTS.index(component) + 1


# (kubeconfig stem, common name, organization): the Node authorizer knows each node by its name.
CLIENTS = tuple((c, f"system:node:{node_name(c)}", "system:nodes") for c in COMPONENTS)


def toleration_and_selector():
    """The pod spec fields that put a pod on the hollow node and nowhere else."""
    return {
        "nodeSelector": {LABEL: "true"},
        "tolerations": [{"key": LABEL, "operator": "Equal", "value": "true", "effect": "NoSchedule"}],
    }


def components(settings):
    """The hollow nodes' component names under these settings (none when hollow_pods is 0)."""
    return COMPONENTS[: settings["hollow_nodes"]] if settings["hollow_pods"] > 0 else ()


def command(component, info, kubeconfig, root_dir):
    """argv and environment of one `kubemark --morph=kubelet`, with this cluster's pods per hollow node."""
    pods = info["settings"]["hollow_pods"]
    argv = [
        info["binary"],
        "kubemark",
        "--morph=kubelet",
        f"--name={node_name(component)}",
        f"--kubeconfig={kubeconfig}",
        f"--kubelet-port={KUBELET_PORT + _index(component) - 1}",
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
