"""Writes pod statuses to pods/status: coalesced per pod, only when something changed.

Pod workers call set() as often as they like; a few writer threads send the newest
status of each dirty pod (a strategic merge patch: the node's conditions merge by type,
other writers' conditions survive).
"""

import collections
import logging
import threading
import time

from kubernetes.client.exceptions import ApiException

from . import status as podstatus

log = logging.getLogger("status")


class StatusManager:
    def __init__(self, kube, writers=4):
        self.kube = kube
        self._cond = threading.Condition()
        self._pending = {}  # uid -> (namespace, name, status)
        self._queue = collections.deque()
        self._in_flight = set()
        self._written = {}  # uid -> last status the API has (written or read)
        self._writers = [threading.Thread(target=self._run, name=f"status-{i}", daemon=True) for i in range(writers)]
        self.writes = 0

    def start(self):
        for t in self._writers:
            t.start()

    def seed(self, uid, status):
        """The status the API already holds (from a list or watch), so it is not rewritten."""
        with self._cond:
            if uid not in self._written and status:
                self._written[uid] = status

    def set(self, uid, namespace, name, status):
        with self._cond:
            base = self._pending.get(uid, (None, None, self._written.get(uid)))[2]
            if not podstatus.changed(status, base) and uid not in self._pending:
                return False
            if uid not in self._pending and uid not in self._in_flight:
                self._queue.append(uid)
            self._pending[uid] = (namespace, name, status)
            self._cond.notify()
            return True

    def flush(self, uid, timeout=30):
        """Wait until the newest status of uid has been written (or given up on)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while uid in self._pending or uid in self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def forget(self, uid):
        with self._cond:
            self._written.pop(uid, None)
            self._pending.pop(uid, None)

    def _run(self):
        while True:
            with self._cond:
                while not self._queue:
                    self._cond.wait()
                uid = self._queue.popleft()
                if uid not in self._pending or uid in self._in_flight:
                    continue
                namespace, name, status = self._pending.pop(uid)
                self._in_flight.add(uid)
            ok = self._write(uid, namespace, name, status)
            with self._cond:
                self._in_flight.discard(uid)
                if ok:
                    self._written[uid] = status
                elif ok is None and uid not in self._pending:
                    self._pending[uid] = (namespace, name, status)  # retry
                if uid in self._pending:
                    self._queue.append(uid)
                self._cond.notify_all()

    def _write(self, uid, namespace, name, status):
        """True on success, False when the pod is gone (drop), None to retry."""
        try:
            self.kube.patch_pod_status(namespace, name, uid, status)
            self.writes += 1
            return True
        except ApiException as e:
            if e.status in (404, 409, 422):
                log.info(
                    "status of %s/%s not written (%s %s): pod gone or replaced",
                    namespace,
                    name,
                    e.status,
                    (e.body or e.reason or "")[:300],
                )
                return False
            log.warning(
                "status write %s/%s failed: %s %s; retrying",
                namespace,
                name,
                e.status,
                (e.body or e.reason or "")[:300],
            )
        except Exception as e:  # noqa: BLE001 - connection trouble: retry
            log.warning("status write %s/%s failed: %s; retrying", namespace, name, e)
        time.sleep(1)
        return None
