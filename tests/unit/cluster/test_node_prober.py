"""The probe state machine: thresholds, initial values, hold after a liveness failure, gating."""

from localcluster.node import prober
from localcluster.node.prober import FAILURE, LIVENESS, READINESS, STARTUP, SUCCESS, ProbeSpec, ProbeState


def spec(kind, **kw):
    return ProbeSpec(kind=kind, handler={"tcpSocket": {"port": 1}}, **kw)


def test_defaults_from_api():
    s = ProbeSpec.from_api(READINESS, {"httpGet": {"path": "/", "port": 80}})
    assert (s.initial_delay, s.period, s.timeout, s.success_threshold, s.failure_threshold) == (0, 10, 1, 1, 3)
    assert s.handler == {"httpGet": {"path": "/", "port": 80}}
    s = ProbeSpec.from_api(
        LIVENESS,
        {
            "exec": {"command": ["true"]},
            "periodSeconds": 2,
            "failureThreshold": 5,
            "initialDelaySeconds": 4,
            "terminationGracePeriodSeconds": 7,
        },
    )
    assert (s.period, s.failure_threshold, s.initial_delay, s.termination_grace) == (2, 5, 4, 7)
    assert ProbeSpec.from_api(LIVENESS, None) is None


def test_initial_results_match_kubelet():
    assert ProbeState(spec(READINESS)).result == FAILURE
    assert ProbeState(spec(LIVENESS)).result == SUCCESS
    assert ProbeState(spec(STARTUP)).result == prober.UNKNOWN


def test_readiness_needs_success_threshold_then_failure_threshold():
    p = ProbeState(spec(READINESS, success_threshold=2, failure_threshold=3))
    assert not p.record(SUCCESS) and p.result == FAILURE
    assert p.record(SUCCESS) and p.result == SUCCESS
    assert not p.record(FAILURE) and not p.record(FAILURE)
    assert p.result == SUCCESS
    assert p.record(FAILURE) and p.result == FAILURE
    # A success in between restarts the failure run.
    p = ProbeState(spec(READINESS, failure_threshold=2), initial=SUCCESS)
    p.record(FAILURE)
    p.record(SUCCESS)
    p.record(FAILURE)
    assert p.result == SUCCESS


def test_liveness_failure_wants_restart_and_holds():
    p = ProbeState(spec(LIVENESS, failure_threshold=3))
    p.record(FAILURE)
    p.record(FAILURE)
    assert not p.wants_restart
    assert p.record(FAILURE)
    assert p.wants_restart and p.on_hold and p.run == 0
    # Results while on hold are ignored, and it is never due.
    assert not p.record(SUCCESS)
    p.next_at = 0
    assert not p.due(100)


def test_readiness_failure_never_holds():
    p = ProbeState(spec(READINESS, failure_threshold=1), initial=SUCCESS)
    assert p.record(FAILURE)
    assert not p.on_hold and not p.wants_restart


def test_errors_are_dropped():
    p = ProbeState(spec(READINESS, failure_threshold=1), initial=SUCCESS)
    assert not p.record(prober.ERROR)
    assert p.result == SUCCESS and p.run == 0


def test_startup_gates_other_probes():
    assert prober.may_probe(STARTUP, started=False, deleting=False)
    assert not prober.may_probe(STARTUP, started=True, deleting=False)
    assert not prober.may_probe(READINESS, started=False, deleting=False)
    assert not prober.may_probe(LIVENESS, started=False, deleting=False)
    assert prober.may_probe(LIVENESS, started=True, deleting=False)
    # During graceful deletion liveness stops, readiness goes on.
    assert not prober.may_probe(LIVENESS, started=True, deleting=True)
    assert prober.may_probe(READINESS, started=True, deleting=True)


def test_first_probe_waits_for_initial_delay():
    s = spec(LIVENESS, initial_delay=5)
    assert prober.first_probe_at(s, started_at=100, now=100) == 105
    assert prober.first_probe_at(s, started_at=100, now=110) == 110


def test_due_respects_in_flight():
    p = ProbeState(spec(READINESS))
    p.next_at = 10
    assert not p.due(9) and p.due(10)
    p.in_flight = True
    assert not p.due(11)


def test_probes_for_container():
    c = {"name": "a", "readinessProbe": {"tcpSocket": {"port": 1}}, "startupProbe": {"exec": {"command": ["x"]}}}
    assert set(prober.probes_for(c)) == {READINESS, STARTUP}
