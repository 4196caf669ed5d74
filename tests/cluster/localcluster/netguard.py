"""The network rule, enforced: this cluster's tools connect only inside 127.0.0.0/8, or inside a
cluster's sealed network namespace (see netns.py), where its 10.x addresses cannot lead out.
"""

import ipaddress
import socket

from . import netns as _netns

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
# What a sealed namespace holds besides its loopback: nothing else there can be dialled.
INSIDE_NAMESPACE = (
    ipaddress.ip_network(f"{_netns.NODE_IP}/32"),
    ipaddress.ip_network(_netns.POD_CIDR),
    ipaddress.ip_network(_netns.SERVICE_CIDR),
)


class ForbiddenAddress(ValueError):
    pass


def check_loopback(host):
    """Return host as an IPv4 string if it is in 127.0.0.0/8, else raise ForbiddenAddress.

    Names are not resolved: a name could point anywhere, so only 'localhost' is accepted.
    """
    return _allowed(host, (LOOPBACK,), "only 127.0.0.0/8 addresses are allowed")


def check_inside(host, netns):
    """Return host as an IPv4 string if namespace netns holds it (loopback, node IP, pod or Service
    address), else raise ForbiddenAddress."""
    nets = (LOOPBACK, *INSIDE_NAMESPACE)
    return _allowed(host, nets, f"inside network namespace {netns} only {', '.join(map(str, nets))} are allowed")


def _allowed(host, nets, rule):
    if host == "localhost":
        return "127.0.0.1"
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        raise ForbiddenAddress(f"refusing to connect to {host!r}: {rule}") from None
    if not any(addr in net for net in nets):
        raise ForbiddenAddress(f"refusing to connect to {host}: {rule}")
    return str(addr)


def check(host, netns=None):
    """check_loopback(host) in this namespace, check_inside(host, netns) in a cluster's."""
    return check_loopback(host) if netns is None else check_inside(host, netns)


def connect(host, port, timeout, netns=None):
    """socket.create_connection, after checking the network rule; from inside netns if given."""
    if netns is None:
        return socket.create_connection((check_loopback(host), port), timeout=timeout)
    return _netns.connect(netns, check_inside(host, netns), port, timeout)
