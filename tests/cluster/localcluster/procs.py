"""Processes known by pid *and* start time, so a recycled pid is never signalled."""
import os
import select
import signal


def start_ticks(pid):
    """The process's start time in clock ticks since boot, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name may hold spaces and parentheses; fields resume after the last ')'.
    return int(stat.rsplit(")", 1)[1].split()[19])


def record(pid):
    return {"pid": pid, "start_ticks": start_ticks(pid)}


def alive(rec):
    ticks = start_ticks(rec["pid"])
    if ticks is None or ticks != rec["start_ticks"]:
        return False
    with open(f"/proc/{rec['pid']}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


def stop(rec, grace=10.0):
    """SIGTERM the process group, SIGKILL it after grace seconds; True if it had been running."""
    if not alive(rec):
        return False
    try:
        pidfd = os.pidfd_open(rec["pid"])
    except ProcessLookupError:
        return False
    try:
        _signal_group(rec["pid"], signal.SIGTERM)
        # A pidfd turns readable when the process exits: no polling loop needed.
        if not select.select([pidfd], [], [], grace)[0]:
            _signal_group(rec["pid"], signal.SIGKILL)
            select.select([pidfd], [], [], 5)
    finally:
        os.close(pidfd)
    return True


def _signal_group(pid, sig):
    # Components are started as session leaders, so their pgid is their pid.
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
