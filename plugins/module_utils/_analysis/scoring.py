# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scoring of an analysis run, with the semantics of an Argo Rollouts AnalysisRun and its web provider.

One measurement is one HTTP response judged by the conditions:
  * no conditions: Successful;
  * only success_condition: Successful when it holds, else Failed;
  * only failure_condition: Failed when it holds, else Successful;
  * both: Failed when failure_condition holds, Successful when only success_condition
    holds, Inconclusive when neither does;
  * a non-2xx response, an unreachable URL, a body that is not JSON (when there are
    conditions) or a condition that does not give true/false: Error.

After every measurement the run is assessed, in this order: failed > failure_limit ->
Failed; inconclusive > inconclusive_limit -> Inconclusive; consecutive errors >
consecutive_error_limit -> Error; count non-error measurements taken -> Successful.
Errors do not count towards count: like Argo, an error is retried after the interval.
"""

import json

from ansible_collections.nodowntime.k8s.plugins.module_utils._analysis.jmespath_condition import (
    Condition,
    ConditionError,
)

SUCCESSFUL = "Successful"
FAILED = "Failed"
INCONCLUSIVE = "Inconclusive"
ERROR = "Error"
PHASES = (SUCCESSFUL, FAILED, INCONCLUSIVE, ERROR)


class AnalysisError(ValueError):
    """Options the run cannot start with; raised before any request is sent."""


class Conditions:
    def __init__(self, success=None, failure=None):
        try:
            self.success = Condition("success_condition", success) if success is not None else None
            self.failure = Condition("failure_condition", failure) if failure is not None else None
        except ConditionError as e:
            raise AnalysisError(str(e)) from None

    def __bool__(self):
        return bool(self.success or self.failure)

    def judge(self, document):
        """(verdict, message) for one parsed JSON response."""
        try:
            succeeded = self.success(document) if self.success else None
            failed = self.failure(document) if self.failure else None
        except ConditionError as e:
            return ERROR, str(e)
        if failed:
            return FAILED, f"failure_condition {self.failure.expression!r} is met"
        if succeeded is False:
            if self.failure:
                return INCONCLUSIVE, "neither success_condition nor failure_condition is met"
            return FAILED, f"success_condition {self.success.expression!r} is not met"
        if succeeded:
            return SUCCESSFUL, f"success_condition {self.success.expression!r} is met"
        if failed is False:
            return SUCCESSFUL, f"failure_condition {self.failure.expression!r} is not met"
        return SUCCESSFUL, "no conditions: a 2xx response is a success"


def judge_response(conditions, status, text):
    """(value, verdict, message) for one HTTP answer; status None means no answer (text says why)."""
    if status is None:
        return None, ERROR, text
    if not 200 <= status < 300:
        return None, ERROR, f"received non 2xx response code: {status}"
    try:
        document = json.loads(text)
    except ValueError as e:
        if conditions:
            return None, ERROR, f"response is not JSON, so the conditions cannot be evaluated: {e}"
        return text, SUCCESSFUL, "no conditions: a 2xx response is a success"
    verdict, message = conditions.judge(document)
    return document, verdict, message


class Limits:
    def __init__(self, count=1, failure_limit=0, inconclusive_limit=0, consecutive_error_limit=4):
        for name, value, least in (
            ("count", count, 1),
            ("failure_limit", failure_limit, 0),
            ("inconclusive_limit", inconclusive_limit, 0),
            ("consecutive_error_limit", consecutive_error_limit, 0),
        ):
            if not isinstance(value, int) or value < least:
                raise AnalysisError(f"{name} must be an integer >= {least}, got {value!r}")
        self.count = count
        self.failure_limit = failure_limit
        self.inconclusive_limit = inconclusive_limit
        self.consecutive_error_limit = consecutive_error_limit


class Tally:
    """Running counts over the verdicts so far."""

    def __init__(self):
        self.counts = dict.fromkeys(PHASES, 0)
        self.consecutive_errors = 0

    def add(self, verdict):
        self.counts[verdict] += 1
        self.consecutive_errors = self.consecutive_errors + 1 if verdict == ERROR else 0

    @property
    def measured(self):
        """Measurements that count towards count: every verdict but Error."""
        return sum(self.counts.values()) - self.counts[ERROR]

    def summary(self):
        c = self.counts
        return f"{c[SUCCESSFUL]} successful, {c[FAILED]} failed, {c[INCONCLUSIVE]} inconclusive, {c[ERROR]} errors"


def assess(tally, limits):
    """(phase, message) once the run is decided, else (None, None) to keep measuring."""
    c = tally.counts
    if c[FAILED] > limits.failure_limit:
        return FAILED, f"failed ({c[FAILED]}) > failure_limit ({limits.failure_limit})"
    if c[INCONCLUSIVE] > limits.inconclusive_limit:
        return INCONCLUSIVE, f"inconclusive ({c[INCONCLUSIVE]}) > inconclusive_limit ({limits.inconclusive_limit})"
    if tally.consecutive_errors > limits.consecutive_error_limit:
        return ERROR, (
            f"consecutive errors ({tally.consecutive_errors}) > "
            f"consecutive_error_limit ({limits.consecutive_error_limit})"
        )
    if tally.measured >= limits.count:
        return SUCCESSFUL, f"count ({limits.count}) reached"
    return None, None


def run(measure, limits, interval, initial_delay, sleep, now):
    """Measure until assess() decides; returns {phase, message, measurements}.

    measure() -> (value, verdict, message) for one request; sleep(seconds) and
    now() -> timestamp string are injected so the loop is testable without a clock.
    """
    if initial_delay:
        sleep(initial_delay)
    tally = Tally()
    measurements = []
    while True:
        started = now()
        value, verdict, message = measure()
        measurements.append({"time": started, "value": value, "verdict": verdict, "message": message})
        tally.add(verdict)
        phase, reason = assess(tally, limits)
        if phase:
            last_error = f"; last error: {message}" if phase == ERROR else ""
            return {
                "phase": phase,
                "message": f"{phase}: {reason} ({tally.summary()}){last_error}",
                "measurements": measurements,
            }
        sleep(interval)
