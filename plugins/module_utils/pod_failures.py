# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pods that will not get better by waiting: the reasons to fail a rollout fast.

container_failures(pod, restart_threshold=RESTART_THRESHOLD)
    -> ({"pod", "container", "reason", "message", "restarts"}, ...), one per sick container
describe(failure) -> "pod web-7d4-x, container app: CrashLoopBackOff: back-off 10s ..."
"""

from __future__ import annotations

# Waiting reasons the kubelet only leaves by a change to the pod template. A container waits with
# the error of its last start attempt (the kubelet's reason cache), and these are every such error the
# kubelet has: pkg/kubelet/images (pulls), kuberuntime (creating and starting), container (the back-off).
# ContainerCreating and PodInitializing are the only others, and waiting cures them.
FAIL_FAST_REASONS = (
    "CrashLoopBackOff",
    "ErrImagePull",
    "ImagePullBackOff",
    "ImageInspectError",
    "ErrImageNeverPull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "PreCreateHookError",
    "RunContainerError",
    "PreStartHookError",
    "PostStartHookError",
)
RESTART_THRESHOLD = 3


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
    if waiting.get("reason") in FAIL_FAST_REASONS:
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


def container_failures(pod, restart_threshold=RESTART_THRESHOLD):
    status = pod.get("status") or {}
    containers = (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])
    return tuple(f for f in (_failure(pod, c, restart_threshold) for c in containers) if f)


def describe(failure):
    text = f"pod {failure['pod']}, container {failure['container']}: {failure['reason']}"
    return f"{text}: {failure['message']}" if failure["message"] else text
