"""Start and stop the local cluster: etcd, the three control-plane components and a real node.

The whole cluster lives in its own network namespace; the node is upstream containerd, kubelet and
kube-proxy (realnode.py).  With the setting hollow_pods > 0, kubemark's hollow nodes (hollow_nodes of
them) join it for the scale benchmark (hollownode.py): not real nodes, tainted so that only the
bench's pods go there.

Every process is a session leader recorded by pid and start time in .cluster/cluster.json,
so `down` stops exactly what `up` started and nothing else.
"""

import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import time

from . import (
    build,
    claims,
    gateway,
    health,
    hollownode,
    hostcheck,
    kubeconfig,
    netns,
    nodeconfig,
    paths,
    pki,
    procs,
    realnode,
)

CONTROL_PLANE = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
# The host ports first: the kube-apiserver's health is checked through them, from the host's loopback.
ORDER = ("hostports", *CONTROL_PLANE, *realnode.COMPONENTS)
ALL_COMPONENTS = (*ORDER, gateway.NAME, *hollownode.COMPONENTS)
PROXY_MODES = ("iptables", "nftables")
DEFAULT_SETTINGS = {
    # The release every component runs (build.kubernetes_versions(): controlplane/go.mod's and the alternates).
    "kubernetes_version": build.kubernetes_version(),
    # NodePorts in the cluster's window on the host's loopback: fewer let more clusters share the machine.
    "node_ports": claims.NODE_PORT_SPAN,
    "proxy_mode": "iptables",  # kube-proxy's
    "proxy_sync_delay": float(os.environ.get("NODOWNTIME_PROXY_SYNC_DELAY", "1.0")),
    "controller_qps": 100,
    "controller_burst": 200,
    # The HPA controller's sync period (upstream 15 s): short, so tests that move an HPA's minReplicas
    # mid-release see the controller act within a step instead of waiting a quarter of a minute.
    "hpa_sync_period": 2.0,
    "scheduler_qps": 50,  # kube-scheduler's own defaults
    "scheduler_burst": 100,
    "node_pods": 1100,  # the real kubelet's maxPods
    "hollow_pods": 0,  # pods each hollow node takes (kubemark's --max-pods); 0: no hollow node
    "hollow_nodes": 1,  # how many, up to hollownode.MAX_NODES
    "gateway": True,  # Traefik's Gateway API gateway, the CRDs and the Gateway (gateway.py)
}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load():
    """The running cluster's record, or None."""
    try:
        with open(paths.CLUSTER_FILE) as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def _save(info):
    tmp = paths.CLUSTER_FILE + ".tmp"
    with open(tmp, "w") as f:
        json.dump(info, f, indent=2)
    os.replace(tmp, paths.CLUSTER_FILE)


def _pki(name):
    return os.path.join(paths.PKI_DIR, name)


def _kubeconfig_for(name):
    return paths.ADMIN_KUBECONFIG if name == "admin" else paths.state(f"{name}.kubeconfig")


def order(settings):
    """The components of a cluster with these settings, in start order."""
    return (
        *ORDER,
        *((gateway.NAME,) if settings["gateway"] else ()),
        *hollownode.components(settings),
    )


def _kubeconfig_stems(settings):
    return (
        "admin",
        "kube-controller-manager",
        "kube-scheduler",
        "node",
        "proxy",
        *((gateway.NAME,) if settings["gateway"] else ()),
        *hollownode.components(settings),
    )


def command(name, info):
    """argv and extra environment of one component, from the cluster record."""
    argv, env = _command(name, info)
    if name != "hostports":
        argv = netns.argv(info["netns"], argv)
    return argv, env


def _command(name, info):
    p, binary = info["ports"], info["binary"]
    # A record written before a setting existed (a cluster still running across an upgrade) gets its default.
    s = dict(DEFAULT_SETTINGS, **info["settings"])
    if name in realnode.COMPONENTS:
        return realnode.command(name, info, _kubeconfig_for)
    if name in hollownode.COMPONENTS:
        return hollownode.command(name, info, _kubeconfig_for(name), paths.state(name))
    if name == gateway.NAME:
        return gateway.command(info["gateway_binaries"]["traefik"], _kubeconfig_for(name))
    if name == "hostports":
        window = "{}-{}".format(*info["node_port_range"])
        argv = ("--netns", info["netns"], "--api-port", str(p["apiserver"]), "--node-ports", window)
        argv += ("--gateway-port", f"{gateway_port(info)}:{gateway.LISTENER_PORT}")
        env_path = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        return [sys.executable, "-m", "localcluster.hostports", *argv], {"PYTHONPATH": env_path}
    if name == "etcd":
        client, peer = f"http://127.0.0.1:{p['etcd']}", f"http://127.0.0.1:{p['etcd_peer']}"
        return [
            binary,
            "etcd",
            "--name=local",
            f"--data-dir={paths.state('etcd')}",
            f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=local={peer}",
            # A throwaway test cluster: fsync latency on a shared disk is not worth paying.
            "--unsafe-no-fsync=true",
            "--log-level=warn",
        ], {}
    if name == "kube-apiserver":
        return [
            binary,
            "kube-apiserver",
            f"--etcd-servers=http://127.0.0.1:{p['etcd']}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={p['apiserver']}",
            f"--tls-cert-file={_pki('apiserver.crt')}",
            f"--tls-private-key-file={_pki('apiserver.key')}",
            f"--client-ca-file={_pki('ca.crt')}",
            # The kubelet answers logs and exec only to a client its CA signed.
            f"--kubelet-client-certificate={_pki('admin.crt')}",
            f"--kubelet-client-key={_pki('admin.key')}",
            # The node's name resolves nowhere (no DNS in the namespace); its InternalIP is the node IP.
            "--kubelet-preferred-address-types=InternalIP",
            f"--cert-dir={paths.state('apiserver-certs')}",
            "--authorization-mode=Node,RBAC",
            "--service-cluster-ip-range=10.96.0.0/16",
            # The window's last port is the gateway's (gateway_port): no Service gets it.
            f"--service-node-port-range={info['node_port_range'][0]}-{gateway_port(info) - 1}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={_pki('sa.pub')}",
            f"--service-account-signing-key-file={_pki('sa.key')}",
            # The endpoint reconciler would publish 127.0.0.1 for the kubernetes Service,
            # which EndpointSlices refuse; nothing here dials that Service anyway.
            "--endpoint-reconciler-type=none",
            "--profiling=false",
            "--v=1",
        ], {}
    if name in ("kube-controller-manager", "kube-scheduler"):
        kc = _kubeconfig_for(name)
        argv = [
            binary,
            name,
            f"--kubeconfig={kc}",
            f"--authentication-kubeconfig={kc}",
            f"--authorization-kubeconfig={kc}",
            "--bind-address=127.0.0.1",
            f"--secure-port={p[name]}",
            "--leader-elect=false",
            "--profiling=false",
            "--v=1",
        ]
        if name == "kube-scheduler":
            # Deprecated in favour of a config file, but still honoured, and one flag is simpler here.
            argv += [f"--kube-api-qps={s['scheduler_qps']}", f"--kube-api-burst={s['scheduler_burst']}"]
        else:
            argv += [
                f"--service-account-private-key-file={_pki('sa.key')}",
                f"--root-ca-file={_pki('ca.crt')}",
                "--use-service-account-credentials=true",
                f"--cert-dir={paths.state('controller-manager-certs')}",
                f"--kube-api-qps={s['controller_qps']}",
                f"--kube-api-burst={s['controller_burst']}",
                f"--horizontal-pod-autoscaler-sync-period={s['hpa_sync_period']}s",
            ]
        return argv, {}
    raise KeyError(name)


def _start(name, info):
    argv, extra_env = command(name, info)
    os.makedirs(paths.LOG_DIR, exist_ok=True)
    with open(os.path.join(paths.LOG_DIR, f"{name}.log"), "ab") as log:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=dict(os.environ, **extra_env),
            start_new_session=True,
        )
    info["processes"][name] = procs.record(proc.pid)
    _save(info)


def _wait_healthy(name, info, timeout=90):
    def running():
        return procs.alive(info["processes"][name])

    if name == "kubelet":
        return _wait_node_ready(nodeconfig.NODE_NAME, timeout, running, name)
    if name in hollownode.COMPONENTS:
        return _wait_node_ready(hollownode.node_name(name), timeout, running, name)
    if name == "hostports":
        return None  # its health is the kube-apiserver's, checked through it
    health.wait_ok(name, functools.partial(_check_health, name, info), timeout, running)
    return None


def _check_health(name, info):
    """One look at a component's health endpoint: (healthy, detail)."""
    ports, ns = info["ports"], info["netns"]
    if name in realnode.COMPONENTS:
        return realnode.check_health(name, info)
    if name == "etcd":
        return _ok(health.get("127.0.0.1", ports["etcd"], "/health", netns=ns))
    if name == "kube-apiserver":
        # From the host's loopback: through the forwarder when the cluster has a namespace.
        tls = health.client_tls(_pki("ca.crt"), _pki("admin.crt"), _pki("admin.key"))
        return _ok(health.get("127.0.0.1", ports["apiserver"], "/readyz", tls))
    if name in ("kube-controller-manager", "kube-scheduler"):
        return _ok(health.get("127.0.0.1", ports[name], "/healthz", health.self_signed_tls(), netns=ns))
    if name == gateway.NAME:
        return _ok(health.get("127.0.0.1", gateway.PING_PORT, "/ping", netns=ns))
    raise KeyError(name)


def _ok(result):
    status, body = result
    return status == 200, f"{status}: {body[:200]}"


def _wait_node_ready(node, timeout, running, component):
    from kubernetes import client, config, watch

    core = client.CoreV1Api(config.new_client_from_config(paths.ADMIN_KUBECONFIG))
    deadline = time.monotonic() + timeout
    # Short watch windows, so an agent that dies at start is noticed within seconds.
    while time.monotonic() < deadline and running():
        for event in watch.Watch().stream(core.list_node, field_selector=f"metadata.name={node}", timeout_seconds=2):
            conditions = event["object"].status.conditions or []
            if any(c.type == "Ready" and c.status == "True" for c in conditions):
                return
    state = "exited" if not running() else f"not Ready after {timeout}s"
    raise RuntimeError(f"node {node} {state} (see {paths.LOG_DIR}/{component}.log)")


def _log(msg, started):
    print(f"[cluster {time.monotonic() - started:5.1f}s] {msg}", file=sys.stderr, flush=True)


def running():
    info = load()
    return info if info and info["processes"] and all(procs.alive(rec) for rec in info["processes"].values()) else None


def up(components=None, settings=None):
    """Start the cluster; settings override DEFAULT_SETTINGS (keys as there) and are recorded in cluster.json.

    components: a subset of order(settings) to start, for developing the others (default: all).
    """
    started = time.monotonic()
    unknown = set(settings or {}) - set(DEFAULT_SETTINGS)
    if unknown:
        raise ValueError(f"unknown cluster settings: {', '.join(sorted(unknown))}")
    settings = dict(DEFAULT_SETTINGS, **(settings or {}))
    if settings["proxy_mode"] not in PROXY_MODES:
        raise ValueError(f"proxy_mode must be one of {PROXY_MODES}")
    if not 1 <= settings["hollow_nodes"] <= hollownode.MAX_NODES:
        raise ValueError(f"hollow_nodes must be 1 to {hollownode.MAX_NODES}, not {settings['hollow_nodes']}")
    build.modfile(settings["kubernetes_version"])  # a release it cannot build fails here, naming the setting
    hostcheck.check()
    if running():
        info = load()
        differ = {k: v for k, v in settings.items() if info["settings"].get(k, DEFAULT_SETTINGS[k]) != v}
        if differ:
            _log(
                f"already running; its settings differ from those asked for ({differ}): down first to apply them",
                started,
            )
        else:
            _log("already running", started)
        return info
    if load():
        down()  # a half-dead cluster from an earlier run: clear it first
    binary = build.build(version=settings["kubernetes_version"])
    node_binaries = realnode.binaries()
    gateway_binaries = build.build_gateway() if settings["gateway"] else None
    for stale in ("etcd", "node", *hollownode.COMPONENTS, "logs", "apiserver-certs", "controller-manager-certs"):
        shutil.rmtree(paths.state(stale), ignore_errors=True)
    pki.ensure(paths.PKI_DIR)
    with claims.claiming(paths.STATE_DIR, span=settings["node_ports"]) as window:
        info = {
            "binary": binary,
            "ports": {
                "etcd": _free_port(),
                "etcd_peer": _free_port(),
                "apiserver": _free_port(),
                "kube-controller-manager": _free_port(),
                "kube-scheduler": _free_port(),
            },
            "node_port_range": window,
            "settings": settings,
            "processes": {},
            "netns": netns.name_for(paths.STATE_DIR),
            "node_binaries": node_binaries,
            "gateway_binaries": gateway_binaries,
        }
        server = f"https://127.0.0.1:{info['ports']['apiserver']}"
        info["server"] = server
        info["kubeconfig"] = paths.ADMIN_KUBECONFIG
        _save(info)
    for stem in _kubeconfig_stems(settings):
        kubeconfig.write(_kubeconfig_for(stem), server, _pki("ca.crt"), _pki(stem + ".crt"), _pki(stem + ".key"), stem)
    try:
        netns.create(info["netns"])
        realnode.prepare(info, _kubeconfig_for)
        for name in components or order(settings):
            if name == gateway.NAME:
                crds = info["gateway_binaries"]["crds"]
                gateway.install(info, paths.ADMIN_KUBECONFIG, crds, paths.STATE_DIR)
                _log(f"Gateway API CRDs ({crds}), GatewayClass {gateway.CLASS} and Gateway applied", started)
            _start(name, info)
            _wait_healthy(name, info)
            _log(f"{name} healthy (pid {info['processes'][name]['pid']})", started)
    except BaseException:
        _log(f"start-up failed; stopping what was started (logs in {paths.LOG_DIR})", started)
        down()
        raise
    window = f"{info['node_port_range'][0]}-{info['node_port_range'][1]}"
    hollows = hollownode.components(settings)
    hollow = f", {len(hollows)} hollow node(s) of {settings['hollow_pods']} pods" if hollows else ""
    hollow += f", gateway {gateway_url(info)}" if settings["gateway"] else ""
    _log(
        f"cluster up: {server}, NodePorts {window} on node IP {netns.NODE_IP} "
        f"in network namespace {info['netns']}{hollow}",
        started,
    )
    return info


def gateway_port(info):
    """The host port (the last of the NodePort window) that carries connections to the gateway's listener."""
    return info["node_port_range"][1]


def gateway_url(info=None):
    """http://127.0.0.1:<port>/: the Gateway's listener, from the host's loopback (settings gateway on)."""
    info = info or load()
    if not dict(DEFAULT_SETTINGS, **info["settings"])["gateway"]:
        raise RuntimeError("this cluster runs without a gateway (setting gateway: false)")
    return f"http://127.0.0.1:{gateway_port(info)}/"


def restart(name, kill=False):
    """Stop one component and start it again with the same ports and data (fault tests, dev).

    kill: SIGKILL it, as a crash would, instead of asking it to stop.
    """
    info = load()
    if name in info["processes"]:
        procs.stop(info["processes"][name], kill=kill)
    _start(name, info)
    _wait_healthy(name, info)


def down():
    """Stop everything recorded, pods included; leave the state directory's files for inspection.

    Nothing else is left behind: sandboxes, shims, mounts, cgroups and the namespace go.
    """
    info = load()
    if not info:
        return []
    stopped = []
    for name in reversed(order(dict(DEFAULT_SETTINGS, **info["settings"]))):
        if name == "containerd" and procs.alive(info["processes"].get(name, {"pid": 0})):
            realnode.remove_sandboxes(info)  # the kubelet is stopped by now, so none comes back
        if name in info["processes"] and procs.stop(info["processes"][name]):
            stopped.append(name)
    problems = realnode.down(info)
    netns.delete(info["netns"])
    for problem in problems:
        _log(f"left behind: {problem}", time.monotonic())
    os.remove(paths.CLUSTER_FILE)
    return stopped
