"""The cluster the benchmark runs on: API clients, bench- namespaces, manifests, waits."""

import json
import os
import uuid

from kubernetes import client, config

from localcluster import cluster, hollownode, paths, workloads

PAUSE = "registry.k8s.io/pause"
# Where each measurement's pods run. Pause pods go to kubemark's hollow node (not a real node: any
# image tag "pulls", pods are Ready at once, 4 x 1600 fit in make bench); the rollback section serves live traffic
# from the demo app and podstart times the real kubelet, so they run on the real node.
NODE_OF = {
    "latency": "hollow",
    "apiload": "hollow",
    "overhead": "hollow",
    "overhead_real": "real",
    "scale": "hollow",
    "rollback": "real",
    "failure": "real",
    "podstart": "real",
    "fleet": "own",  # control-plane-only clusters the section starts (m_fleet.py): no node at all
}


class Kube:
    def __init__(self):
        self.kubeconfig = os.environ.get("KUBECONFIG") or paths.ADMIN_KUBECONFIG
        self.info = cluster.load()
        if not self.info:
            raise SystemExit(
                f"no running cluster recorded in {paths.CLUSTER_FILE}: run make cluster-up, "
                "or make bench, which starts one"
            )
        self.api = config.new_client_from_config(self.kubeconfig)
        self.core = client.CoreV1Api(self.api)
        self.apps = client.AppsV1Api(self.api)

    def require_hollow_node(self):
        """Stop with one clear line when the pause pods have nowhere to go."""
        if not self.core.list_node(label_selector=f"{hollownode.LABEL}=true").items:
            raise SystemExit(
                f"the cluster at {self.info['server']} has no hollow node (settings.hollow_pods is "
                f"{self.info['settings'].get('hollow_pods', 0)}): make cluster-down first so that make bench starts "
                "its own, or start one with `python -m localcluster up --hollow-nodes 4 --hollow-pods 1600`"
            )

    def hollow_pods(self):
        """How many pods the hollow nodes take together (kubemark's --max-pods each): blue/green at N pods needs 2N."""
        nodes = self.core.list_node(label_selector=f"{hollownode.LABEL}=true").items
        return sum(int(n.status.allocatable.get("pods", 0)) for n in nodes)

    @property
    def binary(self):
        return self.info["binary"]

    def namespace(self, what):
        name = f"bench-{what}-{uuid.uuid4().hex[:5]}"
        self.core.create_namespace({"metadata": {"name": name, "labels": {"nodowntime-bench": "true"}}})
        return name

    def delete_namespace(self, name):
        self.core.delete_namespace(name, grace_period_seconds=0, propagation_policy="Background")

    def create_deployment(self, namespace, manifest, timeout=600):
        name = manifest["metadata"]["name"]
        self.apps.create_namespaced_deployment(namespace, manifest)
        return self.wait_complete(namespace, name, timeout)

    def wait_complete(self, namespace, name, timeout=600):
        return workloads.wait_for(
            self.apps.list_namespaced_deployment,
            name,
            workloads.deployment_complete,
            timeout,
            f"deployment {namespace}/{name} to roll out",
            namespace=namespace,
        )

    def set_image(self, namespace, name, image, container="app"):
        body = {"spec": {"template": {"spec": {"containers": [{"name": container, "image": image}]}}}}
        return self.apps.patch_namespaced_deployment(name, namespace, body)

    def generation(self, namespace, name):
        return self.apps.read_namespaced_deployment(name, namespace).metadata.generation


def pause_deployment(name, replicas, tag="bench-0", max_surge=1, max_unavailable=0, min_ready_seconds=0, labels=None):
    """Pods on the hollow node: kubemark's fake runtime makes them Running and ready at once, and stops them at once."""
    container = {"name": "app", "image": f"{PAUSE}:{tag}"}
    manifest = workloads.deployment(
        name,
        container,
        replicas=replicas,
        labels=labels,
        max_surge=max_surge,
        max_unavailable=max_unavailable,
        min_ready_seconds=min_ready_seconds,
        grace=0,
    )
    manifest["spec"]["template"]["spec"].update(
        hollownode.toleration_and_selector(),
        # No service-account token volume: pause needs none, and the kubelet would request a token and
        # mount a projected volume for every pod, which at thousands of pods on one node is most of its work.
        automountServiceAccountToken=False,
    )
    return json.loads(json.dumps(manifest))
