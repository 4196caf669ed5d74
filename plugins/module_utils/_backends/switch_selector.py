# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One run of the switch_selector module: check the new pods, patch the Service, wait for the endpoints.

check(params) -> (selector, progress); ValueError for a selector or progress that must not be used
switch(client, params, checked, check_mode, timeline, warn) -> result (for exit_json)
raises TaskFailed(message, result)                            (for fail_json)
"""

from __future__ import annotations

from datetime import datetime, timezone

from ansible_collections.nodowntime.k8s.plugins.module_utils._argspec import check_wait
from ansible_collections.nodowntime.k8s.plugins.module_utils._backends.task_failed import TaskFailed
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.client import side_by_side
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.errors import ApiError
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.waiter import Source, wait_until
from ansible_collections.nodowntime.k8s.plugins.module_utils._plan.label_selector import selector_string
from ansible_collections.nodowntime.k8s.plugins.module_utils._release import progress_record
from ansible_collections.nodowntime.k8s.plugins.module_utils._status import verdict
from ansible_collections.nodowntime.k8s.plugins.module_utils._status.switch_checks import (
    SERVICE_NAME_LABEL,
    SwitchRefused,
    check_ready,
    endpoint_pods,
    pod_summary,
    ready_matching,
    show,
    traffic_moved,
    validate,
)


def matched_pods(client, namespace, selector):
    if not selector:
        return []
    pods, _resource_version = client.list(
        "Pod", namespace, label_selector=selector_string({"matchLabels": selector}), keep=pod_summary
    )
    return pods


def plan(client, params, selector):
    """What the switch needs before anything changes: (Service, previous selector, the new pods, the ready
    ones among them); SwitchRefused if it must not happen.  The Service and the new pods are read side by
    side: one round trip before the patch, which an analysis' abort makes right after its verdict."""
    name, namespace = params["service"], params["namespace"]
    service, new_pods = side_by_side(
        lambda: client.get("Service", namespace, name), lambda: matched_pods(client, namespace, selector)
    )
    previous = (service.get("spec") or {}).get("selector") or {}
    if previous == selector:
        # Nothing to switch, and no pod leaves; refusing now would only break a re-run after a good switch.
        return service, previous, new_pods, ready_matching(selector, new_pods)[1]
    return service, previous, new_pods, check_ready(name, selector, new_pods, params["min_ready"])


def leaving_pods(client, namespace, previous, new_pods):
    """The pods the previous selector matches and the new one does not: those the endpoints must drop.
    Read after the patch, which changes no pod, so that it does not delay the switch."""
    if not previous:
        return []
    new_names = {p["metadata"]["name"] for p in new_pods}
    return sorted(
        p["metadata"]["name"]
        for p in matched_pods(client, namespace, previous)
        if p["metadata"]["name"] not in new_names
    )


def patch_for(service, previous, selector, progress, now):
    """A merge patch that replaces the selector whole (when it changes) and records progress (when given and
    new), guarded by the resourceVersion we checked."""
    patch = {"metadata": {"resourceVersion": service["metadata"]["resourceVersion"]}}
    if previous != selector:
        replaced = {key: None for key in previous if key not in selector}
        replaced.update(selector)
        patch["spec"] = {"selector": replaced}
    if progress_record.differs(service, progress):
        patch["metadata"]["annotations"] = progress_record.annotations(progress, now)
    return patch


def wait_for_endpoints(client, params, ready, old, timeline):
    source = Source("EndpointSlice", params["namespace"], label_selector=f"{SERVICE_NAME_LABEL}={params['service']}")

    def evaluate(state):
        done, message = traffic_moved(state["slices"], ready, old)
        return verdict.done(message) if done else verdict.waiting(message)

    result, state = wait_until(client, {"slices": source}, evaluate, params["wait_timeout"], timeline)
    return result, sorted(endpoint_pods(state["slices"])[1])


def check(params):
    selector = validate(params["service"], params["selector"], params["min_ready"])
    progress = progress_record.validate(params["progress"])
    check_wait(params)
    return selector, progress


def switch(client, params, checked, check_mode, timeline, warn):
    selector, progress = checked
    report, patched = {}, False
    try:
        service, previous, new_pods, ready = plan(client, params, selector)
        recorded = progress_record.recorded(service)
        patch = patch_for(service, previous, selector, progress, datetime.now(timezone.utc))
        after = progress_record.recorded({"metadata": patch["metadata"]}) or recorded
        report = {"previous_selector": previous, "selector": selector, "progress": after}
        changed = previous != selector or after != recorded
        diff = {"before": {"selector": previous}, "after": {"selector": selector}}
        if progress is not None:
            diff["before"]["progress"], diff["after"]["progress"] = recorded, after
        if changed:
            client.patch(
                "Service", params["namespace"], params["service"], patch, patch_type="merge", dry_run=check_mode
            )
            patched = not check_mode
        if check_mode:
            return {
                "changed": changed,
                "diff": diff,
                "ready_endpoints": ready,
                "switch_seconds": 0.0,
                "timeline": timeline.entries,
                **report,
            }
        if patched and previous != selector:
            timeline.add(f"patched selector of {params['service']} from {show(previous)} to {show(selector)}")
        if patched and after != recorded:
            timeline.add(f"recorded progress {after.get('phase')} on {params['service']}")
        patched_at = timeline.elapsed()
        switch_seconds = 0.0
        if params["wait"]:
            old = leaving_pods(client, params["namespace"], previous, new_pods) if previous != selector else []
            result, ready = wait_for_endpoints(client, params, ready, old, timeline)
            if result.state != verdict.DONE:
                raise TaskFailed(
                    f"switched {params['service']} to {show(selector)}, but the endpoints did not "
                    f"follow: {result.message}; to roll back, switch to {show(previous)}",
                    {"changed": changed, "diff": diff, "timeline": timeline.entries, **report},
                )
            switch_seconds = round(timeline.elapsed() - patched_at, 3) if previous != selector else 0.0
    except SwitchRefused as e:
        raise TaskFailed(str(e), {"changed": False, **report}) from None
    except ApiError as e:
        raise TaskFailed(e.message, {"changed": patched, "timeline": timeline.entries, **report}) from None
    return {
        "changed": changed,
        "diff": diff,
        "ready_endpoints": ready,
        "switch_seconds": switch_seconds,
        "timeline": timeline.entries,
        **report,
    }
