"""The real node's configuration and commands: every daemon inside the cluster's namespace, every name its own."""

import json
import tomllib

import pytest

from localcluster import cluster, hollownode, nodeconfig, pki, realnode

LAYOUT = nodeconfig.Layout(
    state_dir="/c/node",
    run_dir="/run/nodowntime-abcd1234",
    cgroup_root="/nodowntime-abcd1234",
    tools_dir="/tools",
    node_ip="10.250.0.1",
    pki_dir="/c/pki",
)
INFO = {
    "binary": "/k8s",
    "ports": {"etcd": 1, "etcd_peer": 2, "apiserver": 3, "kube-controller-manager": 4, "kube-scheduler": 5},
    "node_port_range": [30000, 30399],
    "netns": "nodowntime-abcd1234",
    "node_binaries": {"tools": "/tools", "images": {"registry": "/r", "demo-app": "/d", "pause": "/p"}},
    "settings": cluster.DEFAULT_SETTINGS,
}


def test_containerd_keeps_everything_under_the_clusters_own_paths():
    config = tomllib.loads(nodeconfig.containerd_toml(LAYOUT))
    plugins = config["plugins"]
    assert config["version"] == 4 and config["imports"] == []
    assert config["root"].startswith("/c/node/") and config["state"].startswith("/c/node/")
    # Every socket under the short run directory: a unix socket's path has at most 107 bytes.
    sockets = [plugins[f"io.containerd.server.v1.{p}"]["address"] for p in ("grpc", "ttrpc")]
    assert sockets == [f"{LAYOUT.run_dir}/containerd.sock", f"{LAYOUT.run_dir}/containerd.sock.ttrpc"]
    assert plugins["io.containerd.shim.v1.manager"]["socket_dir"].startswith(LAYOUT.run_dir)
    runtime = plugins["io.containerd.cri.v1.runtime"]
    assert runtime["restrict_oom_score_adj"] is True
    assert runtime["netns_mounts_under_state_dir"] is True
    runc = runtime["containerd"]["runtimes"]["runc"]["options"]
    assert runc == {"BinaryName": "/tools/runc", "Root": f"{LAYOUT.run_dir}/runc", "SystemdCgroup": False}
    images = plugins["io.containerd.cri.v1.images"]
    assert images["pinned_images"]["sandbox"] == "localhost:5000/pause:3.10"


def test_the_registry_is_plain_http_on_the_namespaces_loopback():
    hosts = tomllib.loads(nodeconfig.registry_hosts_toml())
    assert hosts["server"] == "http://127.0.0.1:5000"
    assert hosts["host"]["http://127.0.0.1:5000"]["capabilities"] == ["pull", "resolve"]


def test_cni_reservations_live_in_the_clusters_state_not_var_lib_cni():
    bridge = json.loads(nodeconfig.cni_conflist(LAYOUT))["plugins"][0]
    assert bridge["ipam"]["dataDir"] == "/c/node/cni/networks"
    assert bridge["ipam"]["ranges"] == [[{"subnet": "10.244.0.0/20", "gateway": "10.244.0.1"}]]
    assert bridge["ipMasq"] is False


def test_kubelet_runs_on_cgroup_v1_under_the_clusters_cgroup_root():
    config = json.loads(nodeconfig.kubelet_config(LAYOUT, max_pods=110))
    assert config["failCgroupV1"] is False and config["cgroupDriver"] == "cgroupfs"
    assert config["cgroupRoot"] == "/nodowntime-abcd1234"
    assert config["podLogsDir"] == "/c/node/pod-logs"
    assert config["containerRuntimeEndpoint"] == "unix:///run/nodowntime-abcd1234/containerd.sock"
    assert config["maxPods"] == 110
    assert config["authentication"]["anonymous"]["enabled"] is False


@pytest.mark.parametrize("mode", ["iptables", "nftables"])
def test_kube_proxy_serves_node_ports_on_the_node_ip_and_leaves_machine_wide_conntrack_alone(mode):
    config = json.loads(nodeconfig.kube_proxy_config(LAYOUT, "/c/proxy.kubeconfig", mode, 1.0))
    assert config["mode"] == mode
    assert config[mode]["minSyncPeriod"] == "1.0s"
    assert config["nodePortAddresses"] == ["10.250.0.1/32"]
    assert config["conntrack"]["maxPerCore"] == 0


@pytest.mark.parametrize("name", ["etcd", "kube-apiserver", "kube-scheduler", *realnode.COMPONENTS])
def test_every_component_but_the_host_ports_starts_inside_the_namespace(name):
    argv, _env = cluster.command(name, INFO)
    assert argv[:3] == ["nsenter", "--net=/run/netns/nodowntime-abcd1234", "--"]


def test_the_host_ports_listen_on_the_hosts_loopback_for_the_api_and_the_node_port_window():
    argv, _env = cluster.command("hostports", INFO)
    assert "nsenter" not in argv
    assert argv[argv.index("--netns") + 1] == "nodowntime-abcd1234" and argv[argv.index("--api-port") + 1] == "3"
    assert argv[argv.index("--node-ports") + 1] == "30000-30399"


def test_the_registry_serves_only_the_tags_it_is_given():
    argv, _env = cluster.command("registry", INFO)
    tags = next(a for a in argv if a.startswith("--demo-tags=")).split("=", 1)[1].split(",")
    assert "1" in tags and "v2" in tags and "does-not-exist" not in tags


def test_the_start_order_puts_the_host_ports_first_and_the_hollow_node_last_when_asked_for():
    assert cluster.order(cluster.DEFAULT_SETTINGS)[0] == "hostports"
    assert cluster.order(cluster.DEFAULT_SETTINGS)[-3:] == ("kubelet", "kube-proxy", "gateway")
    assert cluster.order(dict(cluster.DEFAULT_SETTINGS, hollow_pods=2600, gateway=False))[-3:] == (
        "kubelet",
        "kube-proxy",
        "hollow-node-1",
    )
    assert cluster.order(dict(cluster.DEFAULT_SETTINGS, hollow_pods=1600, hollow_nodes=3))[-4:] == (
        "gateway",
        "hollow-node-1",
        "hollow-node-2",
        "hollow-node-3",
    )


def test_the_hollow_node_is_kubemark_tainted_labelled_and_in_the_namespace():
    info = dict(INFO, settings=dict(cluster.DEFAULT_SETTINGS, hollow_pods=2600))
    argv, env = cluster.command("hollow-node-1", info)
    assert argv[:3] == ["nsenter", "--net=/run/netns/nodowntime-abcd1234", "--"]
    assert argv[3:6] == ["/k8s", "kubemark", "--morph=kubelet"]
    assert {"--max-pods=2600", "--use-host-image-service=false", "--kubelet-read-only-port=0"} <= set(argv)
    assert f"--register-with-taints={hollownode.TAINT}" in argv and "--name=10.250.0.2" in argv
    assert "--kubelet-port=10250" not in argv  # the real kubelet's
    assert env["TMPDIR"].endswith("/hollow-node-1")


def test_each_hollow_node_has_its_own_name_port_directory_and_node_identity():
    info = dict(INFO, settings=dict(cluster.DEFAULT_SETTINGS, hollow_pods=1600, hollow_nodes=2))
    first, second = (cluster.command(name, info) for name in ("hollow-node-1", "hollow-node-2"))
    assert {"--name=10.250.0.2", "--kubelet-port=10350"} <= set(first[0])
    assert {"--name=10.250.0.3", "--kubelet-port=10351"} <= set(second[0])
    assert first[1]["TMPDIR"] != second[1]["TMPDIR"]
    assert ("hollow-node-2", "system:node:10.250.0.3", "system:nodes") in pki.CLIENTS


def test_more_hollow_nodes_than_there_are_identities_for_are_refused_before_anything_starts():
    with pytest.raises(ValueError, match="hollow_nodes must be 1 to 8, not 9"):
        cluster.up(settings={"hollow_pods": 100, "hollow_nodes": 9})


def test_a_pod_tolerating_the_hollow_node_also_selects_it():
    spec = hollownode.toleration_and_selector()
    key, effect = hollownode.TAINT.split(":")[0].split("=")[0], hollownode.TAINT.split(":")[1]
    assert spec["nodeSelector"] == {hollownode.LABEL: "true"}
    assert spec["tolerations"] == [{"key": key, "operator": "Equal", "value": "true", "effect": effect}]


def test_a_bad_proxy_mode_is_refused_before_anything_starts():
    with pytest.raises(ValueError, match="proxy_mode must be one of"):
        cluster.up(settings={"proxy_mode": "ipvs"})
