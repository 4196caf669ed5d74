"""The network rule: loopback only here; inside a cluster's sealed namespace, also its 10.x addresses."""

import pytest
from clusterhelpers import TcpServer
from nshelpers import InsideServer, answer_json, echo, throwaway

from localcluster import health, httpget, netguard, netns
from localcluster.meter import Meter

NS = "nodowntime-some-cluster"

RULE = [
    pytest.param("127.0.0.1", None, "127.0.0.1", id="loopback"),
    pytest.param("127.44.3.2", None, "127.44.3.2", id="any-of-127/8"),
    pytest.param("localhost", None, "127.0.0.1", id="localhost-is-the-only-name"),
    pytest.param(netns.NODE_IP, None, None, id="node-ip-is-not-here"),
    pytest.param("10.244.0.5", None, None, id="pod-ip-is-not-here"),
    pytest.param("10.96.0.1", None, None, id="service-ip-is-not-here"),
    pytest.param("192.168.1.1", None, None, id="lan"),
    pytest.param("example.com", None, None, id="name-here"),
    pytest.param("::1", None, None, id="ipv6-loopback-is-not-ipv4"),
    pytest.param("127.0.0.1", NS, "127.0.0.1", id="loopback-inside"),
    pytest.param("localhost", NS, "127.0.0.1", id="localhost-inside"),
    pytest.param(netns.NODE_IP, NS, netns.NODE_IP, id="node-ip-inside"),
    pytest.param("10.244.0.5", NS, "10.244.0.5", id="pod-ip-inside"),
    pytest.param("10.244.255.254", NS, "10.244.255.254", id="last-pod-ip-inside"),
    pytest.param("10.96.0.10", NS, "10.96.0.10", id="service-ip-inside"),
    pytest.param("10.250.0.2", NS, None, id="next-to-the-node-ip"),
    pytest.param("10.245.0.1", NS, None, id="just-past-the-pod-cidr"),
    pytest.param("10.0.0.1", NS, None, id="other-10-net"),
    pytest.param("8.8.8.8", NS, None, id="internet"),
    pytest.param("example.com", NS, None, id="name-inside"),
]


@pytest.mark.parametrize("host, ns, allowed", RULE)
def test_rule(host, ns, allowed):
    if allowed is None:
        with pytest.raises(netguard.ForbiddenAddress, match=f"refusing to connect to .*{host}"):
            netguard.check(host, ns)
    else:
        assert netguard.check(host, ns) == allowed


@pytest.mark.parametrize("host, ns", [("10.96.0.1", None), ("example.com", None), ("8.8.8.8", NS), ("10.1.0.1", NS)])
def test_connect_refuses_before_dialling(host, ns):
    # NS does not exist: a check that let the address through would fail with NamespaceError.
    with pytest.raises(netguard.ForbiddenAddress):
        netguard.connect(host, 80, 1, netns=ns)


def test_connect_without_namespace_is_as_before():
    server = TcpServer(echo)
    try:
        with netguard.connect(server.host, server.port, 2) as sock:
            sock.sendall(b"x")
            assert sock.recv(1) == b"x"
    finally:
        server.close()


@pytest.fixture(scope="module")
def node_app():
    """An app answering JSON on the node IP inside a throwaway namespace: (namespace, port)."""
    with throwaway() as ns:
        server = InsideServer(ns, answer_json({"version": "v3", "pod": "web-1"}), host=netns.NODE_IP)
        yield ns, server.port
        server.close()


def test_connect_inside(node_app):
    ns, _port = node_app
    server = InsideServer(ns, echo, host=netns.NODE_IP)
    try:
        with netguard.connect(netns.NODE_IP, server.port, 2, netns=ns) as sock:
            sock.sendall(b"x")
            assert sock.recv(1) == b"x"
    finally:
        server.close()


def test_httpget_inside(node_app):
    ns, port = node_app
    assert httpget.get(netns.NODE_IP, port, "/", 2, netns=ns) == ("ok", 200, ("v3", "web-1"), None)


def test_httpget_inside_refused_and_forbidden(node_app):
    ns, _port = node_app
    assert httpget.get(netns.NODE_IP, 1, "/", 2, netns=ns)[0] == "refused"
    outcome, *_rest, error = httpget.get("192.0.2.1", 80, "/", 2, netns=ns)
    assert (outcome, "refusing to connect" in error) == ("other", True)


def test_health_inside(node_app):
    ns, port = node_app
    status, body = health.get(netns.NODE_IP, str(port), "/", netns=ns)  # a port string, as "host:port".split gives
    assert status == 200 and '"v3"' in body
    assert health.get(netns.NODE_IP, 1, "/", netns=ns)[0] is None


def test_health_refuses_the_node_ip_from_the_host():
    with pytest.raises(netguard.ForbiddenAddress):
        health.get(netns.NODE_IP, 80, "/")


def test_meter_inside(node_app):
    ns, port = node_app
    with Meter(f"http://{netns.NODE_IP}:{port}/", rps=50, max_requests=20, netns=ns) as m:
        assert m.wait(5)
    s = m.summary
    assert (s["sent"], s["ok"], s["versions"], s["netns"]) == (20, 20, {"v3": 20}, ns)


def test_meter_refuses_the_node_ip_without_its_namespace():
    with pytest.raises(netguard.ForbiddenAddress):
        Meter(f"http://{netns.NODE_IP}:30080/")
