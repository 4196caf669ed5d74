"""The network rule, enforced: this cluster's tools connect only inside 127.0.0.0/8."""

import ipaddress
import socket

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


class ForbiddenAddress(ValueError):
    pass


def check_loopback(host):
    """Return host as an IPv4 string if it is in 127.0.0.0/8, else raise ForbiddenAddress.

    Names are not resolved: a name could point anywhere, so only 'localhost' is accepted.
    """
    if host == "localhost":
        return "127.0.0.1"
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        raise ForbiddenAddress(f"refusing to connect to {host!r}: only 127.0.0.0/8 addresses are allowed") from None
    if addr not in LOOPBACK:
        raise ForbiddenAddress(f"refusing to connect to {host}: only 127.0.0.0/8 addresses are allowed")
    return str(addr)


def connect(host, port, timeout):
    """socket.create_connection, after checking the network rule."""
    return socket.create_connection((check_loopback(host), port), timeout=timeout)
