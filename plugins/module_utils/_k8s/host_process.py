# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a process of this host runs, and since when: how a lock tells a dead holder from a live one.

    parse_stat(text) -> (state, start ticks): from the text of /proc/<pid>/stat (pure)
    observe(pid) -> (running, start ticks or None)
    start_ticks(pid) -> start ticks or None

The start time is the kernel's, in clock ticks after boot (field 22 of /proc/<pid>/stat): with
the pid it names one process, so a pid the kernel has given to another process since is told
apart.  Without procfs (not Linux) only whether the pid runs is known, and the start is None.
"""

import os

# A zombie has exited and only waits for its parent to read its status; X is a task being reaped.
ENDED_STATES = ("Z", "X")


def parse_stat(text):
    """(state, start ticks) from /proc/<pid>/stat; the command name in parentheses may hold spaces or ')'."""
    fields = text.rpartition(")")[2].split()
    # After the name: state is field 3, starttime field 22.
    return fields[0], fields[19]


def observe(pid):
    """(running, start ticks or None) of pid on this host, as far as this user can tell."""
    try:
        with open(f"/proc/{int(pid)}/stat", encoding="ascii", errors="replace") as f:
            state, started = parse_stat(f.read())
        return state not in ENDED_STATES, started
    except FileNotFoundError:
        if os.path.isdir("/proc/self"):
            return False, None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False, None
    except PermissionError:
        return True, None  # another user's process: it runs
    return True, None


def start_ticks(pid):
    return observe(pid)[1]
