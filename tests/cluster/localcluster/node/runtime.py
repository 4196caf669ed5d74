"""Container processes: start, record, adopt after an agent restart, signal, reap.

Each process is a session leader (start_new_session) so it outlives the agent and its
process group is its pid. It is known by pid *and* start time (/proc/<pid>/stat field
22): a recycled pid is never signalled. Records live in
<state-dir>/pods/<pod-uid>/<container>.json.
"""

import contextlib
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import threading

from ..procs import start_ticks, stat_fields

log = logging.getLogger("runtime")


# ---------------------------------------------------------------- /proc


def _is_zombie(pid):
    fields = stat_fields(pid)
    return fields is None or fields[0] in ("Z", "X")


def identity_matches(pid, ticks):
    return pid is not None and ticks is not None and start_ticks(pid) == ticks


def _group_members(pgid):
    """Pids of live processes in process group pgid."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = stat_fields(int(entry))
            if fields and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                out.append(int(entry))
    return out


def kill_group(pid, ticks, sig=signal.SIGKILL):
    """Signal the process group led by a recorded process, if it is still ours.

    If the leader is alive, its start time must match. If it is gone, leftover members of its
    group are signalled (the kernel does not reuse a pid still used as a group id), unless the
    pid now leads some other group.
    """
    current = start_ticks(pid)
    if current is not None and current != ticks:
        return False
    if current is None and not _group_members(pid):
        return False
    try:
        os.killpg(pid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


# ---------------------------------------------------------------- processes

# The container's command runs under a tiny shell that writes its exit status to a file, so
# an agent that adopted the process after a restart (and so cannot wait() for it) still learns
# it. The no-op traps keep the shell alive through SIGTERM/SIGINT sent to the whole group;
# the command itself gets default signal handling (traps reset on exec).
WRAPPER = 'trap : TERM INT HUP; "$@"; rc=$?; echo $rc > "$0.tmp" && mv "$0.tmp" "$0"; exit $rc'


class Process:
    """A container's process: a child we started, or one adopted after an agent restart."""

    def __init__(self, pid, ticks, pidfd, popen=None, exit_file=None):
        self.pid = pid
        self.start_ticks = ticks
        self.pidfd = pidfd
        self.popen = popen
        self.exit_file = exit_file
        self.exited = False
        self.killed = False  # SIGKILL was sent
        self.exit_code = None  # None after exit means unknown

    def _read_exit_file(self):
        return read_exit_file(self.exit_file) if self.exit_file else None

    @property
    def adopted(self):
        return self.popen is None

    def signal_group(self, sig):
        if sig == signal.SIGKILL and not self.exited:
            self.killed = True
        if self.exited or self.popen is None:
            # An adopted process (init reaps it, so its pid could be recycled) or the leftovers
            # of a group whose leader is gone: check identity first.
            return kill_group(self.pid, self.start_ticks, sig)
        try:
            os.killpg(self.pid, sig)  # an unreaped child: its pid cannot have been recycled
            return True
        except ProcessLookupError:
            return False

    def _collect(self):
        """Called once the pidfd is readable: reap a child, note the exit code."""
        if self.popen is not None:
            rc = self.popen.poll()
            if rc is None:
                try:
                    rc = self.popen.wait(timeout=1)
                except subprocess.TimeoutExpired:
                    return False
            self.exit_code = 128 - rc if rc < 0 else rc  # killed by signal n -> 128+n
        else:
            self.exit_code = self._read_exit_file()
            if self.exit_code is None and self.killed:
                self.exit_code = 128 + signal.SIGKILL
        if self.exit_file:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.exit_file)
        self.exited = True
        with contextlib.suppress(OSError):
            os.close(self.pidfd)
        self.pidfd = None
        return True


def spawn(argv, env, log_path, exit_file, cwd=None):
    """Start a container process as a session leader; stdout/stderr append to log_path.

    Raises OSError when argv[0] cannot be executed (checked first: the wrapper shell would
    only report it as exit status 127).
    """
    _check_executable(argv[0], env)
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    os.makedirs(os.path.dirname(exit_file), exist_ok=True)
    for stale in (exit_file, exit_file + ".tmp"):
        if os.path.exists(stale):
            os.remove(stale)
    with open(log_path, "ab") as out:
        popen = subprocess.Popen(
            ["/bin/sh", "-c", WRAPPER, exit_file, *argv],
            env=env,
            cwd=cwd or "/",
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    pidfd = os.pidfd_open(popen.pid)
    ticks = start_ticks(popen.pid)
    return Process(popen.pid, ticks, pidfd, popen, exit_file)


def _check_executable(program, env):
    if "/" in program:
        if not os.access(program, os.X_OK) or os.path.isdir(program):
            raise FileNotFoundError(f"{program}: no such executable")
        return
    if shutil.which(program, path=env.get("PATH", os.defpath)) is None:
        raise FileNotFoundError(f'exec: "{program}": executable file not found in $PATH')


def adopt(pid, ticks, exit_file=None):
    """A Process for a recorded pid whose start time still matches, else None."""
    if pid is None:
        return None
    try:
        pidfd = os.pidfd_open(pid)
    except (ProcessLookupError, OSError):
        return None
    # Checked after opening the pidfd: if it matches now, the pidfd is that process.
    if start_ticks(pid) != ticks or _is_zombie(pid):
        os.close(pidfd)
        return None
    return Process(pid, ticks, pidfd, exit_file=exit_file)


def read_exit_file(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


class Reaper(threading.Thread):
    """One thread that learns of every process exit through pidfds (children or not)."""

    def __init__(self):
        super().__init__(name="reaper", daemon=True)
        self._lock = threading.Lock()
        self._watched = {}  # fd -> (Process, callback)
        self._poll = select.poll()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._poll.register(self._wake_r, select.POLLIN)

    def watch(self, proc, callback):
        with self._lock:
            self._watched[proc.pidfd] = (proc, callback)
            self._poll.register(proc.pidfd, select.POLLIN)
        with contextlib.suppress(BlockingIOError):
            os.write(self._wake_w, b"x")

    def run(self):
        while True:
            for fd, _events in self._poll.poll():
                if fd == self._wake_r:
                    os.read(self._wake_r, 4096)
                    continue
                with self._lock:
                    entry = self._watched.pop(fd, None)
                    if entry:
                        self._poll.unregister(fd)
                if not entry:
                    continue
                proc, callback = entry
                proc._collect()
                try:
                    callback(proc)
                except Exception:
                    log.exception("exit callback failed for pid %s", proc.pid)


# ---------------------------------------------------------------- records


def pod_dir(state_dir, uid):
    return os.path.join(state_dir, "pods", uid)


def record_path(state_dir, uid, container):
    return os.path.join(pod_dir(state_dir, uid), container + ".json")


def write_record(state_dir, uid, container, data):
    path = record_path(state_dir, uid, container)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def read_record(state_dir, uid, container):
    try:
        with open(record_path(state_dir, uid, container)) as f:
            return json.load(f)
    except (FileNotFoundError, ValueError):
        return None


def remove_record(state_dir, uid, container):
    with contextlib.suppress(FileNotFoundError):
        os.remove(record_path(state_dir, uid, container))


def recorded_pod_uids(state_dir):
    try:
        return [
            e for e in os.listdir(os.path.join(state_dir, "pods")) if os.path.isdir(os.path.join(state_dir, "pods", e))
        ]
    except FileNotFoundError:
        return []


def _records_in(directory):
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return
    for name in names:
        if name.endswith(".json"):
            try:
                with open(os.path.join(directory, name)) as f:
                    yield json.load(f)
            except (OSError, ValueError):
                continue


def kill_pod_dir(directory):
    """SIGKILL every recorded process (group) under one pod's directory; returns how many."""
    killed = 0
    for rec in _records_in(directory):
        if rec.get("pid") and kill_group(rec["pid"], rec.get("start_ticks")):
            killed += 1
    return killed


def remove_pod_dir(state_dir, uid):
    shutil.rmtree(pod_dir(state_dir, uid), ignore_errors=True)


def kill_recorded(state_dir):
    """Kill (SIGKILL, whole process group) every recorded container process still ours.

    Used by `make cluster-down`, after the agent stopped, so nothing is left behind.
    Returns the number of process groups signalled.
    """
    killed = 0
    for uid in recorded_pod_uids(state_dir):
        killed += kill_pod_dir(pod_dir(state_dir, uid))
    return killed
