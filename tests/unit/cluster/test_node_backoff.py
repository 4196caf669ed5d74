"""Restart and image-pull back-off with client-go flowcontrol.Backoff semantics."""

from localcluster.node.backoff import Backoff


def test_first_failure_is_not_in_backoff():
    b = Backoff(10, 300)
    assert not b.in_backoff_since("k", event_time=0, now=0)
    assert b.next("k", 0) == 10


def test_doubles_up_to_maximum():
    b = Backoff(10, 300)
    delays = [b.next("k", t) for t in range(0, 70, 10)]
    assert delays == [10, 20, 40, 80, 160, 300, 300]


def test_in_backoff_since_finish():
    b = Backoff(10, 300)
    b.next("k", 0)
    assert b.in_backoff_since("k", event_time=5, now=14)
    assert not b.in_backoff_since("k", event_time=5, now=15)


def test_in_backoff_since_update():
    b = Backoff(10, 300)
    b.next("img", 100)
    assert b.in_backoff_since_update("img", 109.9)
    assert not b.in_backoff_since_update("img", 110)
    assert b.last_update("img") == 100


def test_resets_after_long_quiet_period():
    b = Backoff(10, 300)
    b.next("k", 0)
    b.next("k", 1)
    assert b.delay("k") == 20
    assert not b.in_backoff_since("k", event_time=1000, now=1000)
    assert b.next("k", 1000) == 10


def test_keys_are_independent_and_forgettable():
    b = Backoff(10, 300)
    b.next("pod1/a", 0)
    b.next("pod1/a", 0)
    b.next("pod2/a", 0)
    assert b.delay("pod1/a") == 20 and b.delay("pod2/a") == 10
    b.forget_prefix("pod1/")
    assert b.delay("pod1/a") == 0 and b.delay("pod2/a") == 10
