"""The proxy's pure part: from Services and EndpointSlices (API JSON dicts) to routes.

A route says where new connections to one node port go: the ready, non-terminating
endpoints of that Service port, as loopback twins, in a stable order for round robin.
"""

import logging
from collections import deque
from dataclasses import dataclass

from . import podnet

log = logging.getLogger("proxy")

SERVICES = "services"
SLICES = "slices"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"


@dataclass(frozen=True)
class Route:
    service: str  # "namespace/name:port-name", for the log
    backends: tuple  # ((twin_ip, port), ...) sorted; empty means refuse


def _key(obj):
    meta = obj["metadata"]
    return meta.get("namespace", ""), meta["name"]


class ClusterState:
    """The Services and EndpointSlices the proxy has applied so far, changed one change at a time.

    A change is (kind, op, payload): op "put" or "delete" with one object, or
    "replace" with every object of that kind (after a fresh list).
    """

    def __init__(self):
        self.objects = {SERVICES: {}, SLICES: {}}

    def apply(self, change):
        kind, op, payload = change
        store = self.objects[kind]
        if op == "put":
            store[_key(payload)] = payload
        elif op == "delete":
            store.pop(_key(payload), None)
        elif op == "replace":
            self.objects[kind] = {_key(obj): obj for obj in payload}
        else:
            raise ValueError(f"unknown change op {op!r}")

    def routes(self):
        """{node_port: Route} for every TCP port with a nodePort of every Service."""
        slices_by_service = {}
        for (namespace, _slice_name), eps in self.objects[SLICES].items():
            service = eps["metadata"].get("labels", {}).get(SERVICE_NAME_LABEL)
            if service:
                slices_by_service.setdefault((namespace, service), []).append(eps)
        routes = {}
        for (namespace, name), svc in self.objects[SERVICES].items():
            for port in svc.get("spec", {}).get("ports", []):
                if not port.get("nodePort") or port.get("protocol", "TCP") != "TCP":
                    continue
                port_name = port.get("name") or ""
                routes[port["nodePort"]] = Route(
                    service=f"{namespace}/{name}:{port_name or port['port']}",
                    backends=ready_backends(slices_by_service.get((namespace, name), []), port_name),
                )
        return routes


def ready_backends(slices, port_name):
    """Twin (ip, port) of each ready, non-terminating endpoint, for the Service port named port_name.

    As kube-proxy does, a slice port matches a Service port by name (the endpointslice
    controller names it after the Service port and resolves targetPort into its number).
    """
    backends = set()
    for eps in slices:
        if eps.get("addressType", "IPv4") != "IPv4":
            continue
        numbers = [
            p["port"]
            for p in eps.get("ports") or []
            if (p.get("name") or "") == port_name and p.get("protocol", "TCP") == "TCP" and p.get("port")
        ]
        if not numbers:
            continue
        for endpoint in eps.get("endpoints") or []:
            if not usable(endpoint.get("conditions") or {}) or not endpoint.get("addresses"):
                continue
            try:
                ip = podnet.twin(endpoint["addresses"][0])
            except ValueError as e:
                log.warning("slice %s/%s: skipping endpoint: %s", *_key(eps), e)
                continue
            backends.add((ip, numbers[0]))
    return tuple(sorted(backends))


def usable(conditions):
    # The API says a missing ready means ready and a missing terminating means not terminating.
    return conditions.get("ready") is not False and conditions.get("terminating") is not True


class DelayLine:
    """Changes observed at t come out at t + delay, in the order they went in."""

    def __init__(self, delay):
        self.delay = delay
        self._queue = deque()

    def push(self, now, item):
        self._queue.append((now + self.delay, item))

    def next_due(self):
        return self._queue[0][0] if self._queue else None

    def pop_due(self, now):
        due = []
        while self._queue and self._queue[0][0] <= now:
            due.append(self._queue.popleft()[1])
        return due


class RoundRobin:
    """Picks backends in turn; the turn survives backend changes, so no backend is favoured."""

    def __init__(self):
        self._turn = 0

    def pick(self, backends):
        backend = backends[self._turn % len(backends)]
        self._turn += 1
        return backend
