"""Probe state machines with the kubelet's semantics (pkg/kubelet/prober/worker.go), minus I/O.

One ProbeState exists per probe kind per container *instance*: a restarted container
gets fresh states, as the kubelet's worker resets when it sees a new container ID.
The caller runs the handler (see handlers.py) and feeds the outcome to record().
"""

from dataclasses import dataclass

STARTUP, READINESS, LIVENESS = "startup", "readiness", "liveness"
KINDS = (STARTUP, READINESS, LIVENESS)
SPEC_FIELDS = {STARTUP: "startupProbe", READINESS: "readinessProbe", LIVENESS: "livenessProbe"}

SUCCESS, FAILURE, UNKNOWN = "Success", "Failure", "Unknown"
ERROR = "Error"  # the prober itself failed (e.g. an unknown named port): the kubelet drops the result

# What a probe reports before its first conclusive result.
INITIAL = {STARTUP: UNKNOWN, READINESS: FAILURE, LIVENESS: SUCCESS}
HANDLER_KEYS = ("exec", "httpGet", "tcpSocket", "grpc")


@dataclass(frozen=True)
class ProbeSpec:
    kind: str
    handler: dict
    initial_delay: float = 0
    period: float = 10
    timeout: float = 1
    success_threshold: int = 1
    failure_threshold: int = 3
    termination_grace: float = None  # probe-level terminationGracePeriodSeconds (liveness/startup)

    @classmethod
    def from_api(cls, kind, probe):
        """A ProbeSpec from a container's probe dict (camelCase), with the API defaults."""
        if not probe:
            return None
        handler = {k: probe[k] for k in HANDLER_KEYS if probe.get(k) is not None}

        def num(key, default):
            # The API server fills these defaults in; a zero means 'unset' for all but the delay.
            return probe.get(key) or default

        return cls(
            kind=kind,
            handler=handler,
            initial_delay=num("initialDelaySeconds", 0),
            period=num("periodSeconds", 10),
            timeout=num("timeoutSeconds", 1),
            success_threshold=num("successThreshold", 1),
            failure_threshold=num("failureThreshold", 3),
            termination_grace=probe.get("terminationGracePeriodSeconds"),
        )


class ProbeState:
    """The result of one probe of one container instance, with threshold counting."""

    def __init__(self, spec, initial=None):
        self.spec = spec
        self.result = INITIAL[spec.kind] if initial is None else initial
        self.last_outcome = None
        self.run = 0  # how many consecutive times last_outcome was seen
        self.on_hold = False  # liveness/startup failed: wait for a new container
        self.next_at = None  # when the next probe is due (caller's clock)
        self.in_flight = False
        self.last_message = ""

    def record(self, outcome, message=""):
        """Feed one probe outcome (SUCCESS or FAILURE); returns True when self.result changed.

        ERROR outcomes are dropped, as the kubelet throws away results of prober errors.
        """
        if outcome not in (SUCCESS, FAILURE) or self.on_hold:
            return False
        if outcome == self.last_outcome:
            self.run += 1
        else:
            self.last_outcome = outcome
            self.run = 1
        if outcome == FAILURE:
            self.last_message = message
        threshold = self.spec.failure_threshold if outcome == FAILURE else self.spec.success_threshold
        if self.run < threshold:
            return False
        changed = self.result != outcome
        self.result = outcome
        if self.spec.kind in (LIVENESS, STARTUP) and outcome == FAILURE:
            # The container will be restarted; probe no more until the next one.
            self.on_hold = True
            self.run = 0
        return changed

    @property
    def wants_restart(self):
        return self.spec.kind in (LIVENESS, STARTUP) and self.result == FAILURE

    def due(self, now):
        return not self.in_flight and not self.on_hold and self.next_at is not None and now >= self.next_at


def may_probe(kind, started, deleting):
    """Whether a probe of this kind runs now, given the container's started flag.

    The startup probe runs until the container has started; liveness and readiness only
    after. During graceful deletion liveness and startup stop (the kubelet reports success
    to keep the shutdown quiet); readiness goes on.
    """
    if deleting and kind in (LIVENESS, STARTUP):
        return False
    if kind == STARTUP:
        return not started
    return started


def first_probe_at(spec, started_at, now):
    """When a new container instance's probe first runs: after initialDelaySeconds."""
    return max(now, started_at + spec.initial_delay)


def probes_for(container):
    """{kind: ProbeSpec} for a container dict."""
    out = {}
    for kind in KINDS:
        spec = ProbeSpec.from_api(kind, container.get(SPEC_FIELDS[kind]))
        if spec is not None:
            out[kind] = spec
    return out
