"""Pod status building: phase, conditions and their lastTransitionTime, container statuses."""

from localcluster.node import status as st
from localcluster.node.status import ContainerView

T0 = 1_700_000_000


def pod(restart_policy="Always", containers=("app",), gates=()):
    return {
        "metadata": {"name": "p", "namespace": "n", "uid": "u"},
        "spec": {
            "restartPolicy": restart_policy,
            "containers": [{"name": c} for c in containers],
            "readinessGates": [{"conditionType": g} for g in gates],
        },
    }


def running(name="app", ready=True, started=True):
    return ContainerView(
        name=name,
        image="nodowntime/demo-app:1",
        container_id="x://1",
        state=st.RUNNING,
        reason=None,
        started_at=T0,
        ready=ready,
        started=started,
    )


def terminated(name="app", code=0):
    return ContainerView(
        name=name,
        image="i",
        container_id="x://1",
        state=st.TERMINATED,
        reason=st.exit_reason(code),
        started_at=T0,
        finished_at=T0 + 5,
        exit_code=code,
    )


def build(p, views, old=None, now=T0):
    return st.build_status(p, views, host_ip="127.0.0.1", pod_ip="10.244.0.1", start_time=T0, now=now, old_status=old)


def conds(status):
    return {c["type"]: c for c in status["conditions"]}


def test_running_ready_pod():
    s = build(pod(), [running()])
    assert s["phase"] == "Running"
    assert s["podIP"] == "10.244.0.1" and s["podIPs"] == [{"ip": "10.244.0.1"}]
    assert s["hostIPs"] == [{"ip": "127.0.0.1"}]
    c = conds(s)
    assert c["Ready"]["status"] == "True" and c["ContainersReady"]["status"] == "True"
    assert c["Ready"]["reason"] is None and c["Ready"]["message"] is None  # cleared in the patch
    cs = s["containerStatuses"][0]
    assert cs["state"] == {"running": {"startedAt": "2023-11-14T22:13:20Z"}}
    assert cs["ready"] and cs["started"] and cs["restartCount"] == 0


def test_unready_container_names_in_message():
    s = build(pod(containers=("a", "b")), [running("a"), running("b", ready=False)])
    c = conds(s)
    assert c["Ready"]["status"] == "False"
    assert c["Ready"]["reason"] == "ContainersNotReady"
    assert c["Ready"]["message"] == "containers with unready status: [b]"


def test_last_transition_time_moves_only_on_status_change():
    first = build(pod(), [running(ready=False)], now=T0)
    same = build(pod(), [running(ready=False)], old=first, now=T0 + 30)
    assert conds(same)["Ready"]["lastTransitionTime"] == conds(first)["Ready"]["lastTransitionTime"]
    flipped = build(pod(), [running(ready=True)], old=same, now=T0 + 60)
    assert conds(flipped)["Ready"]["lastTransitionTime"] == st.rfc3339(T0 + 60)
    assert conds(flipped)["Initialized"]["lastTransitionTime"] == st.rfc3339(T0)
    assert not st.changed(same, first)
    assert st.changed(flipped, same)


def test_readiness_gates():
    p = pod(gates=("example.com/lb",))
    s = build(p, [running()])
    assert conds(s)["Ready"]["status"] == "False"
    assert conds(s)["Ready"]["reason"] == "ReadinessGatesNotReady"
    assert conds(s)["ContainersReady"]["status"] == "True"
    old = {"conditions": [{"type": "example.com/lb", "status": "True"}]}
    assert conds(build(p, [running()], old=old))["Ready"]["status"] == "True"


def test_phase_rules():
    ok = st.container_status(terminated(code=0))
    bad = st.container_status(terminated(code=1))
    run = st.container_status(running())
    waiting = st.container_status(ContainerView(name="a", image="i"))
    crashloop = dict(waiting, lastState={"terminated": {"exitCode": 1}})
    assert st.pod_phase("Always", [run]) == "Running"
    assert st.pod_phase("Always", [waiting]) == "Pending"
    assert st.pod_phase("Always", [crashloop]) == "Running"
    assert st.pod_phase("Always", [bad]) == "Running"
    assert st.pod_phase("Never", [bad]) == "Failed"
    assert st.pod_phase("Never", [ok]) == "Succeeded"
    assert st.pod_phase("OnFailure", [ok, ok]) == "Succeeded"
    assert st.pod_phase("OnFailure", [bad]) == "Running"
    assert st.pod_phase("Always", [ok], pod_is_terminal=True) == "Succeeded"
    assert st.pod_phase("Always", [ok, bad], pod_is_terminal=True) == "Failed"
    assert st.pod_phase("Always", [run, waiting]) == "Pending"


def test_terminal_pod_reports_every_container_terminated():
    s = st.build_status(
        pod(containers=("a", "b")),
        [terminated("a"), ContainerView(name="b", image="i")],
        host_ip="127.0.0.1",
        pod_ip="10.244.0.1",
        start_time=T0,
        now=T0,
        old_status=None,
        pod_is_terminal=True,
    )
    assert s["phase"] == "Failed"
    b = s["containerStatuses"][1]["state"]["terminated"]
    assert b["reason"] == "ContainerStatusUnknown" and b["exitCode"] == 137
    assert conds(s)["Ready"]["reason"] == "PodCompleted"


def test_waiting_and_terminated_container_statuses():
    w = st.container_status(
        ContainerView(
            name="a",
            image="i",
            reason="CrashLoopBackOff",
            message="back-off 10s",
            restart_count=2,
            last_state={"terminated": {"exitCode": 1}},
        )
    )
    assert w["state"] == {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s"}}
    assert w["lastState"] == {"terminated": {"exitCode": 1}} and w["restartCount"] == 2
    assert not w["ready"] and not w["started"] and "containerID" not in w
    t = st.container_status(terminated(code=137))["state"]["terminated"]
    assert t["reason"] == "Error" and t["exitCode"] == 137 and t["containerID"] == "x://1"
    assert st.container_status(terminated(code=0))["state"]["terminated"]["reason"] == "Completed"


def test_not_running_container_is_never_ready():
    v = ContainerView(name="a", image="i", ready=True, started=True)  # stale flags on a waiting container
    s = st.container_status(v)
    assert not s["ready"] and not s["started"]


def test_time_round_trip():
    assert st.parse_time(st.rfc3339(T0)) == T0
    assert st.rfc3339(None) is None and st.parse_time(None) is None
