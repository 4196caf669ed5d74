# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pods that will not get better by waiting: the reasons to fail a rollout fast.

container_failures(pod, restart_threshold=RESTART_THRESHOLD)
    -> ({"pod", "container", "reason", "message", "restarts"}, ...), one per sick container
exited(pod) -> whether a container of it has exited: a restart, or a non-zero exit not restarted yet
unschedulable(pod) -> {"pod", "container": None, "reason": "Unschedulable", "message", "restarts": 0} or None
describe(failure) -> "pod web-7d4-x, container app: CrashLoopBackOff: back-off 10s ..."
"""

from __future__ import annotations

# A container waits with the error of its last start attempt (the kubelet's reason cache: the errors of
# pkg/kubelet/images, kuberuntime and container). These the kubelet only leaves by a change to the pod
# template (an image, a name, a missing ConfigMap or Secret key, the back-off of a container that exits).
FAIL_FAST_REASONS = (
    "CrashLoopBackOff",
    "ErrImagePull",
    "ImagePullBackOff",
    "ImageInspectError",
    "ErrImageNeverPull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
)
# ...unless the runtime itself was away: the kubelet's call to a restarting containerd fails with a gRPC
# transport error, and its next attempt cures it.
RUNTIME_AWAY = ("error reading from server", "connection reset by peer", "transport is closing", "code = Unavailable")
# These say the runtime could not start the container's process or its hooks. With an exit behind them
# (runc ran the process and it failed: a command the image lacks, a hook that fails) every retry ends the
# same way, and the kubelet keeps this reason rather than CrashLoopBackOff. With none, the runtime itself
# failed (containerd restarting answers "error reading from server: EOF") and the kubelet's retry cures it.
FAIL_FAST_AFTER_AN_EXIT = ("RunContainerError", "PreStartHookError", "PostStartHookError")
RESTART_THRESHOLD = 3
UNSCHEDULABLE = "Unschedulable"


def _last_exit(status):
    term = ((status.get("lastState") or {}).get("terminated")) or {}
    if not term:
        return ""
    text = f"last exit code {term.get('exitCode')}"
    if term.get("reason"):
        text += f" ({term['reason']})"
    if term.get("message"):
        text += f": {term['message'].strip()}"
    return text


def _failure(pod, status, restart_threshold):
    waiting = (status.get("state") or {}).get("waiting") or {}
    restarts = status.get("restartCount") or 0
    exit_behind = bool((status.get("lastState") or {}).get("terminated"))
    runtime_away = any(words in (waiting.get("message") or "") for words in RUNTIME_AWAY)
    if (waiting.get("reason") in FAIL_FAST_REASONS and not runtime_away) or (
        waiting.get("reason") in FAIL_FAST_AFTER_AN_EXIT and exit_behind
    ):
        reason, message = waiting["reason"], waiting.get("message") or ""
    elif restart_threshold and restarts >= restart_threshold:
        reason, message = "TooManyRestarts", f"restarted {restarts} times"
    else:
        return None
    message = "; ".join(part for part in (message, _last_exit(status)) if part)
    return {
        "pod": pod["metadata"]["name"],
        "container": status.get("name"),
        "reason": reason,
        "message": message,
        "restarts": restarts,
    }


def _container_statuses(pod):
    status = pod.get("status") or {}
    return (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])


def container_failures(pod, restart_threshold=RESTART_THRESHOLD):
    return tuple(f for f in (_failure(pod, c, restart_threshold) for c in _container_statuses(pod)) if f)


def exited(pod):
    """The first sign of a CrashLoopBackOff or TooManyRestarts to come: the kubelet restarts the first exit
    at once and backs off only from the second, so this is seen a container's run time before them."""
    return any((c.get("restartCount") or 0) > 0 or _exit_code(c) not in (None, 0) for c in _container_statuses(pod))


def _exit_code(status):
    """The exit code of a container that has stopped and not started again, else None.  An init container that
    ends with 0 has done its job; a restartPolicy Always container's exit 0 shows as a restart soon after."""
    return ((status.get("state") or {}).get("terminated") or {}).get("exitCode")


def unschedulable(pod):
    """The scheduler found no node for pod (PodScheduled False, reason Unschedulable), with its reason why.

    Whether that is worth failing on is the caller's call: the scheduler tries again whenever a pod leaves
    a node, and a pending surge pod of a rolling update gets its room once an old pod goes."""
    conditions = (pod.get("status") or {}).get("conditions") or []
    scheduled = next((c for c in conditions if c.get("type") == "PodScheduled"), {})
    if scheduled.get("status") != "False" or scheduled.get("reason") != UNSCHEDULABLE:
        return None
    return {
        "pod": pod["metadata"]["name"],
        "container": None,
        "reason": UNSCHEDULABLE,
        "message": scheduled.get("message") or "",
        "restarts": 0,
    }


def describe(failure):
    where = f", container {failure['container']}" if failure["container"] else ""
    text = f"pod {failure['pod']}{where}: {failure['reason']}"
    return f"{text}: {failure['message']}" if failure["message"] else text
