# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One release at a time per application: what to do with a coordination.k8s.io/v1 Lease.

Pure: every decision is a function of the Lease as read (a dict, or None when there is
none), who asks, and the current time.  The module does the reads and writes.

    acquire(lease, holder, ttl_seconds, now) -> Decision
        create   no Lease yet
        take     the Lease is free (released) or expired; spec is the new one
        renew    the holder already has it; spec extends renewTime and the TTL
        refuse   someone else holds it and it has not expired; message names them
    release(lease, holder, now) -> Decision
        release  the holder has it; spec clears holderIdentity
        noop     nothing to release, or someone else has it now (message says who)
    expires_at(spec) -> datetime or None (a Lease without holder or times never expires)
    micro_time(dt) / parse_time(text): the API's MicroTime format

A Lease expires at renewTime (or acquireTime) + leaseDurationSeconds, the rule of
client-go's leader election.  A released Lease keeps its leaseTransitions and is reused,
so its history survives; leaseTransitions counts changes of holder.
"""

from __future__ import annotations

from collections import namedtuple
from datetime import datetime, timedelta, timezone

CREATE, TAKE, RENEW, REFUSE, RELEASE, NOOP = "create", "take", "renew", "refuse", "release", "noop"
Decision = namedtuple("Decision", "action spec message")

_MICRO = "%Y-%m-%dT%H:%M:%S.%fZ"


def micro_time(dt):
    return dt.astimezone(timezone.utc).strftime(_MICRO)


def parse_time(text):
    """MicroTime (with fraction) or Time (without): the API accepts and returns both."""
    if not text:
        return None
    value = text.replace("Z", "+00:00")
    return datetime.fromisoformat(value).astimezone(timezone.utc)


def expires_at(spec):
    if not spec.get("holderIdentity"):
        return None
    last = parse_time(spec.get("renewTime")) or parse_time(spec.get("acquireTime"))
    if last is None:
        return None
    return last + timedelta(seconds=spec.get("leaseDurationSeconds") or 0)


def _spec(lease):
    return (lease or {}).get("spec") or {}


def _held(spec, now):
    """The Lease is held by someone right now: a holder and an expiry still ahead."""
    end = expires_at(spec)
    return end is not None and end > now


def describe(spec, now):
    """'alice@ci pid 4242 since 12:00:03Z, expires in 540 s (12:10:03Z)'."""
    end = expires_at(spec)
    text = spec.get("holderIdentity") or "nobody"
    if spec.get("acquireTime"):
        text += f" since {spec['acquireTime']}"
    if end is not None:
        seconds = round((end - now).total_seconds())
        when = f"in {seconds} s" if seconds >= 0 else f"{-seconds} s ago"
        text += f", expires {when} ({micro_time(end)})"
    return text


def _new_spec(holder, ttl_seconds, now, transitions):
    stamp = micro_time(now)
    return {
        "holderIdentity": holder,
        "leaseDurationSeconds": ttl_seconds,
        "acquireTime": stamp,
        "renewTime": stamp,
        "leaseTransitions": transitions,
    }


def acquire(lease, holder, ttl_seconds, now):
    if not holder:
        raise ValueError("holder must not be empty: it is how a refused run names who has the lock")
    if ttl_seconds < 1:
        raise ValueError(f"ttl_seconds must be >= 1, got {ttl_seconds}")
    if lease is None:
        return Decision(CREATE, _new_spec(holder, ttl_seconds, now, 0), f"acquired for {holder}")
    spec = _spec(lease)
    current = spec.get("holderIdentity")
    transitions = spec.get("leaseTransitions") or 0
    if current == holder:
        # Our own Lease, even an expired one nobody took over: extend it, keep acquireTime.
        renewed = dict(spec, renewTime=micro_time(now), leaseDurationSeconds=ttl_seconds)
        return Decision(RENEW, renewed, f"renewed for {holder}")
    if _held(spec, now):
        return Decision(REFUSE, None, f"held by {describe(spec, now)}")
    message = f"took over from {describe(spec, now)}" if current else f"acquired for {holder}"
    return Decision(TAKE, _new_spec(holder, ttl_seconds, now, transitions + 1), message)


def release(lease, holder, now):
    spec = _spec(lease)
    current = spec.get("holderIdentity")
    if lease is None or not current:
        return Decision(NOOP, None, "not held by anyone")
    if current != holder:
        # Ours expired and someone took it over: theirs is not ours to end.
        return Decision(NOOP, None, f"not released: held by {describe(spec, now)}, not by {holder}")
    released = dict(spec, holderIdentity=None, renewTime=micro_time(now))
    return Decision(RELEASE, released, f"released by {holder}")
