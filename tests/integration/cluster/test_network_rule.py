"""The network rule on the running cluster: its namespace is sealed, its addresses live only in there,
and kube-proxy's rules were written in there, not on the host. Nothing here sends a packet to a
non-loopback address from the host's namespace: the host's side is asked (routing table, rule sets)."""

import ipaddress
import json
import subprocess

import pytest

from localcluster import gateway, httpget, netguard, netns, workloads


def _host_route(address):
    """What the host's own routing table would do with a packet for address (`ip route get` sends nothing)."""
    out = subprocess.run(["ip", "-j", "route", "get", address], capture_output=True, text=True, check=False).stdout
    return json.loads(out or "[{}]")[0]


def test_the_clusters_namespace_is_sealed(kube):
    ns = kube.info["netns"]
    assert netns.leaks(ns) == []
    routes = subprocess.run(["ip", "-n", ns, "route", "show"], capture_output=True, text=True, check=True).stdout
    assert "default" not in routes, routes


def test_a_pod_answers_inside_and_is_nowhere_outside(kube, namespace, deploy):
    deploy(workloads.deployment("web", workloads.demo_container("1"), replicas=1))
    pod = kube.core.list_namespaced_pod(namespace, label_selector="app=web").items[0]
    pod_ip = pod.status.pod_ip
    assert ipaddress.ip_address(pod_ip) in ipaddress.ip_network(netns.POD_CIDR)

    outcome, status, (version, name), _error = httpget.get(pod_ip, 8080, "/", timeout=5, netns=kube.info["netns"])
    assert (outcome, status, version, name) == ("ok", 200, "1", pod.metadata.name)

    # From the host the harness refuses before any packet, and the host holds no such address.
    with pytest.raises(netguard.ForbiddenAddress):
        netguard.connect(pod_ip, 8080, timeout=5)
    for address in (pod_ip, netns.NODE_IP, "10.96.0.1"):
        route = _host_route(address)
        assert route.get("type") != "local" and route.get("dev") not in ("cni0", netns.NODE_DEVICE), route


def test_kube_proxys_rules_are_inside_the_namespace_only(kube, namespace, deploy):
    deploy(workloads.deployment("web", workloads.demo_container("1"), replicas=1))
    inside = subprocess.run(
        netns.argv(kube.info["netns"], ["iptables-save", "-t", "nat"]), capture_output=True, text=True, check=True
    ).stdout
    assert f"{namespace}/web:http" in inside
    host = subprocess.run(["iptables-save", "-t", "nat"], capture_output=True, text=True, check=False).stdout
    assert namespace not in host and "KUBE-SERVICES" not in host


def _sockets(argv, process):
    """(state, local, peer) of every TCP/UDP socket of the named process that `ss` shows."""
    out = subprocess.run([*argv, "ss", "-Htuanp"], capture_output=True, text=True, check=True).stdout
    return [tuple(line.split()[1:2] + line.split()[4:6]) for line in out.splitlines() if f'"{process}"' in line]


def test_the_gateway_listens_and_dials_only_inside_the_namespace(kube):
    inside = _sockets(netns.argv(kube.info["netns"], []), "traefik")
    listening = {local for state, local, _peer in inside if state in ("LISTEN", "UNCONN")}
    assert listening == {f"{netns.NODE_IP}:{gateway.LISTENER_PORT}", f"127.0.0.1:{gateway.PING_PORT}"}, inside
    cluster_addresses = [
        ipaddress.ip_network(n) for n in ("127.0.0.0/8", netns.POD_CIDR, netns.SERVICE_CIDR, f"{netns.NODE_IP}/32")
    ]
    for _state, _local, peer in inside:
        if peer.rsplit(":", 1)[0] not in ("*", "0.0.0.0"):
            address = ipaddress.ip_address(peer.rsplit(":", 1)[0])
            assert any(address in network for network in cluster_addresses), inside
    assert _sockets([], "traefik") == []
