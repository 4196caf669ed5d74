"""The host ports: host loopback in, the same port inside a throwaway namespace out (the API's on its
loopback, a NodePort's on the node IP)."""

import contextlib
import socket
import subprocess
import sys
import time

import pytest
from clusterhelpers import free_port
from nshelpers import InsideServer, echo, throwaway

from localcluster import hostports, netns, splice
from localcluster.netns import NODE_IP


@pytest.fixture
def forwarded():
    """(namespace, API port, forwarder process), with a one-port NodePort window at API port + 1;
    nothing listens inside until a test starts it."""
    with throwaway() as ns:
        port, node_port, reserved = _two_ports()
        argv = ["--netns", ns, "--api-port", str(port), "--node-ports", f"{node_port}-{node_port}"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "localcluster.hostports", *argv], stdout=subprocess.PIPE, text=True
        )
        try:
            assert proc.stdout.readline() == (
                f"hostports: 127.0.0.1:{port} -> {ns} 127.0.0.1:{port}; "
                f"127.0.0.1:{node_port}-{node_port} -> {ns} {NODE_IP}:{node_port}-{node_port}\n"
            )
            for sock in reserved:
                sock.close()
            yield ns, port, proc
        finally:
            proc.kill()
            proc.wait(5)


def _two_ports():
    """Two free loopback ports in a row, bound until the forwarder has bound them too (SO_REUSEADDR on both
    sides, neither listening here): a connection made meanwhile cannot take one as its source port."""
    while True:
        port = free_port("127.0.0.1")
        socks = []
        try:
            for p in (port, port + 1):
                sock = socket.socket()
                socks.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(("127.0.0.1", p))
        except OSError:
            for sock in socks:
                sock.close()
            continue
        return port, port + 1, socks


def _exchange(port, messages):
    """Send each message and read its echo on one connection; then half-close and expect EOF."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        replies = []
        for message in messages:
            sock.sendall(message)
            replies.append(sock.recv(65536))
        sock.shutdown(socket.SHUT_WR)
        replies.append(sock.recv(1))
        return replies


def test_carries_a_connection_both_ways_until_half_close(forwarded):
    ns, port, _proc = forwarded
    server = InsideServer(ns, echo, port=port)
    try:
        assert _exchange(port, [b"hello", b"again"]) == [b"hello", b"again", b""]
    finally:
        server.close()


def test_many_connections_at_once(forwarded):
    ns, port, _proc = forwarded
    server = InsideServer(ns, echo, port=port)
    try:
        socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _i in range(50)]
        for i, sock in enumerate(socks):
            sock.sendall(b"%d" % i)
        assert [sock.recv(100) for sock in socks] == [b"%d" % i for i in range(50)]
        for sock in socks:
            sock.close()
    finally:
        server.close()


def test_resets_while_the_api_server_is_down_and_survives_its_restart(forwarded):
    ns, port, proc = forwarded
    server = InsideServer(ns, echo, port=port)
    assert _exchange(port, [b"up"]) == [b"up", b""]
    server.close()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock, pytest.raises(ConnectionResetError):
        sock.recv(1)
    server = InsideServer(ns, echo, port=port)
    try:
        assert _exchange(port, [b"back"]) == [b"back", b""]
    finally:
        server.close()
    assert proc.poll() is None
    proc.kill()
    log = proc.stdout.read()
    assert "inner connect failed" in log and "inner connect works again" in log


def test_a_node_port_goes_to_the_node_ip_inside(forwarded):
    ns, port, _proc = forwarded
    server = InsideServer(ns, echo, host=NODE_IP, port=port + 1)
    try:
        assert _exchange(port + 1, [b"nodeport"]) == [b"nodeport", b""]
    finally:
        server.close()


def _echo_until_reset(conn):
    with contextlib.suppress(ConnectionResetError):
        echo(conn)


def _inside(ns, *command):
    return subprocess.run(netns.argv(ns, list(command)), check=True, capture_output=True, text=True).stdout


def _refusal_entries(ns, node_port):
    return [line for line in _inside(ns, "conntrack", "-L", "-p", "tcp").splitlines() if f"dport={node_port} " in line]


@pytest.mark.parametrize("port_free", [True, False], ids=["port-held", "port-in-use-entry-deleted"])
def test_a_refused_connection_leaves_nothing_a_later_connection_could_meet(port_free, monkeypatch):
    # kube-proxy REJECTs a SYN to a Service with no ready endpoint in INPUT, after conntrack confirmed the
    # node's own SYN: its entry (SYN_SENT, no NAT) would stay 120 s, and a later connection from the same
    # source port would skip the DNAT and be reset by the node itself. Twenty ephemeral ports make reuse certain.
    with throwaway() as ns:
        server = InsideServer(ns, _echo_until_reset, host=NODE_IP)
        _inside(ns, "sh", "-c", "echo 40000 40019 > /proc/sys/net/ipv4/ip_local_port_range")
        node_port = server.port + 1
        forwarder = hostports.Forwarder(ns, {})
        if not port_free:  # as when another connection, to another destination, has the port
            monkeypatch.setattr(forwarder, "_hold", lambda _port: False)
        rule = ["-p", "tcp", "-d", NODE_IP, "--dport", str(node_port)]
        to_server = ["-j", "DNAT", "--to-destination", f"{NODE_IP}:{server.port}"]
        # Some Service's DNAT, as kube-proxy always has: with a nat rule in place conntrack tracks every connection.
        _inside(ns, "iptables", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "--dport", str(node_port + 1), *to_server)
        _inside(ns, "iptables", "-A", "INPUT", *rule, "-j", "REJECT")
        for _i in range(3):
            with pytest.raises(ConnectionRefusedError):
                forwarder._dial(NODE_IP, node_port)
        if port_free:
            assert len(forwarder._held) == 3
        else:
            deadline = time.monotonic() + 10
            while _refusal_entries(ns, node_port) and time.monotonic() < deadline:
                time.sleep(0.05)  # the entries go in the background
            assert not forwarder._held and not _refusal_entries(ns, node_port)
        # The Service has its endpoint now.
        _inside(ns, "iptables", "-D", "INPUT", *rule, "-j", "REJECT")
        _inside(ns, "iptables", "-t", "nat", "-A", "OUTPUT", *rule, *to_server)
        try:
            for i in range(60):
                sock = forwarder._dial(NODE_IP, node_port)
                sock.sendall(b"%d" % i)
                assert sock.recv(10) == b"%d" % i
                splice.reset(sock)  # no TIME_WAIT: the port is free for the next connection at once
        finally:
            server.close()
