"""The independent observer: its own watches on one namespace, every change timestamped on arrival.

    with Observer(kube, namespace) as obs:
        ... change something ...
        t = obs.wait(lambda: obs.complete_at("web", generation), timeout=60)

    marks={"failing": ("pods", lambda pod: ...)}: each time an object of that kind comes to satisfy the
    test (false, or unseen, before), the moment is kept; obs.marked_at("failing", after=t) gives the first.

Times are time.monotonic(), which on Linux is one clock for every process on the host, so
they line up with the moments other processes (the tools, the modules' timelines) record.
Each watch is read raw, line by line, and stamped before the JSON is parsed.
"""

import contextlib
import json
import threading
import time

from kubernetes import client

KINDS = {
    "deployments": lambda api: client.AppsV1Api(api).list_namespaced_deployment,
    "pods": lambda api: client.CoreV1Api(api).list_namespaced_pod,
    "endpointslices": lambda api: client.DiscoveryV1Api(api).list_namespaced_endpoint_slice,
    "services": lambda api: client.CoreV1Api(api).list_namespaced_service,
}
WATCH_SECONDS = 60


def _lines(resp):
    buf = b""
    for chunk in resp.stream(65536, decode_content=True):
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.strip():
                yield time.monotonic(), line


def complete(d):
    """kubectl rollout status's "successfully rolled out", on the raw object."""
    spec, status, meta = d.get("spec") or {}, d.get("status") or {}, d["metadata"]
    want = spec.get("replicas", 1)
    return (
        status.get("observedGeneration", 0) >= meta.get("generation", 0)
        and status.get("updatedReplicas", 0) == want
        and status.get("replicas", 0) == want
        and status.get("availableReplicas", 0) == want
    )


def _pod_milestones(p):
    """Which of a pod's start-up milestones its raw object shows reached."""
    status = p.get("status") or {}
    containers = status.get("containerStatuses") or []
    conditions = {c["type"]: c["status"] for c in status.get("conditions") or []}
    return {
        "created": True,
        "scheduled": bool((p.get("spec") or {}).get("nodeName")),
        "started": bool(containers) and all("running" in (c.get("state") or {}) for c in containers),
        "ready": conditions.get("Ready") == "True",
    }


def _matches(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


def _labels(obj):
    return obj["metadata"].get("labels") or {}


class Observer:
    def __init__(self, kube, namespace, kinds=("deployments", "pods"), watch_seconds=WATCH_SECONDS, marks=None):
        self.kube, self.namespace, self.kinds, self.watch_seconds = kube, namespace, kinds, watch_seconds
        # mark -> (kind, test(raw object)); (mark, uid) -> whether it held; mark -> [(t, object name)] rising edges
        self.marks, self._held, self.marked = dict(marks or {}), {}, {}
        self.objects = {kind: {} for kind in kinds}
        # name -> [(t, generation, complete, settled)], appended when any of the three changes
        self.deployments = {}
        # service -> [(t, frozenset of ready endpoint pod names)], appended when it changes
        self.endpoints = {}
        # service -> [(t, selector)], appended when it changes
        self.selectors = {}
        # [(t, what)]: each new Deployment generation (spec change, scale) and Service selector seen
        self.changes = []
        # pod name -> {milestone: t} for created, scheduled, started, ready: when each was first seen
        self.pods = {}
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._responses = {}
        self._synced = set()
        self._threads = []
        # deployment name -> (its selector, uids of the pods it matches): see _pods_of
        self._matching = {}

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def start(self, timeout=30):
        for kind in self.kinds:
            t = threading.Thread(target=self._follow, args=(kind,), name=f"observe-{kind}", daemon=True)
            t.start()
            self._threads.append(t)
        self.wait(lambda: len(self._synced) == len(self.kinds) or None, timeout, "the observer's first lists")
        return self

    def stop(self):
        self._stop.set()
        for resp in list(self._responses.values()):
            with contextlib.suppress(Exception):  # already closed
                resp.shutdown()
        for t in self._threads:
            t.join(5)

    def _follow(self, kind):
        list_fn = KINDS[kind](self.kube.api)
        version = None
        while not self._stop.is_set():
            kwargs = {"resource_version": version} if version else {}
            try:
                if version is None:  # list first: the watch starts from exactly that state
                    listed = list_fn(self.namespace, _preload_content=False)
                    body = json.loads(listed.data)
                    version = body["metadata"]["resourceVersion"]
                    with self._lock:
                        self.objects[kind] = {o["metadata"]["uid"]: o for o in body["items"]}
                        if kind == "pods":
                            self._matching = {}
                        self._synced.add(kind)
                        self._evaluate(time.monotonic(), kind)
                    continue
                resp = list_fn(
                    self.namespace,
                    watch=True,
                    allow_watch_bookmarks=True,
                    timeout_seconds=self.watch_seconds,
                    _preload_content=False,
                    **kwargs,
                )
                self._responses[kind] = resp
                for t, line in _lines(resp):
                    event = json.loads(line)
                    obj = event["object"]
                    if event["type"] == "ERROR":
                        version = None  # 410 Gone: list again
                        break
                    version = obj["metadata"].get("resourceVersion") or version
                    if event["type"] == "BOOKMARK":
                        continue
                    self.record(t, kind, event["type"], obj)
            except Exception:  # noqa: BLE001  a dropped stream: watch again from the last version
                if self._stop.wait(0.2):
                    return

    def record(self, t, kind, event_type, obj):
        """One watch event (ADDED, MODIFIED, DELETED) of kind, seen at t."""
        with self._lock:
            gone = event_type == "DELETED"
            if gone:
                self.objects[kind].pop(obj["metadata"]["uid"], None)
            else:
                self.objects[kind][obj["metadata"]["uid"]] = obj
            if kind == "pods":
                self._count_pod(obj, gone)
            self._evaluate(t, kind, [] if gone else [obj])

    def _evaluate(self, t, kind, changed=None):
        """Record what the objects of kind show at t.  changed: the objects an event added or modified (None
        after a list: all), which alone the per-object records (pod milestones, marks) look at: thousands of
        pods would otherwise cost thousands of looks per event, and the observer fell seconds behind the API."""
        if kind in ("deployments", "pods") and "deployments" in self.objects:
            for d in self.objects["deployments"].values():
                name, done = d["metadata"]["name"], complete(d)
                settled = False
                if done and "pods" in self.objects:
                    settled = len(self._pods_of(d)) == d["spec"].get("replicas", 1)
                entry = (t, d["metadata"].get("generation", 0), done, settled)
                log = self.deployments.setdefault(name, [])
                if log and entry[1] > log[-1][1]:
                    self.changes.append((t, f"deployment {name} generation {entry[1]}"))
                if not log or log[-1][1:] != entry[1:]:
                    log.append(entry)
        if kind == "pods":
            for p in self.objects["pods"].values() if changed is None else changed:
                seen = self.pods.setdefault(p["metadata"]["name"], {})
                for milestone, reached in _pod_milestones(p).items():
                    if reached:
                        seen.setdefault(milestone, t)
        if kind == "endpointslices":
            ready = {}
            for s in self.objects["endpointslices"].values():
                service = (s["metadata"].get("labels") or {}).get("kubernetes.io/service-name")
                names = ready.setdefault(service, set())
                for ep in s.get("endpoints") or []:
                    if (ep.get("conditions") or {}).get("ready") and ep.get("targetRef"):
                        names.add(ep["targetRef"]["name"])
            for service, names in ready.items():
                log = self.endpoints.setdefault(service, [])
                names = frozenset(names)
                if not log or log[-1][1] != names:
                    log.append((t, names))
        if kind == "services":
            for svc in self.objects["services"].values():
                log = self.selectors.setdefault(svc["metadata"]["name"], [])
                selector = (svc.get("spec") or {}).get("selector") or {}
                if not log or log[-1][1] != selector:
                    if log:
                        self.changes.append((t, f"service {svc['metadata']['name']} selector"))
                    log.append((t, selector))
        for mark, (mark_kind, test) in self.marks.items():
            if mark_kind != kind:
                continue
            for obj in self.objects[kind].values() if changed is None else changed:
                uid = obj["metadata"]["uid"]
                held = bool(test(obj))
                if held and not self._held.get((mark, uid)):
                    self.marked.setdefault(mark, []).append((t, obj["metadata"]["name"]))
                self._held[(mark, uid)] = held
        self._lock.notify_all()

    def _pods_of(self, deployment):
        """The uids of the pods the Deployment's selector matches, listed once per selector and then kept by
        _count_pod as pods come and go (a count per event would read every pod each time)."""
        name, selector = deployment["metadata"]["name"], deployment["spec"]["selector"].get("matchLabels") or {}
        kept = self._matching.get(name)
        if kept is None or kept[0] != selector:
            pods = self.objects.get("pods", {})
            kept = self._matching[name] = (selector, {uid for uid, p in pods.items() if _matches(selector, _labels(p))})
        return kept[1]

    def _count_pod(self, pod, gone):
        uid = pod["metadata"]["uid"]
        for selector, uids in self._matching.values():
            if not gone and _matches(selector, _labels(pod)):
                uids.add(uid)
            else:
                uids.discard(uid)

    # Queries: each returns a monotonic time or None (not yet).

    def changed_at(self, name, generation):
        """When the observer first saw the Deployment at generation (or later)."""
        return self._first(name, lambda e: e[1] >= generation)

    def complete_at(self, name, generation):
        """When it first saw generation complete as kubectl rollout status defines it."""
        return self._first(name, lambda e: e[1] >= generation and e[2])

    def settled_at(self, name, generation):
        """When it first saw generation complete with every old pod gone from the API, Terminating ones too."""
        return self._first(name, lambda e: e[1] >= generation and e[3])

    def endpoints_at(self, service, predicate, after=0.0):
        """When the Service's ready endpoints (a set of pod names) first satisfied predicate, at or after `after`."""
        with self._lock:
            log = self.endpoints.get(service, [])
            for i, (t, names) in enumerate(log):
                end = log[i + 1][0] if i + 1 < len(log) else None
                if predicate(names) and (end is None or end >= after):
                    return max(t, after)
        return None

    def selector_at(self, service, selector, after=0.0):
        """When the observer first saw the Service with exactly this selector, at or after `after`."""
        with self._lock:
            for t, seen in self.selectors.get(service, []):
                if seen == selector and t >= after:
                    return t
        return None

    def first_change(self, after):
        """When the observer first saw a Deployment's spec or a Service's selector change, at or after `after`."""
        with self._lock:
            return next((t for t, _change in self.changes if t >= after), None)

    def marked_at(self, mark, after=0.0):
        """When an object first came to satisfy the mark's test, at or after `after`; None if none has."""
        with self._lock:
            return next((t for t, _name in self.marked.get(mark, []) if t >= after), None)

    def pod_milestones(self):
        """{pod name: {milestone: t}} so far (a copy)."""
        with self._lock:
            return {name: dict(seen) for name, seen in self.pods.items()}

    def pod_image(self, name):
        """The first container image of the pod called name, if the observer knows it (call inside a query)."""
        for p in self.objects.get("pods", {}).values():
            if p["metadata"]["name"] == name:
                return p["spec"]["containers"][0]["image"]
        return None

    def _first(self, name, test):
        with self._lock:
            for entry in self.deployments.get(name, []):
                if test(entry):
                    return entry[0]
        return None

    def wait(self, query, timeout, what="the observer"):
        """Block until query() returns something other than None; return it.  TimeoutError names what."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                value = query()
                if value is not None:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
                self._lock.wait(min(remaining, 1.0))
