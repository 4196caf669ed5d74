"""Feeds a proxy sink (replace/put/delete) from the API: list, then watch from the
list's resourceVersion; re-list on 410 Gone, re-watch from the last seen version after
a disconnect.  Objects stay raw JSON dicts: nothing here needs the client's models.
"""

import json
import logging
import random
import threading

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.watch.watch import iter_resp_lines

from .proxyrules import SERVICES, SLICES

log = logging.getLogger("proxy")

WATCH_SECONDS = 300  # server-side end of each watch; jittered so the two don't renew together
MAX_BACKOFF = 5.0


class Gone(Exception):
    """The resourceVersion is too old to watch from: list again."""


def api_lists(api_client):
    """The list functions a Watcher calls, by kind (with watch=True they watch)."""
    return {
        SERVICES: client.CoreV1Api(api_client).list_service_for_all_namespaces,
        SLICES: client.DiscoveryV1Api(api_client).list_endpoint_slice_for_all_namespaces,
    }


class Watcher:
    def __init__(self, lists, sink):
        self.sink = sink
        self._stopping = threading.Event()
        self._lists = lists
        # Last resourceVersion seen per kind, kept through a dropped watch so the next
        # watch resumes there; None means list first.
        self.versions = dict.fromkeys(lists)
        self._threads = [
            threading.Thread(target=self._run, args=(kind,), name=f"watch-{kind}", daemon=True) for kind in self._lists
        ]

    def start(self):
        for thread in self._threads:
            thread.start()

    def stop(self):
        # The threads may sit in a blocking read; they are daemons and die with the process.
        self._stopping.set()

    def _run(self, kind):
        backoff = 0.2
        while not self._stopping.is_set():
            try:
                if self.versions[kind] is None:
                    self._list(kind)
                self._watch(kind)
                backoff = 0.2
            except Gone:
                log.info("%s: resourceVersion %s expired, listing again", kind, self.versions[kind])
                self.versions[kind] = None
            except Exception as e:  # noqa: BLE001 - a dropped connection, an apiserver restart: retry, never give up
                log.warning("%s: %s: %s; retrying in %.1fs", kind, type(e).__name__, e, backoff)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)

    def _list(self, kind):
        resp = self._lists[kind](_preload_content=False, _request_timeout=(10, 60))
        doc = json.loads(resp.data)
        self.sink.replace(kind, doc["items"])
        self.versions[kind] = doc["metadata"]["resourceVersion"]
        log.info("%s: listed %d at resourceVersion %s", kind, len(doc["items"]), self.versions[kind])

    def _watch(self, kind):
        """Stream events from the last version seen until the server ends the watch."""
        seconds = int(WATCH_SECONDS * random.uniform(1.0, 1.5))
        try:
            resp = self._lists[kind](
                watch=True,
                resource_version=self.versions[kind],
                allow_watch_bookmarks=True,
                timeout_seconds=seconds,
                _preload_content=False,
                _request_timeout=(10, seconds + 30),
            )
        except ApiException as e:
            if e.status == 410:
                raise Gone() from e
            raise
        try:
            for line in iter_resp_lines(resp):
                if not line.strip():
                    continue
                event = json.loads(line)
                kind_of_event, obj = event["type"], event["object"]
                if kind_of_event == "ERROR":
                    if obj.get("code") == 410:
                        raise Gone()
                    raise RuntimeError(f"watch error {obj.get('code')}: {obj.get('message')}")
                self.versions[kind] = obj["metadata"]["resourceVersion"]
                if kind_of_event in ("ADDED", "MODIFIED"):
                    self.sink.put(kind, obj)
                elif kind_of_event == "DELETED":
                    self.sink.delete(kind, obj)
                if self._stopping.is_set():
                    break
        finally:
            resp.close()
            resp.release_conn()
