"""The Node object and its Lease: register, renew every 10 s, refresh Ready now and then."""

import datetime
import logging
import platform
import threading

from kubernetes.client.exceptions import ApiException

from .. import podnet
from .status import parse_time, rfc3339

log = logging.getLogger("node")

LEASE_NAMESPACE = "kube-node-lease"
LEASE_DURATION = 40
KUBELET_VERSION = "v1.37.2"


def _arch():
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def micro_time(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def node_status(resources, now, ready_since, name):
    """The Node's status: capacity, conditions (all healthy), addresses, nodeInfo."""
    capacity = {
        "cpu": str(resources["cpu"]),
        "memory": str(resources["memory"]),
        "pods": str(resources["pods"]),
        "ephemeral-storage": "1000Gi",
    }

    def cond(ctype, status, reason, message):
        return {
            "type": ctype,
            "status": status,
            "reason": reason,
            "message": message,
            "lastHeartbeatTime": rfc3339(now),
            "lastTransitionTime": rfc3339(ready_since),
        }

    return {
        "capacity": capacity,
        "allocatable": dict(capacity),
        "conditions": [
            cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
        ],
        "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}, {"type": "Hostname", "address": name}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 0}},
        "nodeInfo": {
            "machineID": _read("/etc/machine-id"),
            "systemUUID": _read("/etc/machine-id"),
            "bootID": _read("/proc/sys/kernel/random/boot_id"),
            "kernelVersion": platform.release(),
            "osImage": "nodowntime local node",
            "containerRuntimeVersion": "nodowntime://1",
            "kubeletVersion": KUBELET_VERSION,
            "kubeProxyVersion": KUBELET_VERSION,
            "operatingSystem": "linux",
            "architecture": _arch(),
        },
    }


def parse_taint(text):
    """'key=value:Effect' or 'key:Effect' -> a taint dict."""
    rest, effect = text.rsplit(":", 1)
    key, _equals, value = rest.partition("=")
    taint = {"key": key, "effect": effect}
    if value:
        taint["value"] = value
    return taint


def node_object(name, resources, now, taints=()):
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": _arch(),
                "beta.kubernetes.io/os": "linux",
                "beta.kubernetes.io/arch": _arch(),
            },
        },
        "spec": {
            "podCIDR": str(podnet.POD_CIDR),
            "podCIDRs": [str(podnet.POD_CIDR)],
            "taints": [parse_taint(t) for t in taints],
        },
        "status": node_status(resources, now, now, name),
    }


class Heartbeat(threading.Thread):
    def __init__(self, kube, name, resources, stopping, clock, lease_every=10.0, status_every=60.0, taints=()):
        super().__init__(name="heartbeat", daemon=True)
        self.taints = taints
        self.kube, self.name, self.resources = kube, name, resources
        self.stopping, self.clock = stopping, clock
        self.lease_every, self.status_every = lease_every, status_every
        self.node_uid = None
        self.ready_since = None
        self._lease = None

    def register(self):
        """Create the Node (or take over an existing one) and mark it Ready. Retries until done."""
        while not self.stopping.is_set():
            try:
                now = self.clock()
                try:
                    node = self.kube.get_node(self.name)
                    log.info("node %s exists; taking it over", self.name)
                except ApiException as e:
                    if e.status != 404:
                        raise
                    node = self.kube.create_node(node_object(self.name, self.resources, now, self.taints))
                    log.info("registered node %s", self.name)
                self.node_uid = node["metadata"]["uid"]
                ready = [
                    c
                    for c in (node.get("status") or {}).get("conditions") or []
                    if c.get("type") == "Ready" and c.get("status") == "True"
                ]
                self.ready_since = now
                if ready and ready[0].get("lastTransitionTime"):
                    self.ready_since = parse_time(ready[0]["lastTransitionTime"])
                self.update_status()
                self.renew_lease()
                return True
            except Exception as e:  # noqa: BLE001 - registration retries whatever went wrong
                log.warning("node registration failed: %s; retrying", e)
                self.stopping.wait(2)
        return False

    def update_status(self):
        self.kube.patch_node_status(self.name, node_status(self.resources, self.clock(), self.ready_since, self.name))

    def renew_lease(self):
        now = self.clock()
        if self._lease is None:
            try:
                self._lease = self.kube.get_lease(LEASE_NAMESPACE, self.name)
            except ApiException as e:
                if e.status != 404:
                    raise
                lease = {
                    "apiVersion": "coordination.k8s.io/v1",
                    "kind": "Lease",
                    "metadata": {
                        "name": self.name,
                        "namespace": LEASE_NAMESPACE,
                        "ownerReferences": [
                            {"apiVersion": "v1", "kind": "Node", "name": self.name, "uid": self.node_uid}
                        ],
                    },
                    "spec": {
                        "holderIdentity": self.name,
                        "leaseDurationSeconds": LEASE_DURATION,
                        "renewTime": micro_time(now),
                    },
                }
                self._lease = self.kube.create_lease(LEASE_NAMESPACE, lease)
                return
        lease = dict(self._lease)
        lease["spec"] = dict(
            lease.get("spec") or {},
            holderIdentity=self.name,
            leaseDurationSeconds=LEASE_DURATION,
            renewTime=micro_time(now),
        )
        try:
            self._lease = self.kube.update_lease(LEASE_NAMESPACE, lease)
        except ApiException as e:
            self._lease = None  # conflict or gone: read it again next time
            if e.status not in (404, 409):
                raise
            self.renew_lease()

    def run(self):
        last_status = self.clock()
        while not self.stopping.wait(self.lease_every):
            try:
                self.renew_lease()
                if self.clock() - last_status >= self.status_every:
                    self.update_status()
                    last_status = self.clock()
            except Exception as e:  # noqa: BLE001 - one failed beat must not stop the heartbeat
                log.warning("heartbeat failed: %s", e)
