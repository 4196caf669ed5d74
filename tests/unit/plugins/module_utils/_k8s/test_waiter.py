"""The watch loop: list then watch, re-list on 410 Gone, re-watch on a drop, bounded by a deadline."""

import itertools
import threading
import time

import pytest

from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s import waiter
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.errors import ApiError
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.waiter import Source, wait_until
from ansible_collections.nodowntime.k8s.plugins.module_utils._release.timeline import Timeline
from ansible_collections.nodowntime.k8s.plugins.module_utils._status import verdict as v


def obj(step, rv):
    return {"metadata": {"name": "web", "uid": "u1", "resourceVersion": str(rv)}, "step": step}


class FakeClient:
    """Scripted lists and watches; a watch with nothing scripted blocks until the streams close."""

    def __init__(self, lists, watches):
        self.lists, self.watches = list(lists), list(watches)
        self.listed, self.watched = 0, []
        self.readiness = []  # what /readyz answers, in turn; then ready
        self.closed = threading.Event()

    def ready(self):
        return self.readiness.pop(0) if self.readiness else True

    def list(self, kind, namespace, label_selector=None, field_selector=None, keep=None):
        self.listed += 1
        items, version = self.lists.pop(0)
        return [keep(item) for item in items] if keep else items, version

    def watch(self, kind, namespace, resource_version, label_selector=None, field_selector=None, timeout_seconds=60):
        self.watched.append(resource_version)
        if not self.watches:
            self.closed.wait(5)
            return
        script = self.watches.pop(0)
        if isinstance(script, Exception):
            raise script
        yield from script

    def close_streams(self):
        self.closed.set()


def until_step(n):
    def evaluate(state):
        step = state["web"][0]["step"] if state["web"] else None
        return v.done(f"step {step}") if step == n else v.waiting(f"step {step}")

    return evaluate


SOURCES = {"web": Source("Deployment", "shop", field_selector="metadata.name=web")}


def test_watches_from_the_lists_version_and_records_each_change():
    client = FakeClient(
        [([obj(0, 10)], "10")], [[("MODIFIED", obj(1, 11)), ("MODIFIED", obj(1, 12)), ("MODIFIED", obj(2, 13))]]
    )
    timeline = Timeline()
    verdict, state = wait_until(client, SOURCES, until_step(2), 5, timeline)
    assert verdict.state == v.DONE and state["web"][0]["step"] == 2
    assert client.watched[0] == "10"  # a re-watch from "13" may race the end of the wait
    messages = [e["message"] for e in timeline.entries]
    # Events that arrive together are judged together, so the first entry may already be the last.
    assert messages[-1] == "step 2" and set(messages) <= {"step 0", "step 1", "step 2"}
    assert len(messages) == len(set(messages))  # only changes are recorded
    assert all(a["elapsed"] <= b["elapsed"] for a, b in itertools.pairwise(timeline.entries))
    assert client.closed.is_set()


def test_gone_lists_again():
    gone = ApiError(410, "Expired", "too old resource version")
    client = FakeClient([([obj(0, 10)], "10"), ([obj(2, 50)], "50")], [gone])
    verdict, _state = wait_until(client, SOURCES, until_step(2), 5, Timeline())
    assert verdict.state == v.DONE and client.listed == 2


def test_a_dropped_stream_is_watched_again_from_the_last_version():
    client = FakeClient(
        [([obj(0, 10)], "10")], [[("MODIFIED", obj(1, 11)), ("BOOKMARK", obj(1, 15))], [("MODIFIED", obj(2, 16))]]
    )
    verdict, _state = wait_until(client, SOURCES, until_step(2), 5, Timeline())
    assert verdict.state == v.DONE and client.watched[:2] == ["10", "15"] and client.listed == 1


def test_deleted_objects_leave_the_state():
    client = FakeClient([([obj(0, 10)], "10")], [[("DELETED", obj(0, 11))]])
    verdict, _state = wait_until(
        client, SOURCES, lambda s: v.failed("NotFound", "gone") if not s["web"] else v.waiting("x"), 5, Timeline()
    )
    assert verdict.reason == "NotFound"


def test_the_deadline_ends_the_wait_with_the_last_status():
    client = FakeClient([([obj(0, 10)], "10")], [])
    timeline = Timeline()
    started = time.monotonic()
    verdict, _state = wait_until(client, SOURCES, until_step(2), 0.3, timeline)
    assert 0.3 <= time.monotonic() - started < 2
    assert verdict.reason == "WaitTimeout" and "last status: step 0" in verdict.message
    assert timeline.entries[-1]["message"] == verdict.message


def test_an_unreachable_server_is_retried_and_reported():
    down = ApiError(None, "Unreachable", "cannot reach the API server")
    client = FakeClient([([obj(0, 10)], "10")], [down, [("MODIFIED", obj(2, 11))]])
    timeline = Timeline()
    verdict, _state = wait_until(client, SOURCES, until_step(2), 5, timeline)
    assert verdict.state == v.DONE
    assert any(e["message"] == "cannot reach the API server; retrying" for e in timeline.entries)


def test_forbidden_is_raised_not_retried():
    forbidden = ApiError(403, "Forbidden", "forbidden: needs verb 'watch' on deployments.apps in namespace 'shop'")
    client = FakeClient([([obj(0, 10)], "10")], [forbidden])
    with pytest.raises(ApiError, match="needs verb 'watch'"):
        wait_until(client, SOURCES, until_step(2), 5, Timeline())


FORBIDDEN = ApiError(403, "Forbidden", "forbidden: needs verb 'watch' on deployments.apps in namespace 'shop'")
DOWN = ApiError(None, "Unreachable", "cannot reach the API server")


@pytest.fixture
def fast_backoff(monkeypatch):
    monkeypatch.setattr(waiter, "RETRY_FIRST", 0.02)
    monkeypatch.setattr(waiter, "RETRY_MAX", 0.1)


@pytest.mark.parametrize(
    "outage",
    [DOWN, ApiError(503, "ServiceUnavailable", "API server answered 503"), []],
    ids=["unreachable", "5xx", "broken-stream"],
)
def test_forbidden_right_after_an_outage_is_retried(outage, fast_backoff):
    """A restarted API server forbids everyone until its RBAC cache is filled (kubernetes#121635)."""
    client = FakeClient([([obj(0, 10)], "10")], [outage, FORBIDDEN, FORBIDDEN, [("MODIFIED", obj(2, 11))]])
    timeline = Timeline()
    verdict, _state = wait_until(client, SOURCES, until_step(2), 5, timeline)
    assert verdict.state == v.DONE and client.listed == 1
    assert any(e["message"].startswith("forbidden: needs verb 'watch'") for e in timeline.entries)


def test_forbidden_after_an_outage_is_believed_after_a_bounded_time(monkeypatch, fast_backoff):
    monkeypatch.setattr(waiter, "FORBIDDEN_AFTER_OUTAGE_SECONDS", 0.5)
    client = FakeClient([([obj(0, 10)], "10")], [DOWN] + [FORBIDDEN] * 20)
    started = time.monotonic()
    with pytest.raises(ApiError, match="needs verb 'watch'"):
        wait_until(client, SOURCES, until_step(2), 10, Timeline())
    assert 0.5 <= time.monotonic() - started < 2


def test_forbidden_after_a_healthy_watch_fails_at_once(monkeypatch):
    # The server ended the first watch at its timeoutSeconds: nothing broke, so the 403 is believed.
    monkeypatch.setattr(waiter, "WATCH_SECONDS", 1)
    client = FakeClient([([obj(0, 10)], "10")], [[("MODIFIED", obj(1, 11))], FORBIDDEN, [("MODIFIED", obj(2, 12))]])
    started = time.monotonic()
    with pytest.raises(ApiError, match="needs verb 'watch'"):
        wait_until(client, SOURCES, until_step(2), 5, Timeline())
    assert time.monotonic() - started < 1


def test_forbidden_from_a_server_not_ready_yet_is_retried(fast_backoff):
    """A restart between two requests shows no error: the first sign is a 403 while /readyz still fails."""
    client = FakeClient([([obj(0, 10)], "10")], [FORBIDDEN, [("MODIFIED", obj(2, 11))]])
    client.readiness = [False]
    verdict, _state = wait_until(client, SOURCES, until_step(2), 5, Timeline())
    assert verdict.state == v.DONE and client.readiness == []


def test_evaluation_waits_until_every_source_is_listed():
    seen = []

    def evaluate(state):
        seen.append({k: len(val) for k, val in state.items()})
        return v.done("ok")

    client = FakeClient([([obj(0, 10)], "10"), ([], "11")], [])
    sources = dict(SOURCES, pods=Source("Pod", "shop", label_selector="app=web"))
    wait_until(client, sources, evaluate, 5, Timeline())
    assert seen == [{"web": 1, "pods": 0}]


def test_only_what_keep_returns_is_held_and_deletions_still_find_it():
    def evaluate(state):
        return v.done("gone") if not state["web"] else v.waiting(f"holding {state['web']}")

    client = FakeClient([([obj(0, 10)], "10")], [[("MODIFIED", obj(1, 11)), ("DELETED", obj(1, 12))]])
    timeline = Timeline()
    sources = {"web": Source("Deployment", "shop", keep=lambda o: o["step"])}
    verdict, _state = wait_until(client, sources, evaluate, 5, timeline)
    assert verdict.message == "gone"
    assert {e["message"] for e in timeline.entries} <= {"holding [0]", "holding [1]", "gone"}


def begun_from(objects, version):
    return {"web": Source("Deployment", "shop", field_selector="metadata.name=web", start=(objects, version))}


def test_a_start_is_watched_from_without_a_list():
    client = FakeClient([], [[("MODIFIED", obj(2, 21))]])
    verdict, _state = wait_until(client, begun_from([obj(1, 20)], "20"), until_step(2), 5, Timeline())
    assert verdict.state == v.DONE and client.listed == 0 and client.watched[0] == "20"


@pytest.mark.parametrize(
    "refused",
    [
        pytest.param(ApiError(410, "Expired", "too old resource version"), id="gone"),
        pytest.param(ApiError(504, "Timeout", "Too large resource version"), id="a-version-this-kind-never-reaches"),
    ],
)
def test_a_start_the_server_cannot_watch_from_is_listed_after_all(refused):
    client = FakeClient([([obj(2, 50)], "50")], [refused])
    verdict, _state = wait_until(client, begun_from([], "20"), until_step(2), 5, Timeline())
    assert verdict.state == v.DONE and client.listed == 1 and client.watched[0] == "20"
