"""The release lock's round trips: a lost race is read and decided again, a task holds it for its length."""

import copy

import pytest

from ansible_collections.nodowntime.k8s.plugins.module_utils._backends import lock
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.errors import ApiError


class LeaseClient:
    """One Lease in memory; each status in failures fails one write, in order, before any goes through."""

    def __init__(self, spec=None, failures=()):
        self.lease = None if spec is None else {"metadata": {"resourceVersion": "1"}, "spec": dict(spec)}
        self.failures = list(failures)
        self.writes = []

    def get(self, kind, namespace, name):
        assert kind == "Lease"
        if self.lease is None:
            raise ApiError(404, "NotFound", "not found")
        return copy.deepcopy(self.lease)

    def _write(self, spec, dry_run):
        if self.failures:
            status = self.failures.pop(0)
            raise ApiError(status, "Conflict" if status == 409 else "InternalError", f"{status}")
        self.writes.append((spec, dry_run))
        if not dry_run:
            version = int((self.lease or {"metadata": {"resourceVersion": "0"}})["metadata"]["resourceVersion"])
            self.lease = {"metadata": {"resourceVersion": str(version + 1)}, "spec": dict(spec)}
        return {"spec": spec}

    def create(self, kind, namespace, body, dry_run=False):
        return self._write(body["spec"], dry_run)

    def patch(self, kind, namespace, name, patch, patch_type="strategic", dry_run=False):
        assert patch["metadata"]["resourceVersion"] == self.lease["metadata"]["resourceVersion"]
        return self._write(patch["spec"], dry_run)


def held_by(holder):
    return {"holderIdentity": holder, "leaseDurationSeconds": 1800, "renewTime": "2999-01-01T00:00:00.000000Z"}


OPTIONS = {"name": "nodowntime-web", "holder": "alice@ci pid 42", "ttl_seconds": 900}


def test_a_lost_race_is_read_and_decided_again():
    client = LeaseClient(spec={"leaseTransitions": 2}, failures=[409])
    outcome = lock.take(client, "shop", "nodowntime-web", "alice@ci pid 42", 900)
    assert outcome.result["action"] == "take" and outcome.result["holder"] == "alice@ci pid 42"
    assert client.lease["spec"]["leaseTransitions"] == 3


def test_a_race_lost_every_time_is_an_error_and_other_errors_are_not_retried():
    with pytest.raises(ApiError) as e:
        lock.take(LeaseClient(failures=[409] * lock.ATTEMPTS), "shop", "l", "alice", 900)
    assert e.value.status == 409
    client = LeaseClient(failures=[500])
    with pytest.raises(ApiError):
        lock.take(client, "shop", "l", "alice", 900)
    assert client.failures == [] and client.lease is None


def test_someone_elses_lock_is_refused_naming_them():
    client = LeaseClient(spec=held_by("AWX job 4711"))
    with pytest.raises(lock.Refused) as e:
        lock.take(client, "shop", "nodowntime-web", "alice", 900)
    assert e.value.message.startswith("shop/nodowntime-web is locked: held by AWX job 4711")
    assert e.value.result == {"acquired": False, "action": "refuse", "holder": "AWX job 4711"}
    assert client.writes == []


def test_a_task_takes_the_lock_and_releases_it_when_it_is_over():
    client, log = LeaseClient(), []
    held = lock.Held(client, "shop", OPTIONS, False, log.append)
    held.take()
    assert client.lease["spec"]["holderIdentity"] == "alice@ci pid 42"
    report = held.release()
    assert report == {
        "action": "create",
        "holder": "alice@ci pid 42",
        "message": "shop/nodowntime-web: acquired for alice@ci pid 42; "
        "shop/nodowntime-web: released by alice@ci pid 42",
        "released": True,
    }
    assert not client.lease["spec"]["holderIdentity"] and log == report["message"].split("; ")
    assert held.warnings == []


def test_a_lock_never_taken_is_not_released():
    client = LeaseClient(spec=held_by("alice@ci pid 42"))
    report = lock.Held(client, "shop", OPTIONS, False, print).release()
    assert report["released"] is False and report["action"] is None
    assert client.lease["spec"]["holderIdentity"] == "alice@ci pid 42"


def test_a_failed_release_is_reported_for_the_caller_to_release():
    client = LeaseClient()
    held = lock.Held(client, "shop", OPTIONS, False, print)
    held.take()
    client.failures = [503]
    report = held.release()
    assert report["released"] is False
    assert "could not release it: 503; release it with nodowntime.k8s.lock" in held.warnings[0]
    assert client.lease["spec"]["holderIdentity"] == "alice@ci pid 42"


def test_check_mode_writes_only_dry_runs():
    client = LeaseClient()
    held = lock.Held(client, "shop", OPTIONS, True, print)
    held.take()
    assert held.release()["released"] is True
    assert client.lease is None and [dry_run for _spec, dry_run in client.writes] == [True]


def test_a_lock_taken_over_after_it_expired_is_left_to_its_new_holder_with_a_warning():
    client = LeaseClient()
    held = lock.Held(client, "shop", OPTIONS, False, print)
    held.take()
    client.lease["spec"] = held_by("AWX job 4711")
    assert held.release()["released"] is True
    assert client.lease["spec"]["holderIdentity"] == "AWX job 4711"
    assert "not released: held by AWX job 4711" in held.warnings[0]


def state(client, **overrides):
    params = {"namespace": "shop", "state": "acquired", **OPTIONS, **overrides}
    return lock.state(client, params, None, False, None, print)


@pytest.mark.parametrize(
    "client, overrides, message, result",
    [
        pytest.param(
            LeaseClient(spec=held_by("AWX job 4711")),
            {},
            "shop/nodowntime-web is locked: held by AWX job 4711",
            {"acquired": False, "action": "refuse", "holder": "AWX job 4711"},
            id="held-by-someone-else",
        ),
        pytest.param(LeaseClient(), {"ttl_seconds": 0}, "ttl_seconds must be >= 1", {"acquired": False}, id="bad-ttl"),
        pytest.param(
            LeaseClient(failures=[500]), {}, "shop/nodowntime-web: 500", {"acquired": False}, id="api-error-names-it"
        ),
    ],
)
def test_the_lock_modules_failures_say_why_and_that_it_is_not_held(client, overrides, message, result):
    with pytest.raises(lock.TaskFailed) as e:
        state(client, **overrides)
    assert e.value.message.startswith(message) and e.value.result == result


def test_the_lock_module_takes_and_releases():
    client = LeaseClient()
    assert state(client)["action"] == "create"
    assert state(client, state="released")["acquired"] is False and client.lease["spec"].get("holderIdentity") is None
