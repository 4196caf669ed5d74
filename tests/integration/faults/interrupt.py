"""Run a strategy playbook that can be killed like a CI runner dies: SIGKILL to every process of the run
(ansible-playbook, its forked worker and the module it is running), with no chance to clean up."""

import contextlib
import os
import signal
import socket
import subprocess
import time

from localcluster import ansiblecli, paths, procs, workloads

PLAYBOOKS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "playbooks")
# The default's order of magnitude: a killed run's lock must be taken over because its holder is dead,
# not because it expired while the test waited.
LOCK_TTL = 1800


def playbook(name):
    return os.path.abspath(os.path.join(PLAYBOOKS, f"{name}.yml"))


def image(version):
    return f"{workloads.DEMO_IMAGE}:{version}"


class Run:
    """ansible-playbook playbooks/<name>.yml in a session of its own, output to a file."""

    def __init__(self, name, extra_vars, log_path):
        argv = ansiblecli.playbook_argv(playbook(name), dict({"nodowntime_lock_ttl_seconds": LOCK_TTL}, **extra_vars))
        self.log_path = str(log_path)
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                argv,
                env=ansiblecli.env(paths.ADMIN_KUBECONFIG),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.started = time.monotonic()

    @property
    def output(self):
        with open(self.log_path) as f:
            return f.read()

    def wait(self, timeout=600):
        rc = self.proc.wait(timeout)
        return rc, self.output

    def kill(self):
        """SIGKILL the whole group at once: nothing of the run gets to clean up."""
        assert self.proc.poll() is None, f"the run ended before the kill:\n{self.output}"
        # By parent, not by group: a process of the run that left the group (a module that got to finish its
        # undo and release the lock on the real node, where pods start fast) would outlive a group kill.
        tree = _descendants(self.proc.pid)
        for pid in tree:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait(10)
        deadline = time.monotonic() + 10
        while any(_running(pid) for pid in tree):
            assert time.monotonic() < deadline, "processes of the killed run are still alive"
            time.sleep(0.05)


def _descendants(pid):
    """pid and every process below it, by the parent pid /proc gives."""
    children = {}
    for entry in os.listdir("/proc"):
        fields = procs.stat_fields(int(entry)) if entry.isdigit() else None
        if fields:
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo += children.get(found[-1], [])
    return found


def _running(pid):
    # This machine's init reaps no orphans: a killed process may stay a zombie, which runs nothing.
    fields = procs.stat_fields(pid)
    return bool(fields) and fields[0] not in ("Z", "X")


def held_by(kube, namespace, application, pid, timeout):
    """Watch the application's Lease until the run with this pid holds it; the Lease."""
    return workloads.wait_for(
        kube.coordination.list_namespaced_lease,
        f"nodowntime-{application}",
        lambda held: f"pid {pid} " in f"{held.spec.holder_identity} ",
        timeout,
        f"the lock of {application} held by pid {pid}",
        namespace=namespace,
    )


def lease(kube, namespace, application):
    try:
        return kube.coordination.read_namespaced_lease(f"nodowntime-{application}", namespace)
    except Exception as e:
        if getattr(e, "status", None) == 404:
            return None
        raise


def folded(output):
    """The output with its whitespace folded: warnings are wrapped to the terminal's width."""
    return " ".join(output.split())


def took_over_from(run, output):
    """Whether the output says the lock was taken from the killed run before its TTL, because it died."""
    text = folded(output)
    return "before it expired" in text and f"pid {run.proc.pid} is not running on {socket.gethostname()}" in text
