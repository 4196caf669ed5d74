"""The host ports: host loopback in, the same port inside a throwaway namespace out (the API's on its
loopback, a NodePort's on the node IP)."""

import socket
import subprocess
import sys

import pytest
from clusterhelpers import free_port
from nshelpers import InsideServer, echo, throwaway

from localcluster.netns import NODE_IP


@pytest.fixture
def forwarded():
    """(namespace, API port, forwarder process), with a one-port NodePort window at API port + 1 (when free);
    nothing listens inside until a test starts it."""
    with throwaway() as ns:
        port = free_port("127.0.0.1")
        node_port = port + 1
        argv = ["--netns", ns, "--api-port", str(port), "--node-ports", f"{node_port}-{node_port}"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "localcluster.hostports", *argv], stdout=subprocess.PIPE, text=True
        )
        try:
            assert proc.stdout.readline() == (
                f"hostports: 127.0.0.1:{port} -> {ns} 127.0.0.1:{port}; "
                f"127.0.0.1:{node_port}-{node_port} -> {ns} {NODE_IP}:{node_port}-{node_port}\n"
            )
            yield ns, port, proc
        finally:
            proc.kill()
            proc.wait(5)


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


def test_a_refused_connections_source_port_is_held_and_others_are_not():
    from localcluster import hostports, netns

    with throwaway() as ns:
        port = free_port("127.0.0.1")
        forwarder = hostports.Forwarder(ns, {port: "127.0.0.1"})
        with pytest.raises(ConnectionRefusedError):
            forwarder._dial("127.0.0.1", port)  # nothing listens inside
        ((_until, holder),) = forwarder._held
        held = holder.getsockname()[1]
        probe = netns.socket_in(ns)
        with pytest.raises(OSError, match="in use"):
            probe.bind(("0.0.0.0", held))
        probe.close()

        server = InsideServer(ns, echo, port=port)
        try:
            sock = forwarder._dial("127.0.0.1", port)
            assert sock.getsockname()[1] != held and len(forwarder._held) == 1
            sock.close()
        finally:
            server.close()
