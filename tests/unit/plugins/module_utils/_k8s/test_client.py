"""The client's pure parts: query building and retrying a write that raced the controller."""

import threading

import pytest

from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.client import _query, retry_on_conflict, side_by_side
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.errors import ApiError


def test_query_drops_unset_values_and_spells_dry_run_as_the_api_wants():
    assert _query(labelSelector="app=web", fieldSelector=None, dryRun=True, force=True, watch=False, limit=500) == [
        ("labelSelector", "app=web"),
        ("dryRun", "All"),
        ("force", "true"),
        ("limit", 500),
    ]


def flaky(failures):
    calls = []

    def attempt():
        calls.append(1)
        if len(calls) <= len(failures):
            raise failures[len(calls) - 1]
        return "patched"

    return attempt, calls


CONFLICT = ApiError(409, "Conflict", "conflict")


def test_conflicts_are_retried_with_a_fresh_attempt():
    attempt, calls = flaky([CONFLICT, CONFLICT])
    assert retry_on_conflict(attempt) == "patched" and len(calls) == 3


def test_retries_are_bounded():
    attempt, calls = flaky([CONFLICT] * 9)
    with pytest.raises(ApiError):
        retry_on_conflict(attempt, tries=3)
    assert len(calls) == 3


@pytest.mark.parametrize("error", [ApiError(403, "Forbidden", "no"), ApiError(409, "AlreadyExists", "exists")])
def test_other_errors_are_not_retried(error):
    attempt, calls = flaky([error])
    with pytest.raises(ApiError):
        retry_on_conflict(attempt)
    assert len(calls) == 1


@pytest.mark.parametrize(
    "error",
    [
        OSError(9, "Bad file descriptor"),
        RuntimeError("Cannot shutdown as connection has already been released to the pool"),
        ValueError("Cannot shutdown socket as self._sock_shutdown is not set"),
    ],
)
def test_closing_a_watch_that_its_thread_just_ended_is_not_an_error(error):
    # Seen in a rolling update's wait: close_streams() ran after the watch thread had released the
    # connection, and urllib3's RuntimeError failed a module whose wait had succeeded.
    from types import SimpleNamespace

    from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.client import Client

    class Ended:
        def shutdown(self):
            raise error

    class Stream:
        response = Ended()

    client = Client(SimpleNamespace(configuration=SimpleNamespace(host="https://127.0.0.1:6443")))
    client._streams.add(Stream())
    client.close_streams()  # does not raise


def test_reads_side_by_side_are_all_under_way_at_once_and_come_back_in_order():
    started = threading.Barrier(3, timeout=5)  # each call waits for the other two: only concurrent calls pass

    def read(value):
        def call():
            started.wait()
            return value

        return call

    assert side_by_side(read("service"), read("pods"), read("hpa")) == ["service", "pods", "hpa"]


def test_a_failed_read_side_by_side_raises_its_error():
    def refused():
        raise ApiError(403, "Forbidden", "pods is forbidden")

    with pytest.raises(ApiError, match="forbidden"):
        side_by_side(lambda: "service", refused)
