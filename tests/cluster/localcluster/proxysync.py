"""The proxy's sync loop: changes go in as they are observed and reach the forwarder
sync_delay seconds later, in order.

That lag models kube-proxy's propagation delay, the race that readiness probes and
preStop sleeps exist for, so it is kept on purpose.  This class is also the interface
endpoint sources feed (replace/put/delete), so the proxy is testable without an API.
"""

import threading
import time

from .proxyrules import ClusterState, DelayLine


class SyncedProxy:
    def __init__(self, forwarder, sync_delay, clock=time.monotonic):
        self._forwarder = forwarder
        self._clock = clock
        self._state = ClusterState()
        self._line = DelayLine(sync_delay)
        self._cond = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="sync", daemon=True)
        self._thread.start()

    def replace(self, kind, items):
        """Every object of kind, as a fresh list returned them."""
        self._observe((kind, "replace", list(items)))

    def put(self, kind, obj):
        self._observe((kind, "put", obj))

    def delete(self, kind, obj):
        self._observe((kind, "delete", obj))

    def close(self):
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join()

    def _observe(self, change):
        with self._cond:
            self._line.push(self._clock(), change)
            self._cond.notify()

    def _run(self):
        while True:
            with self._cond:
                while True:
                    if self._closing:
                        return
                    now, due_at = self._clock(), self._line.next_due()
                    if due_at is not None and due_at <= now:
                        changes = self._line.pop_due(now)
                        break
                    self._cond.wait(None if due_at is None else due_at - now)
            for change in changes:
                self._state.apply(change)
            # One recompute per batch: every change due by now lands together.
            self._forwarder.apply(self._state.routes())
