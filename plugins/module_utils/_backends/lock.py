# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release lock's reads and writes: _release/lock_decisions.py decides, this does the API round trips.

    take(client, namespace, name, holder, ttl_seconds, dry_run)  -> Outcome
        raises Refused when someone else holds it; ValueError on a bad holder or ttl_seconds
    release(client, namespace, name, holder, dry_run, lease=None) -> Outcome
        lease: the Lease as this run last wrote it, decided on without a read (a 409 if anyone
        wrote it since, and then read and decided again)
    Outcome(result, warnings, lease): result holds the lock module's return values (changed,
        acquired, action, message, holder, expires_at, lease, diff); warnings are for
        module.warn; lease is the Lease object as written (or as read, when nothing was)
    state(client, params, _checked, check_mode, timeline, warn) -> the lock module's result
        raises TaskFailed(message, result): the lock module's whole task, take or release
    Held(client, namespace, options, check_mode, log)
        the lock held for one task's length (rollout's `lock`: name, holder, ttl_seconds):
        .take() before the task changes anything, .release() -> the task's `lock` return value
        once it is over, whatever happened; .warnings collects what module.warn should say

Shared by the lock module and by the modules that hold the lock for their own length (rollout's
`lock`), so taking it costs no process of its own, and releasing it one request (a PATCH guarded
by the resourceVersion its take wrote).  A write is guarded by the Lease's
resourceVersion; losing that race to another run (409) means reading and deciding again.
"""

import socket
from collections import namedtuple
from datetime import datetime, timezone

from ansible_collections.nodowntime.k8s.plugins.module_utils._backends.task_failed import TaskFailed
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s import host_process
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.errors import ApiError
from ansible_collections.nodowntime.k8s.plugins.module_utils._release import lock_decisions

Outcome = namedtuple("Outcome", "result warnings lease")
ATTEMPTS = 3


class Refused(Exception):
    """Someone else holds the lock; .message names them, .result is the failed task's return values."""

    def __init__(self, message, result):
        super().__init__(message)
        self.message = message
        self.result = result


class Held:
    def __init__(self, client, namespace, options, check_mode, log):
        self._where = (client, namespace, options["name"], options["holder"])
        self._ttl_seconds = options["ttl_seconds"]
        self._check_mode = check_mode
        self._log = log
        self._taken = self._lease = None
        self.warnings = []

    def take(self):
        outcome = take(*self._where, self._ttl_seconds, dry_run=self._check_mode)
        self._taken, self._lease = outcome.result, outcome.lease
        self.warnings.extend(outcome.warnings)
        self._log(outcome.result["message"])

    def release(self):
        holder = self._where[3]
        if self._taken is None:
            return {"action": None, "holder": holder, "message": "not taken", "released": False}
        if self._check_mode:
            # A dry-run take wrote nothing, so there is nothing to release.
            return dict(self._report(holder, "dry run: nothing to release"), released=True)
        try:
            outcome = release(*self._where, lease=self._lease)
        except ApiError as e:
            message = f"could not release it: {e.message}; release it with nodowntime.k8s.lock (state: released)"
            self.warnings.append(f"{self._taken['message']}; {message}")
            return dict(self._report(holder, message), released=False)
        self.warnings.extend(outcome.warnings)
        self._log(outcome.result["message"])
        return dict(self._report(holder, outcome.result["message"]), released=True)

    def _report(self, holder, then):
        return {"action": self._taken["action"], "holder": holder, "message": f"{self._taken['message']}; {then}"}


def state(client, params, _checked, check_mode, timeline, warn):
    where = (client, params["namespace"], params["name"], params["holder"])
    try:
        if params["state"] == "acquired":
            outcome = take(*where, params["ttl_seconds"], dry_run=check_mode)
        else:
            outcome = release(*where, dry_run=check_mode)
    except Refused as e:
        raise TaskFailed(e.message, e.result) from None
    except ValueError as e:
        raise TaskFailed(str(e), {"acquired": False}) from None
    except ApiError as e:
        raise TaskFailed(f"{params['namespace']}/{params['name']}: {e.message}", {"acquired": False}) from None
    for warning in outcome.warnings:
        warn(warning)
    return outcome.result


def take(client, namespace, name, holder, ttl_seconds, dry_run=False):
    def decide(lease, now):
        gone = _holder_gone(lease)
        decision = lock_decisions.acquire(lease, holder, ttl_seconds, now, gone=gone)
        # Not a routine takeover: the run that held the lock died without releasing it; say so loudly.
        return decision, decision.action == lock_decisions.TAKE and bool(gone)

    return _settle(client, namespace, name, decide, dry_run)


def release(client, namespace, name, holder, dry_run=False, lease=None):
    def decide(lease, now):
        decision = lock_decisions.release(lease, holder, now)
        # Ours expired and another run took it over: worth a word, that run is in progress.
        return decision, decision.action == lock_decisions.NOOP and bool(_spec(lease).get("holderIdentity"))

    return _settle(client, namespace, name, decide, dry_run, lease)


def _settle(client, namespace, name, decide, dry_run, known=None):
    """known: the Lease as last written, decided on without a read when it carries its resourceVersion."""
    left = ATTEMPTS
    if not ((known or {}).get("metadata") or {}).get("resourceVersion"):
        known = None
    while True:
        left -= 1
        try:
            return _attempt(client, namespace, name, decide, dry_run, known)
        except ApiError as e:
            if e.status != 409 or left == 0:
                raise
            known = None  # someone wrote it since: read it


def _attempt(client, namespace, name, decide, dry_run, known):
    lock = f"{namespace}/{name}"
    lease = known or _read(client, namespace, name)
    decision, loud = decide(lease, datetime.now(timezone.utc))
    before = _spec(lease)
    warnings = [f"{lock}: {decision.message}"] if loud else []
    if decision.action == lock_decisions.REFUSE:
        raise Refused(
            f"{lock} is locked: {decision.message}",
            {"acquired": False, "action": decision.action, "holder": before.get("holderIdentity")},
        )
    if decision.action == lock_decisions.NOOP:
        return Outcome(_result(False, False, decision, lock, before, before), warnings, lease)
    written = _write(client, namespace, name, lease, decision, dry_run)
    spec = (written or {}).get("spec") or decision.spec
    # A renewal keeps the holder: the state the task is about did not change.
    changed = decision.action != lock_decisions.RENEW
    acquired = decision.action != lock_decisions.RELEASE
    return Outcome(_result(changed, acquired, decision, lock, before, spec), warnings, written)


def _result(changed, acquired, decision, lock, before, after):
    return {
        "changed": changed,
        "acquired": acquired,
        "action": decision.action,
        "message": f"{lock}: {decision.message}",
        "holder": after.get("holderIdentity"),
        "expires_at": _expiry(after),
        "lease": after,
        "diff": {"before": before, "after": after},
    }


def _spec(lease):
    return (lease or {}).get("spec") or {}


def _holder_gone(lease):
    """Why the Lease's holder is certainly gone, when it names a process of this host; else None."""
    holder = lock_decisions.local_process(_spec(lease).get("holderIdentity"), socket.gethostname())
    if holder is None:
        return None
    running, started = host_process.observe(holder.pid)
    return lock_decisions.holder_gone(holder, running, started)


def _read(client, namespace, name):
    try:
        return client.get("Lease", namespace, name)
    except ApiError as e:
        if e.status == 404:
            return None
        raise


def _write(client, namespace, name, lease, decision, dry_run):
    if decision.action == lock_decisions.CREATE:
        body = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": {"app.kubernetes.io/managed-by": "nodowntime"},
            },
            "spec": decision.spec,
        }
        return client.create("Lease", namespace, body, dry_run=dry_run)
    # The resourceVersion makes the merge patch conditional: a concurrent writer gets us a 409.
    patch = {"metadata": {"resourceVersion": lease["metadata"]["resourceVersion"]}, "spec": decision.spec}
    return client.patch("Lease", namespace, name, patch, patch_type="merge", dry_run=dry_run)


def _expiry(spec):
    end = lock_decisions.expires_at(spec)
    return lock_decisions.micro_time(end) if end else None
