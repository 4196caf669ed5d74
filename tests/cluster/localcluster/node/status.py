"""Pod status as the kubelet writes it, computed from a snapshot of the containers. Pure.

The pod worker hands in ContainerView snapshots; this module turns them into the
`status` dict (API camelCase) that the status manager patches onto pods/status.
"""

import datetime
from dataclasses import dataclass, field

WAITING, RUNNING, TERMINATED = "waiting", "running", "terminated"

# Conditions the node owns, in the order the kubelet writes them.
NODE_CONDITIONS = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady")


def rfc3339(ts):
    """Seconds since the epoch -> '2006-01-02T15:04:05Z' (the API's Time has second precision)."""
    if ts is None:
        return None
    return datetime.datetime.fromtimestamp(int(ts), datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text):
    if not text:
        return None
    return datetime.datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.UTC).timestamp()


@dataclass
class ContainerView:
    """What the status needs to know about one container, at one moment."""

    name: str
    image: str
    image_id: str = ""
    container_id: str = None
    state: str = WAITING
    reason: str = "ContainerCreating"
    message: str = None
    started_at: float = None  # wall clock seconds
    finished_at: float = None
    exit_code: int = None
    restart_count: int = 0
    last_state: dict = field(default_factory=dict)  # API dict, e.g. {"terminated": {...}}
    ready: bool = False
    started: bool = False


def terminated_state(exit_code, reason, started_at, finished_at, container_id, message=None):
    state = {
        "exitCode": exit_code,
        "reason": reason,
        "startedAt": rfc3339(started_at),
        "finishedAt": rfc3339(finished_at),
    }
    if message:
        state["message"] = message
    if container_id:
        state["containerID"] = container_id
    return state


def exit_reason(exit_code):
    return "Completed" if exit_code == 0 else "Error"


def container_status(c):
    if c.state == RUNNING:
        state = {"running": {"startedAt": rfc3339(c.started_at)}}
    elif c.state == TERMINATED:
        state = {
            "terminated": terminated_state(
                c.exit_code, c.reason, c.started_at, c.finished_at, c.container_id, c.message
            )
        }
    else:
        waiting = {"reason": c.reason}
        if c.message:
            waiting["message"] = c.message
        state = {"waiting": waiting}
    out = {
        "name": c.name,
        "state": state,
        "lastState": c.last_state or {},
        "ready": bool(c.ready and c.state == RUNNING),
        "restartCount": c.restart_count,
        "image": c.image,
        "imageID": c.image_id or "",
        "started": bool(c.started and c.state == RUNNING),
    }
    if c.container_id:
        out["containerID"] = c.container_id
    return out


def terminal_fixup(statuses):
    """A terminal pod reports every container terminated: a never-run one as ContainerStatusUnknown."""
    out = []
    for s in statuses:
        if "waiting" in s["state"]:
            s = dict(
                s,
                state={
                    "terminated": {
                        "exitCode": 137,
                        "reason": "ContainerStatusUnknown",
                        "message": "The container could not be located when the pod was terminated",
                    }
                },
                ready=False,
                started=False,
            )
        out.append(s)
    return out


def pod_phase(restart_policy, statuses, pod_is_terminal=False):
    """The kubelet's getPhase for regular containers (init containers are not run here)."""
    running = waiting = stopped = succeeded = unknown = 0
    for s in statuses:
        st = s["state"] if s else None
        if not st:
            unknown += 1
        elif "running" in st:
            running += 1
        elif "terminated" in st:
            stopped += 1
            if st["terminated"].get("exitCode") == 0:
                succeeded += 1
        elif "waiting" in st:
            if (s.get("lastState") or {}).get("terminated"):
                stopped += 1  # restarting: counts as having run
            else:
                waiting += 1
        else:
            unknown += 1
    if waiting > 0:
        return "Pending"
    if running > 0 and unknown == 0:
        return "Running"
    if running == 0 and stopped > 0 and unknown == 0:
        if pod_is_terminal:
            return "Succeeded" if stopped == succeeded else "Failed"
        if restart_policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        if restart_policy == "Never":
            return "Failed"
        return "Running"
    return "Pending"


def _condition(ctype, ok, reason=None, message=None):
    """One condition. reason and message are always present (None when unset) so a strategic
    merge patch clears the ones a previous status had."""
    return {
        "type": ctype,
        "status": "True" if ok else "False",
        "lastProbeTime": None,
        "reason": None if ok else reason,
        "message": None if ok else message,
    }


def pod_conditions(pod, statuses, phase, sandbox_ready, existing_conditions):
    """The node-owned conditions; readiness gates are read from existing_conditions."""
    spec = pod.get("spec") or {}
    terminal = phase in ("Succeeded", "Failed")
    unready = [s["name"] for s in statuses if not s.get("ready")]
    if terminal:
        containers_ready = _condition("ContainersReady", False, "PodCompleted")
        ready = _condition("Ready", False, "PodCompleted")
    else:
        missing = [c["name"] for c in spec.get("containers", []) if c["name"] not in {s["name"] for s in statuses}]
        unready = unready + missing
        msg = f"containers with unready status: [{' '.join(unready)}]" if unready else None
        containers_ready = _condition("ContainersReady", not unready, "ContainersNotReady", msg)
        ready = _condition("Ready", not unready, "ContainersNotReady", msg)
        if not unready:
            by_type = {c.get("type"): c for c in existing_conditions or []}
            gates = [g.get("conditionType") for g in spec.get("readinessGates") or []]
            bad = [g for g in gates if (by_type.get(g) or {}).get("status") != "True"]
            if bad:
                missing_gates = [g for g in bad if g not in by_type]
                if missing_gates:
                    gmsg = f'corresponding condition of pod readiness gate "{missing_gates[0]}" does not exist.'
                else:
                    gmsg = f'the status of pod readiness gate "{bad[0]}" is not "True", but False'
                ready = _condition("Ready", False, "ReadinessGatesNotReady", gmsg)
    return [
        _condition("PodReadyToStartContainers", sandbox_ready and not terminal),
        _condition("Initialized", True),
        ready,
        containers_ready,
    ]


def carry_transition_times(new_conditions, old_conditions, now):
    """lastTransitionTime moves only when a condition's status changes."""
    old = {c.get("type"): c for c in old_conditions or []}
    out = []
    for c in new_conditions:
        prev = old.get(c["type"])
        if prev is not None and prev.get("status") == c["status"] and prev.get("lastTransitionTime"):
            ltt = prev["lastTransitionTime"]
        else:
            ltt = rfc3339(now)
        out.append(dict(c, lastTransitionTime=ltt))
    return out


def build_status(
    pod, views, *, host_ip, pod_ip, start_time, now, old_status, sandbox_ready=True, pod_is_terminal=False
):
    """The full node-owned status for a pod (dict, camelCase), from container snapshots.

    old_status is the previous status (last written, or read from the API); it provides
    lastTransitionTimes and foreign conditions (readiness gates).
    """
    spec = pod.get("spec") or {}
    statuses = [container_status(v) for v in views]
    if pod_is_terminal:
        statuses = terminal_fixup(statuses)
    phase = pod_phase(spec.get("restartPolicy", "Always"), statuses, pod_is_terminal)
    old_conditions = (old_status or {}).get("conditions") or []
    conditions = carry_transition_times(
        pod_conditions(pod, statuses, phase, sandbox_ready, old_conditions), old_conditions, now
    )
    status = {
        "phase": phase,
        "conditions": conditions,
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "startTime": rfc3339(start_time),
        "containerStatuses": statuses,
    }
    if pod_ip:
        status["podIP"] = pod_ip
        status["podIPs"] = [{"ip": pod_ip}]
    return status


def comparable(status):
    """The parts of a status this node writes, normalised for change detection."""
    if not status:
        return None
    conds = {
        c.get("type"): (c.get("status"), c.get("reason"), c.get("message"), c.get("lastTransitionTime"))
        for c in status.get("conditions") or []
        if c.get("type") in NODE_CONDITIONS
    }
    statuses = []
    for s in status.get("containerStatuses") or []:
        s = {
            k: v
            for k, v in s.items()
            if k
            in ("name", "state", "lastState", "ready", "restartCount", "image", "imageID", "containerID", "started")
        }
        s["lastState"] = s.get("lastState") or {}
        statuses.append(s)
    return (
        status.get("phase"),
        conds,
        status.get("hostIP"),
        status.get("podIP"),
        status.get("startTime"),
        _strip_none(statuses),
    )


def _strip_none(value):
    if isinstance(value, dict):
        return {k: _strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_none(v) for v in value]
    return value


def changed(new, old):
    return comparable(new) != comparable(old)
