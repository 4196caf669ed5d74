"""The real node's configuration files, rendered from the cluster's layout: pure functions, no I/O.

Everything a node daemon would put under /etc, /var/lib or /run goes under the cluster's state
directory instead, and every name that two clusters could share (the cgroup root, the CNI
network's IP reservations, the pod logs) is the cluster's own, so clusters run side by side.
The kubelet's and kube-proxy's configuration files are JSON, which their YAML decoders read.
"""

import json
from dataclasses import dataclass

REGISTRY = "localhost:5000"  # the image registry, on the namespace's own loopback
REGISTRY_ADDR = "127.0.0.1:5000"
PAUSE_IMAGE = f"{REGISTRY}/pause:3.10"
DEMO_REPO = "nodowntime/demo-app"  # served as localhost:5000/nodowntime/demo-app:<tag>
NODE_NAME = "local-node"
POD_SUBNET = "10.244.0.0/20"  # inside POD_CIDR: the one node's share, 4093 pod addresses
POD_GATEWAY = "10.244.0.1"
KUBELET_HEALTHZ_PORT = 10248
PROXY_HEALTHZ_PORT = 10256


@dataclass(frozen=True)
class Layout:
    """Where one cluster's node keeps its files, and the names it owns."""

    state_dir: str  # the node's part of the cluster's state directory
    run_dir: str  # short paths for sockets (a unix socket's path has at most 107 bytes) and runc's state
    cgroup_root: str  # e.g. /nodowntime-1a2b3c4d: the kubelet's cgroupRoot, in every hierarchy
    tools_dir: str  # containerd, runc, the CNI plugins, crictl
    node_ip: str
    pki_dir: str

    def path(self, *parts):
        return "/".join((self.state_dir, *parts))

    @property
    def containerd_socket(self):
        return f"{self.run_dir}/containerd.sock"

    @property
    def runtime_endpoint(self):
        return "unix://" + self.containerd_socket


def containerd_toml(layout):
    """containerd 2.4 (config version 4): CRI with runc, the CNI plugins and the local registry."""
    p = layout.path
    return f"""version = 4
root = "{p("containerd", "root")}"
state = "{p("containerd", "state")}"
imports = []
# NRI and tracing have nothing to talk to here.
disabled_plugins = [
  "io.containerd.nri.v1.nri",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[plugins."io.containerd.server.v1.grpc"]
  address = "{layout.containerd_socket}"

[plugins."io.containerd.server.v1.ttrpc"]
  address = "{layout.run_dir}/containerd.sock.ttrpc"

[plugins."io.containerd.shim.v1.manager"]
  socket_dir = "{layout.run_dir}/s"

[plugins."io.containerd.internal.v1.opt"]
  path = "{p("containerd", "opt")}"

[plugins."io.containerd.grpc.v1.cri"]
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

[plugins."io.containerd.cri.v1.runtime"]
  enable_selinux = false
  # The machine lacks CAP_SYS_RESOURCE: runc may not lower a container's oom_score_adj below containerd's.
  restrict_oom_score_adj = true
  # Pod network namespaces under the state directory, not /run/netns: the cluster's own, removed with it.
  netns_mounts_under_state_dir = true

  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"

    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = "{layout.tools_dir}/runc"
        Root = "{layout.run_dir}/runc"
        SystemdCgroup = false

  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["{layout.tools_dir}"]
    conf_dir = "{p("cni", "net.d")}"

[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"

  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "{PAUSE_IMAGE}"

  [plugins."io.containerd.cri.v1.images".registry]
    config_path = "{p("containerd", "certs.d")}"

[plugins."io.containerd.transfer.v1.local"]
  config_path = "{p("containerd", "certs.d")}"
"""


def registry_hosts_toml():
    """certs.d/localhost:5000/hosts.toml: the local registry speaks plain HTTP on the namespace's loopback."""
    return f"""server = "http://{REGISTRY_ADDR}"

[host."http://{REGISTRY_ADDR}"]
  capabilities = ["pull", "resolve"]
"""


def cni_conflist(layout):
    """One bridge for every pod of the node; its gateway is the node's side, inside the namespace."""
    return json.dumps(
        {
            "cniVersion": "1.0.0",
            "name": "nodowntime",
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": "cni0",
                    "isGateway": True,
                    "ipMasq": False,
                    "hairpinMode": True,
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{"subnet": POD_SUBNET, "gateway": POD_GATEWAY}]],
                        "routes": [{"dst": "0.0.0.0/0"}],
                        # Not /var/lib/cni/networks: two clusters' reservations would mix there.
                        "dataDir": layout.path("cni", "networks"),
                    },
                },
                {"type": "portmap", "capabilities": {"portMappings": True}},
            ],
        },
        indent=2,
    )


def kubelet_config(layout, max_pods):
    return json.dumps(
        {
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            # These machines run cgroup v1 (hybrid); kubelet >= 1.35 refuses it unless told.
            "failCgroupV1": False,
            "cgroupDriver": "cgroupfs",
            "cgroupRoot": layout.cgroup_root,
            "containerRuntimeEndpoint": layout.runtime_endpoint,
            "authentication": {
                "anonymous": {"enabled": False},
                "webhook": {"enabled": False},
                "x509": {"clientCAFile": f"{layout.pki_dir}/ca.crt"},
            },
            "authorization": {"mode": "AlwaysAllow"},
            "readOnlyPort": 0,
            "healthzBindAddress": "127.0.0.1",
            "healthzPort": KUBELET_HEALTHZ_PORT,
            "podLogsDir": layout.path("pod-logs"),
            "maxPods": max_pods,
            "failSwapOn": False,
            "serializeImagePulls": False,
            # No DNS server lives in the namespace; pods get no resolv.conf rather than the host's.
            "resolvConf": "",
            # A shared test disk is often fuller than the defaults allow; eviction is not under test.
            "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
            "imageGCHighThresholdPercent": 100,
            "imageGCLowThresholdPercent": 99,
        },
        indent=2,
    )


def kubelet_args(layout, config_path, kubeconfig):
    return [
        f"--config={config_path}",
        f"--kubeconfig={kubeconfig}",
        f"--hostname-override={NODE_NAME}",
        f"--node-ip={layout.node_ip}",
        # Under the short run directory: the kubelet makes unix sockets below its root (pod-resources, plugins).
        f"--root-dir={layout.run_dir}/kubelet",
        f"--cert-dir={layout.run_dir}/kubelet/pki",
        "--v=2",
    ]


def kube_proxy_config(layout, kubeconfig, mode, min_sync_period):
    """min_sync_period: seconds kube-proxy lets changes gather before it rewrites the rules (its default is 1)."""
    sync = {"minSyncPeriod": f"{min_sync_period}s"}
    return json.dumps(
        {
            "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
            "kind": "KubeProxyConfiguration",
            "clientConnection": {"kubeconfig": kubeconfig},
            "hostnameOverride": NODE_NAME,
            "mode": mode,
            "clusterCIDR": "10.244.0.0/16",
            "nodePortAddresses": [f"{layout.node_ip}/32"],
            "healthzBindAddress": f"127.0.0.1:{PROXY_HEALTHZ_PORT}",
            "metricsBindAddress": "127.0.0.1:10249",
            # A non-initial namespace may not set the machine-wide conntrack table size or timeouts.
            "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
            "iptables": {"localhostNodePorts": False, **sync},
            "nftables": sync,
        },
        indent=2,
    )
