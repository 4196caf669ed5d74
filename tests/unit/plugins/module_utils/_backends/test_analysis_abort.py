"""The analysis module's abort: which change a failed run makes, checked before any request, and what it records."""

import pytest

from ansible_collections.nodowntime.k8s.plugins.module_utils._backends import analysis_abort
from ansible_collections.nodowntime.k8s.plugins.module_utils._backends.rolled_back import rolled_back
from ansible_collections.nodowntime.k8s.plugins.module_utils._release.timeline import Timeline

CANARY = {"namespace": "shop", "stable": "web", "canary": "web-canary", "mode": "keep_total"}
BACK = {"namespace": "shop", "service": "web", "selector": {"app": "web", "slot": "blue"}, "min_ready": None}
WAITS = {"wait": False, "wait_timeout": 60, "progress": None}


def given(canary_scale=None, switch_selector=None):
    return {
        "canary_scale": canary_scale and {**WAITS, **canary_scale},
        "switch_selector": switch_selector and {**WAITS, **switch_selector},
    }


@pytest.mark.parametrize(
    "abort, change, error",
    [
        pytest.param(None, None, None, id="no-abort-changes-nothing"),
        pytest.param(given(canary_scale=CANARY), "canary_scale", None, id="canary-to-0"),
        pytest.param(given(switch_selector=BACK), "switch_selector", None, id="selector-back"),
        pytest.param(given(), None, "abort needs exactly one of canary_scale, switch_selector, got 0", id="none-named"),
        pytest.param(
            given(canary_scale=CANARY, switch_selector=BACK),
            None,
            "abort needs exactly one of canary_scale, switch_selector, got 2",
            id="two-named",
        ),
        pytest.param(
            given(canary_scale={**CANARY, "canary": "web"}),
            None,
            "abort.canary_scale: stable and canary must be two Deployments, both are 'web'",
            id="canary-is-stable",
        ),
        pytest.param(
            given(canary_scale={**CANARY, "progress": {"phase": "step", "at": "x"}}),
            None,
            "abort.canary_scale: progress.at is set by the module",
            id="progress-with-its-stamp",
        ),
        pytest.param(
            given(switch_selector={**BACK, "selector": {}}),
            None,
            "abort.switch_selector: ",
            id="empty-selector",
        ),
    ],
)
def test_the_abort_is_checked_before_any_request(abort, change, error):
    if error:
        with pytest.raises(ValueError, match=f"^{error}"):
            analysis_abort.check(abort)
        return
    planned = analysis_abort.check(abort)
    assert (planned and planned[0]) == change
    if change == "canary_scale":
        assert planned[1]["weight"] == 0 and planned[1]["rollback_on_failure"] is False


class Service:
    """A Service on green with ready blue and green pods; patches are recorded."""

    def __init__(self):
        self.patched = []

    def get(self, kind, namespace, name):
        return {
            "metadata": {"name": name, "resourceVersion": "7"},
            "spec": {"selector": {"app": "web", "slot": "green"}},
        }

    def list(self, kind, namespace, label_selector=None, field_selector=None, keep=None):
        slot = dict(pair.split("=") for pair in label_selector.split(","))["slot"]
        labels = {"app": "web", "slot": slot}
        pod = {
            "metadata": {"name": f"{slot}-a", "labels": labels},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]},
        }
        return [keep(pod)], "1"

    def patch(self, kind, namespace, name, body, patch_type="merge", dry_run=False):
        self.patched.append((body, dry_run))
        return body


@pytest.mark.parametrize("check_mode", [pytest.param(False, id="real"), pytest.param(True, id="check-mode-dry-run")])
def test_a_failed_run_switches_back_recording_why_as_the_rescue_would(check_mode):
    progress = {"strategy": "blue_green", "outcome": "switched_back"}
    planned = analysis_abort.check(given(switch_selector={**BACK, "progress": progress}))
    client, timeline = Service(), Timeline()
    failed = {
        "phase": "Failed",
        "message": "Failed: failed (1) > failure_limit (0)",
        "measurements": [{"message": "no"}],
    }
    correct = analysis_abort.correct(client, planned, check_mode, timeline, print)
    result = rolled_back(failed, failed["message"], correct, analysis_abort.describe(planned))
    cause = "Failed: failed (1) > failure_limit (0); no"
    assert result["outcome"] == "rolled_back" and result["changed"] is True
    assert result["rollback"]["progress"] == {**progress, "phase": "rolling_back", "cause": cause}
    ((body, dry_run),) = client.patched
    assert body["spec"]["selector"] == {"app": "web", "slot": "blue"} and dry_run is check_mode
    assert result["diff"]["after"]["selector"] == {"app": "web", "slot": "blue"}
    assert (
        result["rollback"]["message"] == "rolled back in the task: web switched back to {'app': 'web', 'slot': 'blue'}"
    )
