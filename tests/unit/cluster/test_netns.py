"""The cluster's network namespace, created for real: sealed, reachable from inside only, gone after delete.

No test sends a packet to a non-loopback address from the host's namespace: where the host's
side matters, the host's routing table is asked instead (ip route get sends nothing).
"""

import json
import os
import socket
import subprocess
import threading

import pytest
from clusterhelpers import free_port, random_loopback
from nshelpers import InsideServer, echo, thread_netns, throwaway

from localcluster import netns


@pytest.fixture
def ns():
    with throwaway() as name:
        yield name


def _ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True)


def _sysctl(name, key):
    done = subprocess.run(netns.argv(name, ["cat", f"/proc/sys/{key}"]), check=True, capture_output=True, text=True)
    return done.stdout.strip()


def _roundtrip(sock, data=b"ping"):
    with sock:
        sock.sendall(data)
        return sock.recv(100)


def test_name_is_stable_short_and_per_state_dir(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert netns.name_for(str(a)) == netns.name_for(str(a) + "/.") != netns.name_for(str(b))
    assert netns.name_for(str(a)).startswith("nodowntime-")
    assert len(netns.name_for(str(a))) == len("nodowntime-") + 8


def test_argv_enters_with_nsenter():
    assert netns.argv("x", ["kubelet", "--v=2"]) == ["nsenter", "--net=/run/netns/x", "--", "kubelet", "--v=2"]


def test_created_namespace_is_sealed_and_set_up_as_a_node(ns):
    assert netns.exists(ns)
    assert netns.leaks(ns) == []
    routes = json.loads(
        subprocess.run(["ip", "-j", "-n", ns, "route"], check=True, capture_output=True, text=True).stdout
    )
    assert {r["dst"] for r in routes} == {netns.SERVICE_CIDR}  # and no default
    assert _sysctl(ns, "net/ipv4/ip_forward") == "1"
    assert _sysctl(ns, "net/ipv4/conf/all/route_localnet") == "1"


def test_create_replaces_a_leftover(ns):
    _ip("-n", ns, "route", "add", "default", "dev", netns.NODE_DEVICE)
    netns.create(ns)
    assert netns.leaks(ns) == []


def test_connect_reaches_loopback_and_node_ip_inside(ns):
    for host in ("127.0.0.1", netns.NODE_IP):
        server = InsideServer(ns, echo, host=host)
        try:
            assert _roundtrip(netns.connect(ns, host, server.port, timeout=2)) == b"ping"
        finally:
            server.close()


def test_node_ip_is_not_an_address_of_the_host():
    # Asking the host's routing table sends nothing; a connect would follow its default route out.
    done = subprocess.run(["ip", "-j", "route", "get", netns.NODE_IP], check=False, capture_output=True, text=True)
    routes = json.loads(done.stdout or "[]")
    assert all(r.get("type") != "local" for r in routes)


def test_loopback_inside_is_not_the_hosts(ns):
    host = random_loopback()
    server = InsideServer(ns, echo, host=host, port=free_port(host))
    try:
        with pytest.raises(ConnectionRefusedError):
            # The same address and port on the host's own loopback, where nothing listens.
            socket.create_connection((host, server.port), timeout=2).close()
    finally:
        server.close()


LEAKS = [
    pytest.param([["-n", "{ns}", "route", "add", "default", "dev", "node0"]], "default route", id="default-route"),
    pytest.param(
        [["-n", "{ns}", "-6", "route", "add", "default", "dev", "node0"]], "default route", id="ipv6-default-route"
    ),
    pytest.param(
        [["-n", "{ns}", "route", "add", "192.0.2.0/24", "dev", "node0"]], "route to 192.0.2.0/24", id="route-outside"
    ),
    pytest.param([["-n", "{ns}", "link", "add", "eth9", "type", "ifb"]], "interface eth9", id="foreign-interface"),
    # The host's end stays down: nothing is sent on it.
    pytest.param(
        [["link", "add", "ut{pid}", "type", "veth", "peer", "name", "in{pid}", "netns", "{ns}"]],
        "host interface ut",
        id="veth-to-the-host",
    ),
]


@pytest.mark.parametrize("commands, reported", LEAKS)
def test_leaks_reports_a_way_out(ns, commands, reported):
    for command in commands:
        _ip(*(arg.format(ns=ns, pid=os.getpid() % 100000) for arg in command))
    try:
        found = netns.leaks(ns)
        assert len(found) == 1 and reported in found[0], found
    finally:
        subprocess.run(["ip", "link", "del", f"ut{os.getpid() % 100000}"], check=False, capture_output=True)


def test_veth_between_namespace_and_a_pod_is_no_leak(ns):
    # A pod's veth has its peer in another namespace too, just not the host's.
    pod = f"{ns}-pod"
    _ip("netns", "add", pod)
    try:
        _ip("-n", ns, "link", "add", "cni0", "type", "bridge")
        _ip("-n", ns, "link", "add", "veth1", "type", "veth", "peer", "name", "eth0", "netns", pod)
        _ip("-n", ns, "link", "set", "veth1", "master", "cni0")
        assert netns.leaks(ns) == []
    finally:
        _ip("netns", "delete", pod)


def test_connect_leaves_the_thread_where_it_was(ns):
    before = thread_netns()
    server = InsideServer(ns, echo)
    netns.connect(ns, "127.0.0.1", server.port, timeout=2).close()
    server.close()
    with pytest.raises(ConnectionRefusedError):
        netns.connect(ns, "127.0.0.1", 1, timeout=2)
    with pytest.raises(netns.NamespaceError, match="does not exist"):
        netns.connect("nodowntime-unittest-absent", "127.0.0.1", 1, timeout=2)
    assert thread_netns() == before


def test_connect_from_many_threads_at_once(ns):
    server = InsideServer(ns, echo)
    before, results = thread_netns(), []

    def one(i):
        reply = _roundtrip(netns.connect(ns, "127.0.0.1", server.port, timeout=5), b"%d" % i)
        results.append((reply == b"%d" % i, thread_netns() == before))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    server.close()
    assert results == [(True, True)] * 40


def test_connect_refuses_names(ns):
    with pytest.raises(ValueError, match="not an IPv4 address"):
        netns.connect(ns, "localhost", 80, timeout=1)


def test_delete_removes_it_and_is_idempotent():
    with throwaway() as name:
        netns.delete(name)
        assert not netns.exists(name)
        assert not os.path.exists(netns.path(name))
        netns.delete(name)
