"""Processes known by pid *and* start time, so a recycled pid is never signalled."""

import contextlib
import os
import select
import signal


def stat_fields(pid):
    """Fields 3.. of /proc/<pid>/stat (after the command name), or None if the pid is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name may hold spaces and parentheses; fields resume after the last ')'.
    return data.rsplit(")", 1)[1].split()


def start_ticks(pid):
    """The process's start time in clock ticks since boot (field 22), or None if it is gone."""
    fields = stat_fields(pid)
    return int(fields[19]) if fields else None


def record(pid):
    return {"pid": pid, "start_ticks": start_ticks(pid)}


def alive(rec):
    fields = stat_fields(rec["pid"])
    return bool(fields) and int(fields[19]) == rec["start_ticks"] and fields[0] not in ("Z", "X")


def stop(rec, grace=10.0, kill=False):
    """SIGTERM the process group, SIGKILL it after grace seconds (at once with kill); True if it had been running."""
    if not alive(rec):
        return False
    try:
        pidfd = os.pidfd_open(rec["pid"])
    except ProcessLookupError:
        return False
    try:
        _signal_group(rec["pid"], signal.SIGKILL if kill else signal.SIGTERM)
        # A pidfd turns readable when the process exits: no polling loop needed.
        if not select.select([pidfd], [], [], 5 if kill else grace)[0]:
            _signal_group(rec["pid"], signal.SIGKILL)
            select.select([pidfd], [], [], 5)
    finally:
        os.close(pidfd)
    return True


def _signal_group(pid, sig):
    # Components are started as session leaders, so their pgid is their pid.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)
