"""The real node: the local registry, containerd, the kubelet and kube-proxy, inside the cluster's namespace.

Upstream code end to end: the kubelet runs the probes and terminates pods, containerd pulls the
images from the registry (a tag it does not serve is a real ErrImagePull), runc starts them in
pod namespaces the CNI bridge plugin wires to the node, and kube-proxy programs the kernel's rules.
"""

import os

from . import build, health, imagebuild, netns, nodeconfig, paths, teardown

COMPONENTS = ("registry", "containerd", "kubelet", "kube-proxy")
# Every demo image the tests and the demo name; any other tag is a pull that fails.
DEMO_TAGS = [str(n) for n in range(1, 10)] + [f"v{n}" for n in range(1, 10)]


def binaries():
    """Build (or find in the cache) what the node runs: {"tools": dir, "images": {name: path}}."""
    tools = build.build_node_tools()
    return {"tools": os.path.dirname(tools["containerd"]), "images": imagebuild.build()}


def layout(info):
    return nodeconfig.Layout(
        state_dir=paths.state("node"),
        run_dir=f"/run/{info['netns']}",
        cgroup_root=f"/{info['netns']}",
        tools_dir=info["node_binaries"]["tools"],
        node_ip=netns.NODE_IP,
        pki_dir=paths.PKI_DIR,
    )


def prepare(info, kubeconfig_for):
    """Write the node's configuration files and make its cgroup root; before any component starts."""
    lay = layout(info)
    files = {
        lay.path("containerd", "config.toml"): nodeconfig.containerd_toml(lay),
        lay.path("containerd", "certs.d", nodeconfig.REGISTRY, "hosts.toml"): nodeconfig.registry_hosts_toml(),
        lay.path("cni", "net.d", "10-nodowntime.conflist"): nodeconfig.cni_conflist(lay),
        lay.path("kubelet.json"): nodeconfig.kubelet_config(lay, info["settings"]["node_pods"]),
        lay.path("kube-proxy.json"): nodeconfig.kube_proxy_config(
            lay, kubeconfig_for("proxy"), info["settings"]["proxy_mode"], info["settings"]["proxy_sync_delay"]
        ),
    }
    for path, text in files.items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    os.makedirs(lay.run_dir, exist_ok=True)
    teardown.make_cgroup_root(lay.cgroup_root)


def command(name, info, kubeconfig_for):
    lay = layout(info)
    images = info["node_binaries"]["images"]
    if name == "registry":
        return [
            images["registry"],
            f"--addr={nodeconfig.REGISTRY_ADDR}",
            f"--demo-app={images['demo-app']}",
            f"--pause={images['pause']}",
            f"--demo-repo={nodeconfig.DEMO_REPO}",
            f"--demo-tags={','.join(DEMO_TAGS)}",
            f"--pause-ref={nodeconfig.PAUSE_IMAGE.split('/', 1)[1]}",
        ], {}
    if name == "containerd":
        # containerd finds its shim on PATH.
        env = {"PATH": f"{lay.tools_dir}:{os.environ.get('PATH', '/usr/sbin:/usr/bin:/sbin:/bin')}"}
        return [f"{lay.tools_dir}/containerd", f"--config={lay.path('containerd', 'config.toml')}"], env
    if name == "kubelet":
        argv = nodeconfig.kubelet_args(lay, lay.path("kubelet.json"), kubeconfig_for("node"))
        return [info["binary"], "kubelet", *argv], {}
    if name == "kube-proxy":
        return [info["binary"], "kube-proxy", f"--config={lay.path('kube-proxy.json')}", "--v=2"], {}
    raise KeyError(name)


def check_health(name, info):
    """One look at a node component's health: (healthy, detail)."""
    ns = info["netns"]
    if name == "registry":
        status, body = health.get(*nodeconfig.REGISTRY_ADDR.split(":"), "/v2/", netns=ns)
    elif name == "kube-proxy":
        status, body = health.get("127.0.0.1", nodeconfig.PROXY_HEALTHZ_PORT, "/healthz", netns=ns)
    elif name == "containerd":
        sock = layout(info).containerd_socket
        return os.path.exists(sock), f"waiting for {sock}"
    else:
        raise KeyError(name)
    return status == 200, f"{status}: {body[:200]}"


def down(info):
    """After the components are stopped: no sandbox, shim, mount, cgroup or run directory left."""
    lay = layout(info)
    left = teardown.kill_leftovers(lay.containerd_socket, lay.cgroup_root)
    teardown.unmount_below(lay.state_dir)
    teardown.unmount_below(lay.run_dir)
    stuck = teardown.remove_cgroup_root(lay.cgroup_root)
    if os.path.isdir(lay.run_dir):
        teardown.remove_tree(lay.run_dir)
    return [f"process {pid} would not die" for pid in left] + [f"cgroup {d} is still in use" for d in stuck]


def remove_sandboxes(info):
    """While containerd still runs: every pod sandbox stopped and removed, their networks with them."""
    lay = layout(info)
    teardown.remove_sandboxes(os.path.join(lay.tools_dir, "crictl"), lay.runtime_endpoint)
