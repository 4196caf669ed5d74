"""The service proxy: its rules on API objects, the sync delay, and real forwarding fed by a fake source."""

import json
import os
import random
import socket
import time

import pytest
from clusterhelpers import TcpServer, eventually, free_port

from localcluster import splice
from localcluster.proxyforward import Forwarder
from localcluster.proxyrules import SERVICES, SLICES, ClusterState, DelayLine, RoundRobin, Route, usable
from localcluster.proxysync import SyncedProxy
from localcluster.proxywatch import Watcher


def service(name, ports, namespace="ns", type_="NodePort"):
    return {"metadata": {"namespace": namespace, "name": name}, "spec": {"type": type_, "ports": ports}}


def endpoint(ip, ready=True, terminating=None):
    conditions = {"ready": ready}
    if terminating is not None:
        conditions["terminating"] = terminating
    return {"addresses": [ip], "conditions": conditions}


def eps(name, service_name, ports, endpoints, namespace="ns", address_type="IPv4"):
    return {
        "metadata": {"namespace": namespace, "name": name, "labels": {"kubernetes.io/service-name": service_name}},
        "addressType": address_type,
        "ports": ports,
        "endpoints": endpoints,
    }


# --- rules ---------------------------------------------------------------------------------------


def test_routes_pick_ready_endpoints_by_port_name_as_twins():
    state = ClusterState()
    state.apply(
        (
            SERVICES,
            "put",
            service(
                "web",
                [
                    {"name": "http", "port": 80, "targetPort": "web", "nodePort": 30080, "protocol": "TCP"},
                    {"name": "admin", "port": 81, "targetPort": 9000, "nodePort": 30081},
                    {"name": "internal", "port": 82, "targetPort": 9001},  # no nodePort: not ours
                ],
            ),
        )
    )
    state.apply((SERVICES, "put", service("db", [{"port": 5432, "targetPort": 5432}], type_="ClusterIP")))
    state.apply(
        (
            SLICES,
            "put",
            eps(
                "web-a",
                "web",
                [{"name": "http", "port": 8080}, {"name": "admin", "port": 9000}],
                [
                    endpoint("10.244.0.7"),
                    endpoint("10.244.1.2", ready=None),  # unset ready means ready
                    endpoint("10.244.0.8", ready=False),
                    endpoint("10.244.0.9", ready=False, terminating=True),
                    endpoint("192.168.0.1"),  # not a pod IP: no twin, skipped
                ],
            ),
        )
    )
    state.apply((SLICES, "put", eps("web-b", "web", [{"name": "http", "port": 8080}], [endpoint("10.244.0.3")])))
    state.apply(
        (
            SLICES,
            "put",
            eps("web-v6", "web", [{"name": "http", "port": 8080}], [endpoint("fd00::1")], address_type="IPv6"),
        )
    )
    state.apply((SLICES, "put", eps("other", "other", [{"name": "http", "port": 8080}], [endpoint("10.244.0.4")])))

    assert state.routes() == {
        30080: Route("ns/web:http", (("127.244.0.3", 8080), ("127.244.0.7", 8080), ("127.244.1.2", 8080))),
        30081: Route("ns/web:admin", (("127.244.0.7", 9000), ("127.244.1.2", 9000))),
    }


def test_unnamed_single_port_service_matches_unnamed_slice_port():
    state = ClusterState()
    state.apply((SERVICES, "put", service("web", [{"port": 80, "targetPort": 8080, "nodePort": 30080}])))
    state.apply((SLICES, "put", eps("web-a", "web", [{"name": "", "port": 8080}], [endpoint("10.244.0.7")])))
    assert state.routes() == {30080: Route("ns/web:80", (("127.244.0.7", 8080),))}


def test_service_without_slices_routes_nowhere_and_delete_and_replace():
    state = ClusterState()
    web = service("web", [{"name": "http", "port": 80, "nodePort": 30080}])
    state.apply((SERVICES, "put", web))
    assert state.routes() == {30080: Route("ns/web:http", ())}
    state.apply((SERVICES, "delete", web))
    assert state.routes() == {}
    state.apply((SERVICES, "replace", [web, service("api", [{"name": "http", "port": 80, "nodePort": 30090}])]))
    assert set(state.routes()) == {30080, 30090}
    state.apply((SERVICES, "replace", []))
    assert state.routes() == {}


@pytest.mark.parametrize(
    "conditions, expected",
    [
        ({}, True),
        ({"ready": True}, True),
        ({"ready": True, "serving": True, "terminating": False}, True),
        ({"ready": False}, False),
        ({"ready": False, "serving": True, "terminating": True}, False),
        ({"ready": True, "terminating": True}, False),
    ],
)
def test_usable_endpoint_conditions(conditions, expected):
    assert usable(conditions) is expected


def test_delay_line_keeps_order_and_delay():
    line = DelayLine(1.0)
    line.push(0.0, "a")
    line.push(0.5, "b")
    line.push(0.5, "c")
    assert line.next_due() == 1.0
    assert line.pop_due(0.99) == []
    assert line.pop_due(1.0) == ["a"]
    assert line.next_due() == 1.5
    assert line.pop_due(9) == ["b", "c"]
    assert line.next_due() is None


def test_round_robin_takes_turns_across_backend_changes():
    rr = RoundRobin()
    assert [rr.pick("AB") for _request in range(4)] == list("ABAB")
    assert sorted(rr.pick("ABC") for _request in range(3)) == list("ABC")  # each gets one turn per round


class FakeForwarder:
    def __init__(self):
        self.applied = []

    def apply(self, routes):
        self.applied.append((time.monotonic(), routes))


def test_synced_proxy_applies_changes_after_the_delay_in_order():
    fake = FakeForwarder()
    proxy = SyncedProxy(fake, sync_delay=0.3)
    try:
        web = service("web", [{"name": "http", "port": 80, "nodePort": 30080}])
        observed = time.monotonic()
        proxy.put(SERVICES, web)
        proxy.put(SLICES, eps("web-a", "web", [{"name": "http", "port": 8080}], [endpoint("10.244.0.7")]))
        proxy.put(SLICES, eps("web-a", "web", [{"name": "http", "port": 8080}], [endpoint("10.244.0.8")]))
        time.sleep(0.15)
        assert fake.applied == []
        eventually(lambda: fake.applied, timeout=1)
        applied_at, routes = fake.applied[-1]
        assert applied_at - observed >= 0.3
        assert routes == {30080: Route("ns/web:http", (("127.244.0.8", 8080),))}  # the last change won
    finally:
        proxy.close()


# --- forwarding, with a fake endpoint source -------------------------------------------------------


def reply_after_eof(name):
    """A backend that answers only once the client half-closes: name, then what it read."""

    def handle(conn):
        data = b""
        while chunk := conn.recv(4096):
            data += chunk
        conn.sendall(name.encode() + b":" + data)

    return handle


def echo_lines(name):
    def handle(conn):
        for line in conn.makefile("rb"):
            conn.sendall(name.encode() + b":" + line)

    return handle


def ask(port, payload=b"hi"):
    """Connect to the node port, send payload, half-close, read the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        return s.makefile("rb").read().decode()


def refused(port):
    try:
        ask(port)
    except ConnectionRefusedError:
        return True
    return False


@pytest.fixture
def pods():
    """Backends on the twins of pod IPs 10.244.250.x (same port, like one Deployment's pods)."""
    third = random.randint(200, 250)
    servers = []

    def start(names, handler=reply_after_eof):
        port = 0
        started = {}
        for i, name in enumerate(names, start=1):
            server = TcpServer(handler(name), host=f"127.244.{third}.{i}", port=port)
            port = server.port
            servers.append(server)
            started[name] = f"10.244.{third}.{i}"
        return started, port

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def proxy():
    forwarder = Forwarder()
    synced = SyncedProxy(forwarder, sync_delay=0.3)
    yield synced, forwarder
    synced.close()
    forwarder.close()


def publish(proxy, node_port, target_port, endpoints):
    proxy.put(SERVICES, service("web", [{"name": "http", "port": 80, "nodePort": node_port}]))
    proxy.put(SLICES, eps("web-x", "web", [{"name": "http", "port": target_port}], endpoints))


def test_forwards_round_robin_and_follows_endpoint_changes_after_the_delay(proxy, pods):
    synced, forwarder = proxy
    ips, target_port = pods(["A", "B"])
    node_port = free_port("127.0.0.1")

    publish(synced, node_port, target_port, [endpoint(ips["A"]), endpoint(ips["B"])])
    assert refused(node_port)  # not synced yet
    eventually(lambda: not refused(node_port), timeout=2)
    answers = [ask(node_port, b"x") for _request in range(4)]
    assert sorted(answers) == ["A:x", "A:x", "B:x", "B:x"]
    assert answers[0] != answers[1]

    # B starts terminating: it keeps its traffic until the change syncs, then gets none.
    changed = time.monotonic()
    publish(synced, node_port, target_port, [endpoint(ips["A"]), endpoint(ips["B"], ready=False, terminating=True)])
    assert {ask(node_port) for _request in range(4)} == {"A:hi", "B:hi"}
    eventually(lambda: {ask(node_port) for _request in range(4)} == {"A:hi"}, timeout=2)
    assert time.monotonic() - changed >= 0.3

    # No ready endpoint at all: refused, as a REJECT rule does.
    publish(synced, node_port, target_port, [endpoint(ips["A"], ready=False)])
    eventually(lambda: refused(node_port), timeout=2)

    publish(synced, node_port, target_port, [endpoint(ips["B"])])
    eventually(lambda: not refused(node_port) and ask(node_port) == "B:hi", timeout=2)

    synced.delete(SERVICES, service("web", []))
    eventually(lambda: refused(node_port), timeout=2)
    assert forwarder.listening_ports() == set()


def test_existing_connections_keep_flowing_when_endpoints_change(proxy, pods):
    synced, forwarder = proxy
    ips, target_port = pods(["A", "B"], handler=echo_lines)
    node_port = free_port("127.0.0.1")
    publish(synced, node_port, target_port, [endpoint(ips["A"])])
    eventually(lambda: node_port in forwarder.listening_ports(), timeout=2)

    with socket.create_connection(("127.0.0.1", node_port), timeout=3) as s:
        lines = s.makefile("rb")
        s.sendall(b"one\n")
        assert lines.readline() == b"A:one\n"
        publish(synced, node_port, target_port, [endpoint(ips["B"])])
        time.sleep(0.5)
        s.sendall(b"two\n")
        assert lines.readline() == b"A:two\n"  # the flow stays with A
        publish(synced, node_port, target_port, [])
        eventually(lambda: refused(node_port), timeout=2)
        s.sendall(b"three\n")
        assert lines.readline() == b"A:three\n"  # even with the listener gone


def test_unreachable_backend_resets_the_client(proxy, pods):
    synced, forwarder = proxy
    ips, target_port = pods(["A"])
    node_port = free_port("127.0.0.1")
    publish(synced, node_port, target_port + 1 if target_port < 65535 else target_port - 1, [endpoint(ips["A"])])
    eventually(lambda: node_port in forwarder.listening_ports(), timeout=2)
    with pytest.raises(ConnectionResetError):
        ask(node_port)


def test_backend_reset_reaches_the_client(proxy, pods):
    synced, forwarder = proxy
    ips, target_port = pods(["A"], handler=lambda name: lambda conn: (conn.recv(10), splice.reset(conn)))
    node_port = free_port("127.0.0.1")
    publish(synced, node_port, target_port, [endpoint(ips["A"])])
    eventually(lambda: node_port in forwarder.listening_ports(), timeout=2)
    with socket.create_connection(("127.0.0.1", node_port), timeout=3) as s:
        s.sendall(b"hello")
        with pytest.raises(ConnectionResetError):
            s.makefile("rb").read()


def test_large_transfer_both_ways(proxy, pods):
    synced, forwarder = proxy
    ips, target_port = pods(["A"])
    node_port = free_port("127.0.0.1")
    publish(synced, node_port, target_port, [endpoint(ips["A"])])
    eventually(lambda: node_port in forwarder.listening_ports(), timeout=2)
    payload = os.urandom(300_000)
    with socket.create_connection(("127.0.0.1", node_port), timeout=5) as s:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        assert s.makefile("rb").read() == b"A:" + payload


# --- the API watcher, with fake list/watch calls ---------------------------------------------------


class FakeResponse:
    def __init__(self, data=b"", events=(), then=None):
        self.data = data
        self._lines = [json.dumps(e).encode() + b"\n" for e in events]
        self._then = then  # raised after the events: a dropped connection

    def stream(self, amt=None, decode_content=False):
        yield from self._lines
        if self._then:
            raise self._then

    def close(self):
        pass

    def release_conn(self):
        pass


class FakeApi:
    """Plays a script of responses; records every call's arguments."""

    def __init__(self, script, done):
        self.script, self.calls, self.done = list(script), [], done

    def __call__(self, **kwargs):
        self.calls.append(kwargs)
        if not self.script:
            self.done()
            raise ConnectionError("script over")
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


class RecordingSink:
    def __init__(self):
        self.changes = []

    def replace(self, kind, items):
        self.changes.append(("replace", [i["metadata"]["name"] for i in items]))

    def put(self, kind, obj):
        self.changes.append(("put", obj["metadata"]["name"]))

    def delete(self, kind, obj):
        self.changes.append(("delete", obj["metadata"]["name"]))


def obj(name, rv):
    return {"metadata": {"namespace": "ns", "name": name, "resourceVersion": rv}}


def test_watcher_lists_watches_rewatches_and_relists_on_gone():
    from kubernetes.client.exceptions import ApiException

    sink = RecordingSink()
    script = [
        FakeResponse(data=json.dumps({"metadata": {"resourceVersion": "10"}, "items": [obj("a", "9")]}).encode()),
        FakeResponse(
            events=[
                {"type": "ADDED", "object": obj("b", "11")},
                {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "15"}}},
            ],
            then=ConnectionResetError("dropped"),
        ),
        FakeResponse(
            events=[
                {"type": "MODIFIED", "object": obj("b", "16")},
                {"type": "DELETED", "object": obj("a", "17")},
                {"type": "ERROR", "object": {"code": 410, "message": "too old"}},
            ]
        ),
        FakeResponse(data=json.dumps({"metadata": {"resourceVersion": "30"}, "items": [obj("c", "29")]}).encode()),
        ApiException(status=410, reason="Gone"),
        FakeResponse(data=json.dumps({"metadata": {"resourceVersion": "40"}, "items": []}).encode()),
    ]
    watcher = None

    def stop_watcher():  # the watcher is made below, with this api
        watcher.stop()

    api = FakeApi(script, done=stop_watcher)
    watcher = Watcher({SERVICES: api}, sink)
    watcher.start()
    eventually(lambda: not watcher._threads[0].is_alive(), timeout=10)

    assert sink.changes == [
        ("replace", ["a"]),
        ("put", "b"),  # list, then watch from its version
        ("put", "b"),
        ("delete", "a"),  # re-watch from the bookmark's version after the drop
        ("replace", ["c"]),  # relist after the 410 in the stream
        ("replace", []),  # and after a 410 answer to the watch call
    ]
    versions = [(c.get("watch", False), c.get("resource_version")) for c in api.calls]
    assert versions[:6] == [(False, None), (True, "10"), (True, "15"), (False, None), (True, "30"), (False, None)]
    assert all(c.get("allow_watch_bookmarks") for c in api.calls if c.get("watch"))
