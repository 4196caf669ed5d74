# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One release at a time per application: what to do with a coordination.k8s.io/v1 Lease.

Pure: every decision is a function of the Lease as read (a dict, or None when there is
none), who asks, and the current time.  The module does the reads and writes.

    acquire(lease, holder, ttl_seconds, now, gone=None) -> Decision
        create   no Lease yet
        take     the Lease is free (released) or expired, or its holder is gone (gone says why);
                 spec is the new one
        renew    the holder already has it; spec extends renewTime and the TTL
        refuse   someone else holds it and it has not expired; message names them
    local_process(identity, hostname) -> Process(host, pid, started) or None
        the process a holder identity names, when it is one of this host
    holder_gone(process, running, started) -> why the holder is certainly gone, or None
    release(lease, holder, now) -> Decision
        release  the holder has it; spec clears holderIdentity
        noop     nothing to release, or someone else has it now (message says who)
    expires_at(spec) -> datetime or None (a Lease without holder or times never expires)
    micro_time(dt) / parse_time(text): the API's MicroTime format

A Lease expires at renewTime (or acquireTime) + leaseDurationSeconds, the rule of
client-go's leader election.  A released Lease keeps its leaseTransitions and is reused,
so its history survives; leaseTransitions counts changes of holder.

A holder that died (SIGKILL, a lost runner) cannot release its Lease.  When its identity
names a process of the host that asks, the module looks that process up: not running, or
running with another start time (the kernel reused the pid), means the holder is gone and
its Lease is taken over at once rather than after its TTL.  Any doubt (an AWX job, another
host, an identity of another form, a live process) keeps the TTL's rule.
"""

from __future__ import annotations

import re
from collections import namedtuple
from datetime import datetime, timedelta, timezone

CREATE, TAKE, RENEW, REFUSE, RELEASE, NOOP = "create", "take", "renew", "refuse", "release", "noop"
Decision = namedtuple("Decision", "action spec message")
Process = namedtuple("Process", "host pid started")

# The form of the lookup run_identity outside AWX: "alice@ci-7 pid 4242 started 1145816", where
# started is the process's start in clock ticks after boot (absent where the host cannot tell).
_LOCAL_HOLDER = re.compile(r"^[^@\s]+@(?P<host>\S+) pid (?P<pid>[0-9]+)(?: started (?P<started>[0-9]+))?$")

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


def local_process(identity, hostname):
    """The Process a holder identity names when it runs (or ran) on this host; None otherwise."""
    match = _LOCAL_HOLDER.match(identity or "")
    if match is None or match["host"] != hostname:
        return None
    return Process(match["host"], int(match["pid"]), match["started"])


def holder_gone(process, running, started):
    """Why the holder process is certainly gone, or None while it may still run.

    process is local_process()'s; running and started are what this host shows for its pid now
    (started None when the host cannot tell, or the identity recorded none).
    """
    if process is None:
        return None
    if not running:
        return f"pid {process.pid} is not running on {process.host}"
    if process.started and started and started != process.started:
        return f"pid {process.pid} on {process.host} is another process now (started {started}, not {process.started})"
    return None


def acquire(lease, holder, ttl_seconds, now, gone=None):
    """gone: holder_gone()'s answer for the current holder, None when it may still run."""
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
        if not gone:
            return Decision(REFUSE, None, f"held by {describe(spec, now)}")
        message = f"took over from {describe(spec, now)} before it expired: {gone}"
    else:
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
