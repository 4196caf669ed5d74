"""The cluster the benchmark runs on: API clients, bench- namespaces, manifests, waits."""

import json
import os
import uuid

from kubernetes import client, config

from localcluster import cluster, paths, workloads

PAUSE = "registry.k8s.io/pause"


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
    """Pods that run no process: the node agent makes them Running and ready at once, and stops them at once."""
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
    return json.loads(json.dumps(manifest))
