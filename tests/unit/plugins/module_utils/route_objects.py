"""HTTPRoute builders for the route tests; a fake API server holding one route, which applies RFC 6902
patches as the API server does (test, add, replace, remove: what traffic_weight sends), and the two Services'
EndpointSlices."""

import copy
import threading

from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.errors import ApiError

ROOT = [{"path": {"type": "PathPrefix", "value": "/"}}]


def ref(name, weight=1, port=8080):
    return {"group": "", "kind": "Service", "name": name, "port": port, "weight": weight}


def route(rules, annotations=None, generation=3, status=None):
    meta = {"name": "web", "namespace": "shop", "generation": generation}
    if annotations is not None:
        meta["annotations"] = annotations
    obj = {"metadata": meta, "spec": {"parentRefs": [{"name": "edge"}], "rules": rules}}
    if status is not None:
        obj["status"] = status
    return obj


class PatchTestFailed(ValueError):
    """A `test` operation found another value: the API server refuses the whole patch."""


def _walk(doc, path):
    keys = [k.replace("~1", "/").replace("~0", "~") for k in path.split("/")[1:]]
    parent = doc
    for key in keys[:-1]:
        parent = parent[int(key)] if isinstance(parent, list) else parent[key]
    last = keys[-1]
    return parent, int(last) if isinstance(parent, list) else last


def apply_json_patch(doc, ops):
    doc = copy.deepcopy(doc)
    for op in ops:
        parent, key = _walk(doc, op["path"])
        if op["op"] == "test":
            if parent[key] != op["value"]:
                raise PatchTestFailed(f"testing value {op['path']} failed")
        elif op["op"] == "remove":
            del parent[key]
        elif op["op"] == "add" and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(op["value"]))
        else:  # add to an object, replace
            parent[key] = copy.deepcopy(op["value"])
    return doc


def accepting(obj):
    generation = obj["metadata"]["generation"]
    conditions = [{"type": t, "status": "True", "observedGeneration": generation} for t in ("Accepted", "ResolvedRefs")]
    return [{"parentRef": {"name": "edge"}, "controllerName": "gw", "conditions": conditions}]


def rejecting(obj):
    generation = obj["metadata"]["generation"]
    conditions = [
        {"type": "Accepted", "status": "True", "observedGeneration": generation},
        {
            "type": "ResolvedRefs",
            "status": "False",
            "observedGeneration": generation,
            "reason": "BackendNotFound",
            "message": "service shop/web-canary not found",
        },
    ]
    return [{"parentRef": {"name": "edge"}, "controllerName": "gw", "conditions": conditions}]


def endpoint_slice(service, ready=True, pod="p1"):
    """One EndpointSlice of service listing one pod, ready or not."""
    labels = {"kubernetes.io/service-name": service}
    endpoint = {"addresses": ["10.244.0.9"], "conditions": {"ready": ready}, "targetRef": {"kind": "Pod", "name": pod}}
    return {"metadata": {"name": f"{service}-x", "namespace": "shop", "labels": labels}, "endpoints": [endpoint]}


SERVING = {service: [endpoint_slice(service)] for service in ("web", "web-canary")}


class FakeApi:
    """One HTTPRoute. A JSON patch is applied as the API server does (all or nothing, generation + 1 when the
    spec changes); the gateway writes status.parents for each generation with gateway(route).

    services: {name: its EndpointSlices as listed} (a name not in it is a Service not found); arriving: the
    (type, EndpointSlice) events the EndpointSlice watch then brings. requests: (verb, kind) in order."""

    def __init__(self, obj, gateway=accepting, meddle=None, services=None, arriving=()):
        self.route, self.gateway, self.meddle = copy.deepcopy(obj), gateway, meddle
        self.services, self.arriving = SERVING if services is None else services, list(arriving)
        self.patches, self.requests, self.closed = [], [], threading.Event()
        self.route["status"] = {"parents": gateway(self.route)}

    def get(self, kind, namespace, name):
        self.requests.append(("get", kind))
        if kind == "Service":
            if name not in self.services:
                raise ApiError(404, "NotFound", f'services "{name}" not found')
            return {"metadata": {"name": name, "namespace": namespace}}
        assert (kind, namespace, name) == ("HTTPRoute", "shop", "web")
        return copy.deepcopy(self.route)

    def patch(self, kind, namespace, name, ops, patch_type, dry_run):
        assert patch_type == "json"
        self.requests.append(("patch", kind))
        self.patches.append((ops, dry_run))
        if self.meddle:
            self.meddle(self.route)
        try:
            after = apply_json_patch(self.route, ops)
        except PatchTestFailed as e:
            raise ApiError(422, "Invalid", "invalid HTTPRoute", str(e)) from None
        if after["spec"] != self.route["spec"]:
            after["metadata"]["generation"] += 1
        if not dry_run:
            self.route = after
            self.route["status"] = {"parents": self.gateway(self.route)}
        return copy.deepcopy(after)

    def list(self, kind, namespace, label_selector=None, field_selector=None, keep=None):
        self.requests.append(("list", kind))
        if kind == "EndpointSlice":
            items = copy.deepcopy(self.services[label_selector.split("=")[1]])
        else:
            assert field_selector == "metadata.name=web"
            items = [copy.deepcopy(self.route)]
        return [keep(item) for item in items] if keep else items, "1"

    def watch(self, kind, *args, **kwargs):
        self.requests.append(("watch", kind))
        if kind == "EndpointSlice":
            yield from self.arriving
            self.arriving = []
        self.closed.wait(5)

    def close_streams(self):
        self.closed.set()
