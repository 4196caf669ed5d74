"""The release lock's decisions: create, take over, renew, refuse and release a Lease."""

from datetime import UTC, datetime, timedelta

import pytest

from ansible_collections.nodowntime.k8s.plugins.module_utils._release import lock_decisions

NOW = datetime(2025, 1, 31, 12, 0, 0, tzinfo=UTC)


def held(holder, renewed_ago, ttl=60, transitions=2):
    stamp = lock_decisions.micro_time(NOW - timedelta(seconds=renewed_ago))
    return {
        "metadata": {"name": "nodowntime-web", "resourceVersion": "7"},
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": ttl,
            "acquireTime": stamp,
            "renewTime": stamp,
            "leaseTransitions": transitions,
        },
    }


def released(transitions=2):
    lock = held("AWX job 1", 5, transitions=transitions)
    del lock["spec"]["holderIdentity"]
    return lock


def test_no_lease_is_created_for_the_holder():
    d = lock_decisions.acquire(None, "alice@ci pid 42", 900, NOW)
    assert d.action == lock_decisions.CREATE
    assert d.spec == {
        "holderIdentity": "alice@ci pid 42",
        "leaseDurationSeconds": 900,
        "acquireTime": "2025-01-31T12:00:00.000000Z",
        "renewTime": "2025-01-31T12:00:00.000000Z",
        "leaseTransitions": 0,
    }


def test_a_lease_someone_else_holds_is_refused_naming_them_and_the_expiry():
    d = lock_decisions.acquire(held("AWX job 4711", renewed_ago=20, ttl=60), "alice@ci pid 42", 900, NOW)
    assert d.action == lock_decisions.REFUSE and d.spec is None
    assert d.message == (
        "held by AWX job 4711 since 2025-01-31T11:59:40.000000Z, expires in 40 s (2025-01-31T12:00:40.000000Z)"
    )


def test_an_expired_lease_is_taken_over_and_counts_a_transition():
    d = lock_decisions.acquire(held("AWX job 4711", renewed_ago=61, ttl=60, transitions=2), "alice@ci pid 42", 900, NOW)
    assert d.action == lock_decisions.TAKE
    assert d.spec["holderIdentity"] == "alice@ci pid 42"
    assert d.spec["leaseTransitions"] == 3
    assert d.spec["acquireTime"] == "2025-01-31T12:00:00.000000Z"
    assert d.message.startswith("took over from AWX job 4711") and "expires 1 s ago" in d.message


def test_expiry_is_exclusive_a_lease_at_its_last_second_still_holds():
    assert lock_decisions.acquire(held("other", renewed_ago=59, ttl=60), "me", 60, NOW).action == lock_decisions.REFUSE
    assert lock_decisions.acquire(held("other", renewed_ago=60, ttl=60), "me", 60, NOW).action == lock_decisions.TAKE


def test_a_released_lease_is_taken():
    d = lock_decisions.acquire(released(transitions=4), "me", 60, NOW)
    assert d.action == lock_decisions.TAKE and d.spec["leaseTransitions"] == 5
    assert d.message == "acquired for me"


def test_the_holder_renews_keeping_its_acquire_time():
    lock = held("me", renewed_ago=30, ttl=60)
    d = lock_decisions.acquire(lock, "me", 120, NOW)
    assert d.action == lock_decisions.RENEW
    assert d.spec["acquireTime"] == lock["spec"]["acquireTime"]
    assert d.spec["renewTime"] == "2025-01-31T12:00:00.000000Z"
    assert d.spec["leaseDurationSeconds"] == 120
    assert d.spec["leaseTransitions"] == 2


def test_the_holder_renews_even_its_own_expired_lease():
    assert lock_decisions.acquire(held("me", renewed_ago=600, ttl=60), "me", 60, NOW).action == lock_decisions.RENEW


def test_a_lease_without_times_has_no_expiry_and_is_free():
    lock = {"metadata": {"resourceVersion": "1"}, "spec": {"holderIdentity": "ghost"}}
    assert lock_decisions.expires_at(lock["spec"]) is None
    assert lock_decisions.acquire(lock, "me", 60, NOW).action == lock_decisions.TAKE


def test_time_without_fraction_parses_too():
    lock = held("other", 0)
    lock["spec"]["renewTime"] = "2025-01-31T11:59:50Z"
    assert lock_decisions.expires_at(lock["spec"]) == NOW + timedelta(seconds=50)


@pytest.mark.parametrize(
    "holder, ttl, message",
    [
        ("", 60, "holder must not be empty"),
        ("me", 0, "ttl_seconds must be >= 1, got 0"),
    ],
)
def test_bad_arguments_are_refused(holder, ttl, message):
    with pytest.raises(ValueError, match=message):
        lock_decisions.acquire(None, holder, ttl, NOW)


def test_release_clears_the_holder():
    d = lock_decisions.release(held("me", 5), "me", NOW)
    assert d.action == lock_decisions.RELEASE
    assert d.spec["holderIdentity"] is None
    assert d.spec["renewTime"] == "2025-01-31T12:00:00.000000Z"
    assert d.spec["leaseTransitions"] == 2


@pytest.mark.parametrize("lock", [None, released()], ids=["no lease", "released"])
def test_release_of_a_free_lock_does_nothing(lock):
    d = lock_decisions.release(lock, "me", NOW)
    assert d == lock_decisions.Decision(lock_decisions.NOOP, None, "not held by anyone")


def test_release_leaves_a_lease_taken_over_by_someone_else():
    d = lock_decisions.release(held("AWX job 9", 5, ttl=60), "me", NOW)
    assert d.action == lock_decisions.NOOP and d.spec is None
    assert d.message.startswith("not released: held by AWX job 9 since ") and d.message.endswith(", not by me")


HERE = "ci-7"


def test_an_identity_of_this_host_names_its_process_and_start():
    assert lock_decisions.local_process("alice@ci-7 pid 4242 started 1145816", HERE) == lock_decisions.Process(
        "ci-7", 4242, "1145816"
    )
    assert lock_decisions.local_process("alice@ci-7 pid 4242", HERE) == lock_decisions.Process("ci-7", 4242, None)


@pytest.mark.parametrize(
    "identity",
    [
        "AWX job 4711",
        "alice@other-host pid 4242 started 1",
        "alice@ci-7 pid x",
        "alice@ci-7 pid 4242 and more",
        "",
        None,
    ],
)
def test_other_hosts_awx_jobs_and_other_forms_name_no_local_process(identity):
    assert lock_decisions.local_process(identity, HERE) is None


def test_a_holder_whose_pid_is_not_running_is_gone():
    process = lock_decisions.Process("ci-7", 4242, "1145816")
    assert lock_decisions.holder_gone(process, running=False, started=None) == "pid 4242 is not running on ci-7"


def test_a_holder_whose_pid_runs_with_another_start_time_is_gone():
    process = lock_decisions.Process("ci-7", 4242, "1145816")
    assert lock_decisions.holder_gone(process, running=True, started="2000000") == (
        "pid 4242 on ci-7 is another process now (started 2000000, not 1145816)"
    )


@pytest.mark.parametrize(
    "process, started",
    [
        (lock_decisions.Process("ci-7", 4242, "1145816"), "1145816"),  # the holder itself, alive
        (lock_decisions.Process("ci-7", 4242, None), "1145816"),  # no start recorded: a running pid may be it
        (lock_decisions.Process("ci-7", 4242, "1145816"), None),  # the host cannot tell the start: may be it
        (None, None),  # not a process of this host
    ],
)
def test_a_holder_that_may_still_run_is_not_gone(process, started):
    assert lock_decisions.holder_gone(process, running=True, started=started) is None


def test_a_gone_holders_lease_is_taken_over_before_it_expires_naming_it_and_why():
    lock = held("alice@ci-7 pid 4242 started 1145816", renewed_ago=20, ttl=1800, transitions=2)
    d = lock_decisions.acquire(lock, "bob@ci-7 pid 5000 started 2", 1800, NOW, gone="pid 4242 is not running on ci-7")
    assert d.action == lock_decisions.TAKE and d.spec["holderIdentity"] == "bob@ci-7 pid 5000 started 2"
    assert d.spec["leaseTransitions"] == 3
    assert d.message == (
        "took over from alice@ci-7 pid 4242 started 1145816 since 2025-01-31T11:59:40.000000Z, expires in 1780 s "
        "(2025-01-31T12:29:40.000000Z) before it expired: pid 4242 is not running on ci-7"
    )


def test_without_a_reason_the_live_holder_is_still_refused():
    lock = held("alice@ci-7 pid 4242 started 1145816", renewed_ago=20, ttl=1800)
    assert lock_decisions.acquire(lock, "bob@ci-7 pid 5000", 1800, NOW, gone=None).action == lock_decisions.REFUSE
