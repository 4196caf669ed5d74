"""Pod addresses: each pod IP in 10.244.0.0/16 has a loopback twin 127.244.x.y.

The API refuses loopback addresses in EndpointSlices, so pods are published with a
pod-CIDR address that nothing ever dials; their processes bind the twin instead.
"""

import ipaddress

POD_CIDR = ipaddress.ip_network("10.244.0.0/16")
TWIN_CIDR = ipaddress.ip_network("127.244.0.0/16")


def twin(pod_ip):
    """The loopback address a pod with this pod IP listens on."""
    addr = ipaddress.ip_address(pod_ip)
    if addr not in POD_CIDR:
        raise ValueError(f"{pod_ip} is not in the pod CIDR {POD_CIDR}")
    return str(TWIN_CIDR.network_address + (int(addr) - int(POD_CIDR.network_address)))


def usable_pod_ips():
    """Every assignable pod IP, in order (network, broadcast-like .0/.255 hosts skipped)."""
    for addr in POD_CIDR.hosts():
        if addr.packed[3] not in (0, 255):
            yield str(addr)
