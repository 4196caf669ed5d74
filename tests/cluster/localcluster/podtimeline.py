"""Ready pods per version over time, from a pod watch: the other half of the demo's picture."""

import threading
import time

from kubernetes import watch
from kubernetes.client.exceptions import ApiException


class PodTimeline:
    """Watches one namespace's pods; samples() gives (seconds, {version: ready pods}) at every change."""

    def __init__(self, core, namespace, t0):
        self.core, self.namespace, self.t0 = core, namespace, t0
        self.samples = []
        self._ready = {}  # pod name -> version, for ready pods only
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        # List first, so the picture starts from the whole current state rather than a burst of ADDED events.
        pods = self.core.list_namespaced_pod(self.namespace)
        for pod in pods.items:
            self._observe("ADDED", pod, record=False)
        self._record()
        self._thread = threading.Thread(
            target=self._run, args=(pods.metadata.resource_version,), name="pod-timeline", daemon=True
        )
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)
        self._record()  # the state at the end, so every line reaches the right edge

    def _run(self, resource_version):
        while not self._stop.is_set():
            try:
                # Short windows so stop() is honoured promptly; each resumes where the last ended.
                for event in watch.Watch().stream(
                    self.core.list_namespaced_pod, self.namespace, timeout_seconds=2, resource_version=resource_version
                ):
                    resource_version = event["object"].metadata.resource_version
                    self._observe(event["type"], event["object"])
            except ApiException as e:
                if e.status != 410:
                    raise
                resource_version = None  # expired: start again from the current state

    def _observe(self, kind, pod, record=True):
        name = pod.metadata.name
        ready = (
            kind != "DELETED"
            and pod.metadata.deletion_timestamp is None
            and any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])
        )
        before = dict(self._ready)
        if ready:
            self._ready[name] = pod.spec.containers[0].image.rsplit(":", 1)[-1]
        else:
            self._ready.pop(name, None)
        if record and self._ready != before:
            self._record()

    def _record(self):
        counts = {}
        for version in self._ready.values():
            counts[version] = counts.get(version, 0) + 1
        self.samples.append((round(time.monotonic() - self.t0, 3), counts))
