"""Each real-node cluster's private network namespace: the only place its 10.x addresses exist.

The namespace is sealed: no default route and no interface that leads out of it, so a packet
for a pod, a Service or the node can go nowhere but to something inside. Daemons start in it
with argv(); the host's own tools reach in one socket at a time with connect().
"""

import contextlib
import ctypes
import hashlib
import ipaddress
import json
import os
import socket
import subprocess

NODE_IP = "10.250.0.1"
SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.244.0.0/16"
NODE_DEVICE = "node0"
NETNS_DIR = "/run/netns"

CLONE_NEWNET = 0x40000000
# Destinations a route may have without leading anywhere the namespace does not hold.
_INSIDE = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "::1/128", "fe80::/10")]
# Route types that deliver locally or drop; only unicast routes send a packet out of a device.
_NOT_SENT = {"local", "broadcast", "multicast", "anycast", "unreachable", "blackhole", "prohibit", "throw"}
# sysctl -> why the node needs it; the bridge one exists only when br_netfilter is loaded.
_SYSCTLS = {
    "net/ipv4/ip_forward": "pods reach Services and each other through the node",
    "net/ipv4/conf/all/route_localnet": "kube-proxy's iptables mode answers NodePorts on 127.0.0.1",
}
_BRIDGE_SYSCTL = "net/bridge/bridge-nf-call-iptables"  # pod-to-pod over cni0 must see kube-proxy's DNAT


class NamespaceError(OSError):
    """A namespace that is missing, or a thread that could not enter or leave one."""


def name_for(state_dir):
    """The namespace name of the cluster kept in state_dir: short, stable, one per directory."""
    return "nodowntime-" + hashlib.sha256(os.path.realpath(state_dir).encode()).hexdigest()[:8]


def path(name):
    return os.path.join(NETNS_DIR, name)


def exists(name):
    return os.path.exists(path(name))


def argv(name, command):
    """command, started inside the namespace.

    nsenter rather than `ip netns exec`: the latter remounts /sys for its child, which a
    kubelet or containerd must not inherit.
    """
    return ["nsenter", f"--net={path(name)}", "--", *command]


def create(name):
    """A fresh sealed namespace: lo, node0 with NODE_IP/32, a route for Services, node sysctls."""
    delete(name)
    _ip("netns", "add", name)
    try:
        _ip("-n", name, "link", "set", "lo", "up")
        _add_node_device(name)
        _ip("-n", name, "addr", "add", f"{NODE_IP}/32", "dev", NODE_DEVICE)
        _ip("-n", name, "link", "set", NODE_DEVICE, "up")
        # A connection from inside to a ClusterIP needs some route before kube-proxy's DNAT in
        # OUTPUT can rewrite it: with none, connect() fails with ENETUNREACH first.
        _ip("-n", name, "route", "add", SERVICE_CIDR, "dev", NODE_DEVICE)
        _set_sysctls(name)
    except BaseException:
        delete(name)
        raise


def delete(name):
    """Remove the namespace if it is there; processes still inside keep it alive until they exit."""
    if exists(name):
        _ip("netns", "delete", name)


def _add_node_device(name):
    # A dummy device is the usual home of a node IP. Kernels without CONFIG_DUMMY (the test
    # machines' among them) get an ifb device instead: it too drops whatever is sent to it.
    try:
        _ip("-n", name, "link", "add", NODE_DEVICE, "type", "dummy")
    except NamespaceError:
        _ip("-n", name, "link", "add", NODE_DEVICE, "type", "ifb")


def _set_sysctls(name):
    # /proc/sys/net shows the namespace of the process reading it, so the writes run inside.
    writes = [f"echo 1 > /proc/sys/{key}" for key in _SYSCTLS]
    writes.append(f"if [ -e /proc/sys/{_BRIDGE_SYSCTL} ]; then echo 1 > /proc/sys/{_BRIDGE_SYSCTL}; fi")
    _run(argv(name, ["sh", "-ec", "\n".join(writes)]))


def leaks(name):
    """What would let a packet out of the namespace, one line each; empty when it is sealed."""
    found = [_route_leak(route) for route in _routes(name)]
    for link in _json(["ip", "-d", "-j", "-n", name, "link", "show"]):
        found.append(_link_leak(link))
    found.extend(_host_veths_into(name))
    return [f for f in found if f]


def _routes(name):
    for family in ("-4", "-6"):
        yield from _json(["ip", "-j", family, "-n", name, "route", "show", "table", "all"])


def _route_leak(route):
    if route.get("type", "unicast") in _NOT_SENT:
        return None
    dst = route.get("dst", "default")
    via = route.get("gateway") or f"dev {route.get('dev', '?')}"
    if dst == "default":
        return f"default route via {via}"
    net = ipaddress.ip_network(dst, strict=False)
    if not any(net.version == inside.version and net.subnet_of(inside) for inside in _INSIDE):
        return f"route to {dst} via {via}: outside 10.0.0.0/8, 127.0.0.0/8 and link-local"
    return None


def _link_leak(link):
    kind = link.get("linkinfo", {}).get("info_kind")
    ifname = link["ifname"]
    if link.get("link_type") == "loopback" or kind in ("bridge", "veth"):
        return None
    if ifname == NODE_DEVICE and kind in ("dummy", "ifb"):
        return None
    return f"interface {ifname} ({kind or link.get('link_type')}): only lo, {NODE_DEVICE}, bridges and veths belong"


def _host_veths_into(name):
    # From inside, a veth to the host and a veth to a pod look alike (a peer netnsid, no
    # name: pod namespaces are not under /run/netns either). From this side the cluster's
    # namespace has a name, so a host link whose peer lives there is told apart for sure.
    # The link dump comes first: listing a link is what makes the kernel assign the nsid.
    host_links = _json(["ip", "-j", "link", "show"])
    ids = {e["nsid"] for e in _json(["ip", "-j", "netns", "list-id"]) if e.get("name") == name}
    return [
        f"host interface {link['ifname']} has its peer in {name}: a way out to the host"
        for link in host_links
        if link.get("link_netnsid") in ids
    ]


def socket_in(name, family=socket.AF_INET, kind=socket.SOCK_STREAM):
    """A new socket that belongs to the namespace, whichever thread uses it later."""
    with _entered(name):
        return socket.socket(family, kind)


def connect(name, host, port, timeout):
    """A TCP socket connected to host:port from inside the namespace (host: an IPv4 literal)."""
    try:
        addr = ipaddress.IPv4Address(host)
    except ValueError:
        # A name would be resolved by this host's resolver, outside the namespace.
        raise ValueError(f"connect inside {name}: {host!r} is not an IPv4 address") from None
    sock = socket_in(name)
    try:
        sock.settimeout(timeout)
        sock.connect((str(addr), int(port)))
    except BaseException:
        sock.close()
        raise
    return sock


@contextlib.contextmanager
def _entered(name):
    """The calling thread inside the namespace for the block, and back in its own after."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        try:
            target = os.open(path(name), os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise NamespaceError(f"network namespace {name!r} does not exist (no {path(name)})") from None
        try:
            _setns(target, f"could not enter network namespace {name!r}")
        finally:
            os.close(target)
        try:
            yield
        finally:
            # A thread left inside would carry every later socket of its own into the cluster.
            _setns(own, f"thread stuck in network namespace {name!r}: could not return to its own")
    finally:
        os.close(own)


_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd, failure):
    # Only this thread moves (Python 3.11 has no os.setns); CLONE_NEWNET allows that in a
    # multithreaded process, unlike the mount and user namespaces.
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise NamespaceError(err, f"{failure}: {os.strerror(err)}")


def _ip(*args):
    _run(["ip", *args])


def _json(command):
    return json.loads(_run(command) or "[]")


def _run(command):
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise NamespaceError(f"{' '.join(command)} failed: {(done.stderr or done.stdout).strip()}")
    return done.stdout
