# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wait on the watch API until a pure verdict says done or failed, or a deadline passes.

    verdict, state = wait_until(client, sources, evaluate, timeout, timeline)

    sources   {key: Source(kind, namespace, label_selector=None, field_selector=None, keep=None, start=None)}
              keep: a function of one object returning what to hold of it (default: all of
              it), applied as each object arrives, so the objects themselves are not kept
              start: (objects, resourceVersion) to begin from instead of a list: what the
              caller already holds (the object its own write returned, say; or none of a
              kind when every object that matters is made after that write), watched from
              that version.  A start whose version the server cannot watch from (410 Gone,
              or a 504 "too large resource version") lists after all.
    evaluate  a pure function {key: [what is held of each current object]} -> verdict.Verdict,
              called after every burst of changes once every source has been listed
    timeout   seconds; at the deadline the verdict is failed("WaitTimeout", ...)
    timeline  a timeline.Timeline; each new verdict message and each connection problem
              is added to it
    returns   the verdict that ended the wait and the state it was reached on
    raises    errors.ApiError when a source cannot be read at all (forbidden, bad selector, ...)
              (a 403 while the watch is recovering from an outage is retried for a while
              first: see FORBIDDEN_AFTER_OUTAGE_SECONDS)

Each source is followed like an informer: list (or begin from its start), then watch from
that resourceVersion, re-watch from the last seen version when the stream ends or drops,
list again on 410 Gone.  Nothing ever sleeps to poll; the only pauses are the back-off
between reconnects while the API server is unreachable.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import namedtuple

from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.errors import ApiError
from ansible_collections.nodowntime.k8s.plugins.module_utils._status import verdict as v

Source = namedtuple(
    "Source", "kind namespace label_selector field_selector keep start", defaults=(None, None, None, None)
)

# Reconnect back-off while the API server is away (restarting, say); retrying without a
# pause would spin on "connection refused".
RETRY_FIRST, RETRY_MAX = 0.2, 3.0
# One watch request lasts at most this long before the server ends it and we re-watch.
WATCH_SECONDS = 300
_RETRYABLE = (429, 500, 502, 503, 504)
# A kube-apiserver that has just restarted serves requests for about half a second before its
# RBAC authorizer has loaded the Roles, and until then forbids every identity but system:masters
# (kubernetes/kubernetes#121635): "role ... not found".  So a 403 that follows a connection
# error, a 5xx or a broken stream, with no request served in between, is retried with the same
# back-off for this long before it is believed.  So is one from a server whose /readyz is not ok
# yet: a restart can fall between two requests of ours, with no error to show it (seen in the
# fault tests: the module's first list after its patch).  A 403 from a ready server, on a healthy
# connection, fails at once: a missing verb has to be named straight away, not after a wait.
FORBIDDEN_AFTER_OUTAGE_SECONDS = 10
_SYNC, _TROUBLE, _FATAL = "SYNC", "TROUBLE", "FATAL"


def wait_until(client, sources, evaluate, timeout, timeline):
    deadline = time.monotonic() + timeout
    events = queue.Queue()
    stop = threading.Event()
    caches = dict.fromkeys(sources)
    last = None
    for key, source in sources.items():
        threading.Thread(
            target=_follow, args=(client, key, source, events, stop, deadline), name=f"watch-{key}", daemon=True
        ).start()
    try:
        while True:
            remaining = deadline - time.monotonic()
            try:
                item = events.get(timeout=remaining) if remaining > 0 else None
            except queue.Empty:
                item = None
            if item is None:
                seen = last.message if last else "nothing observed yet"
                result = v.failed("WaitTimeout", f"timed out after {timeout:g}s waiting; last status: {seen}")
                timeline.add(result.message)
                return result, _snapshot(caches)
            _take(item, caches, timeline)
            # Evaluate once per burst: a rollout of many pods sends events in bunches.
            while True:
                try:
                    _take(events.get_nowait(), caches, timeline)
                except queue.Empty:
                    break
            if any(cache is None for cache in caches.values()):
                continue
            state = _snapshot(caches)
            result = evaluate(state)
            if last is None or result.message != last.message:
                timeline.add(result.message)
            last = result
            if result.state != v.WAITING:
                return result, state
    finally:
        stop.set()
        client.close_streams()


def _snapshot(caches):
    return {key: list((cache or {}).values()) for key, cache in caches.items()}


def _uid(obj):
    meta = obj["metadata"]
    return meta.get("uid") or (meta.get("namespace"), meta["name"])


def _take(item, caches, timeline):
    key, kind, payload = item
    if kind == _FATAL:
        raise payload
    if kind == _TROUBLE:
        if not timeline.entries or timeline.entries[-1]["message"] != payload:
            timeline.add(payload)
    elif kind == _SYNC:
        caches[key] = dict(payload)
    elif kind == "DELETED":
        caches[key].pop(payload[0], None)
    else:
        uid, held = payload
        caches[key][uid] = held


def _held(source):
    """(uid, what the wait holds of it) for one object, worked out in the watch thread."""
    keep = source.keep

    def held(obj):
        return _uid(obj), keep(obj) if keep else obj

    return held


def _follow(client, key, source, events, stop, deadline):
    version, delay = None, RETRY_FIRST
    selectors = {"label_selector": source.label_selector, "field_selector": source.field_selector}
    held = _held(source)
    if source.start is not None:
        objects, version = source.start
        events.put((key, _SYNC, [held(obj) for obj in objects]))
    # Until a watch from the start's version has been served, a 504 may say that version is one
    # this kind's watch cache never reaches (a kind kept in an etcd of its own): list instead.
    borrowed = source.start is not None
    # outage: the last request failed to connect, got a 5xx or its stream broke, and nothing
    # has been served since; forbidden_since: when the first 403 after that outage came.
    outage, forbidden_since = False, None
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            if version is None:
                items, version = client.list(source.kind, source.namespace, keep=held, **selectors)
                events.put((key, _SYNC, items))
                outage, forbidden_since = False, None
            started, got_any = time.monotonic(), False
            budget = min(WATCH_SECONDS, max(1, deadline - started + 1))
            for kind, obj in client.watch(source.kind, source.namespace, version, timeout_seconds=budget, **selectors):
                if stop.is_set():
                    return
                got_any, borrowed = True, False
                version = obj["metadata"].get("resourceVersion") or version
                if kind != "BOOKMARK":
                    events.put((key, kind, held(obj)))
            lasted = time.monotonic() - started
            # The server ends a healthy watch at its timeoutSeconds; earlier is a broken stream.
            outage = lasted < int(budget) - 1
            if got_any or lasted > 1:
                forbidden_since, delay, borrowed = None, RETRY_FIRST, False
                continue
            # A stream that ends at once with nothing in it is a sick connection, not news.
            stop.wait(delay)
            delay = min(delay * 2, RETRY_MAX)
        except ApiError as e:
            if e.gone or (borrowed and e.status == 504):
                version, borrowed = None, False  # the server forgot that far back, or cannot go there: list
            elif e.unreachable or e.status in _RETRYABLE:
                outage, forbidden_since = True, None
                events.put((key, _TROUBLE, f"{e.message}; retrying"))
                stop.wait(delay)
                delay = min(delay * 2, RETRY_MAX)
            elif (
                e.status == 403
                and not _believed(forbidden_since)
                and (outage or forbidden_since is not None or not client.ready())
            ):
                forbidden_since = forbidden_since or time.monotonic()
                settling = "the API server may not have loaded its RBAC rules since it came back"
                events.put((key, _TROUBLE, f"{e.message}; {settling}, retrying"))
                stop.wait(delay)
                delay = min(delay * 2, RETRY_MAX)
            else:
                events.put((key, _FATAL, e))
                return


def _believed(forbidden_since):
    """Whether 403s after an outage have gone on long enough to be a real lack of rights."""
    return forbidden_since is not None and time.monotonic() - forbidden_since >= FORBIDDEN_AFTER_OUTAGE_SECONDS
