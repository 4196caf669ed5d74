"""A private local cluster of its own (NODOWNTIME_CLUSTER_DIR=<dir>): its own network namespace, node,
ports and NodePort window, started with `python -m localcluster up` and stopped with `down`.  The fault
tests use one, the fleet tests two (beside the session's cluster, which attach() reaches the same way);
LOCK serialises the fault tests' sessions on this machine (one restarts components for minutes)."""

import json
import os
import subprocess
import sys
import time
import uuid

import kubeaccess  # from the security directory, which tests/integration/conftest.py puts on the path
from kubernetes import client, config

from localcluster import workloads

LOCK = "/tmp/nodowntime-private-cluster.lock"


class PrivateCluster:
    def __init__(self, state_dir):
        self.dir = state_dir
        self.env = dict(os.environ, NODOWNTIME_CLUSTER_DIR=state_dir)
        self.kubeconfig = os.path.join(state_dir, "kubeconfig")
        self.ca_cert = os.path.join(state_dir, "pki", "ca.crt")
        self.faults = []  # (component, seconds the restart took)
        self.namespaces = []  # the current test's, for its report if it fails

    def cli(self, *args, timeout=300):
        proc = subprocess.run(
            [sys.executable, "-m", "localcluster", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert proc.returncode == 0, f"localcluster {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
        return proc

    def up(self, *flags):
        """Start it with localcluster up's setting flags, e.g. ("--kubernetes-version", "v1.34.4"); no test on a
        private cluster routes through the gateway, so it starts without one."""
        self.cli("up", "--no-gateway", *flags)
        self.attach()

    def attach(self):
        """API clients on the cluster running in self.dir (also the session's own, whose dir is paths.STATE_DIR)."""
        with open(os.path.join(self.dir, "cluster.json")) as f:
            self.info = json.load(f)
        self.api = config.new_client_from_config(self.kubeconfig)
        self.core = client.CoreV1Api(self.api)
        self.apps = client.AppsV1Api(self.api)

    def down(self):
        return self.cli("down")

    def restart(self, component):
        """Kill the component with SIGKILL and start it again (same ports, same data); (started, ended) monotonic."""
        started = time.monotonic()
        self.cli("restart", component, "--kill")
        ended = time.monotonic()
        self.faults.append((component, round(ended - started, 2)))
        return started, ended

    @property
    def sync_delay(self):
        return self.info["settings"]["proxy_sync_delay"]

    def namespace(self, prefix):
        name = f"{prefix}-{uuid.uuid4().hex[:5]}"
        self.core.create_namespace({"metadata": {"name": name}})
        self.namespaces.append(name)
        return name

    def deploy(self, namespace, manifest, selector=None, timeout=120, service="web"):
        """Create the Deployment (and a NodePort Service selecting selector, if given); the Service's URL."""
        name = manifest["metadata"]["name"]
        self.apps.create_namespaced_deployment(namespace, manifest)
        self.wait_deployment(namespace, name, timeout=timeout)
        if selector is None:
            return None
        svc = self.core.create_namespaced_service(namespace, workloads.node_port_service(service, selector))
        url = f"http://127.0.0.1:{svc.spec.ports[0].node_port}/"
        workloads.wait_serving(url, timeout=30)
        return url

    def deployer_kubeconfig(self, namespace, path):
        """docs/rbac.yml bound in namespace; a kubeconfig (written to path) with only its token."""
        return kubeaccess.bound_kubeconfig(self, self.info["server"], namespace, path, ca_file=self.ca_cert)[1]

    def wait_deployment(self, namespace, name, predicate=workloads.deployment_complete, timeout=120):
        return workloads.wait_for(
            self.apps.list_namespaced_deployment, name, predicate, timeout, f"{namespace}/{name}", namespace=namespace
        )
