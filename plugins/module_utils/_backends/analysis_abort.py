# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The analysis module's abort: the corrective change a failed run makes at once, in the same task.

OPTIONS                     the abort option's suboptions: one of canary_scale, switch_selector
check(abort) -> planned     None without abort; ValueError naming abort.<change>.<option> before any request
correct(client, planned, check_mode, timeline, warn) -> correct(cause) -> the change's result; raises TaskFailed

Argo Rollouts aborts a failed canary by sending all traffic back to stable; the same two changes the
roles make in their rescue, through the same backends: canary_scale to weight 0 (stable back to its
count first, then the canary to 0), or switch_selector back to the old selector.  Each records its
progress (when given) with phase rolling_back and the cause, as the rescue does, so the rescue finds
nothing left to change.
"""

from __future__ import annotations

from ansible_collections.nodowntime.k8s.plugins.module_utils._backends import canary_scale, switch_selector
from ansible_collections.nodowntime.k8s.plugins.module_utils._plan import canary_replicas


def _change(options, wait_timeout):
    """A change's suboptions: its own, and those every change takes."""
    return {
        "type": "dict",
        "options": {
            **options,
            "namespace": {"type": "str", "required": True},
            "wait": {"type": "bool", "default": True},
            "wait_timeout": {"type": "int", "default": wait_timeout},
            "progress": {"type": "dict"},
        },
    }


OPTIONS = {
    "canary_scale": _change(
        {
            "stable": {"type": "str", "required": True},
            "canary": {"type": "str", "required": True},
            # Capacity mode is behind a router: the route goes back first (canary_scale's own rule).
            "mode": {
                "type": "str",
                "choices": [canary_replicas.KEEP_TOTAL, canary_replicas.SURGE],
                "default": canary_replicas.KEEP_TOTAL,
            },
        },
        300,
    ),
    "switch_selector": _change(
        {
            "service": {"type": "str", "required": True},
            "selector": {"type": "dict", "required": True},
            "min_ready": {"type": "int"},
        },
        120,
    ),
}
CHANGES = tuple(OPTIONS)
ROLLING_BACK = "rolling_back"


def check(abort):
    """(change, params, checked) for the change abort names, checked by its backend; None without abort."""
    if not abort:
        return None
    given = [change for change in CHANGES if abort.get(change) is not None]
    if len(given) != 1:
        raise ValueError(f"abort needs exactly one of {', '.join(CHANGES)}, got {len(given)}")
    (change,) = given
    params = dict(abort[change])
    if params["progress"] is not None:  # what the change stands for, checked as it will be recorded
        params["progress"] = dict(params["progress"], phase=ROLLING_BACK)
    if change == "canary_scale":
        params.update(weight=0, total_replicas=None, min_replicas=1, rollback_on_failure=False)
    try:
        checked = (canary_scale if change == "canary_scale" else switch_selector).check(params)
    except ValueError as e:
        raise ValueError(f"abort.{change}: {e}") from None
    return change, params, checked


def correct(client, planned, check_mode, timeline, warn):
    """The change, as a function of the failure's cause (recorded in the progress, as the rescue records it)."""
    change, params, checked = planned

    def to_zero(cause):
        return canary_scale.to_zero(client, params, checked, cause, timeline, warn, check_mode)

    def switch_back(cause):
        selector, progress = checked
        record = None if progress is None else dict(progress, cause=cause)
        timeline.add(f"rolling back: {params['service']} back to {selector} ({cause})")
        return switch_selector.switch(client, params, (selector, record), check_mode, timeline, warn)

    return to_zero if change == "canary_scale" else switch_back


def describe(planned):
    """What the change does, for the result's message."""
    change, params, _checked = planned
    if change == "canary_scale":
        return f"{params['canary']} to 0, {params['stable']} serving"
    return f"{params['service']} switched back to {params['selector']}"
