#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nodowntime.k8s.switch_selector: the blue/green switch of a Service."""

DOCUMENTATION = r"""
module: switch_selector
short_description: Switch a Service's selector to new pods, only when they are ready, and wait until traffic moved
version_added: 0.1.0
author: nodowntime maintainers (@nodowntime)
description:
  - The blue/green switch, without a mesh, a controller or CRDs. Rolling back is the same call with the
    returned RV(previous_selector).
  - "Before it changes anything, the module lists the pods that O(selector) matches. If too few are ready it
    fails and changes nothing, for example C(refusing to switch web: 1 of 3 pods matching {app: web, slot: green}
    are ready). An empty selector and a selector that matches no pod are always refused: either would stop
    all traffic."
  - The Service's selector is replaced as a whole (keys missing from O(selector) are removed), guarded by the
    Service's resourceVersion, so a concurrent change fails the task instead of being overwritten.
  - After the patch, with O(wait=true), the module watches the Service's EndpointSlices until they list every
    new pod as ready and none of the old pods (those the previous selector matched and the new one does not),
    so traffic has moved as far as the API can tell. Proxies apply that a moment later; keep the old pods
    running for a while after the switch.
  - With O(progress), the Service also records where the release is, in the annotation
    C(nodowntime.k8s/progress) (JSON, with the time C(at) added), written in the same patch as the selector,
    so the two cannot disagree; with the selector unchanged, the annotation alone is patched. The
    M(nodowntime.k8s.blue_green) role records its phases this way, and a re-run of an interrupted release
    reads them.
options:
  service:
    description: Name of the Service.
    type: str
    required: true
  namespace:
    description: Namespace of the Service and its pods.
    type: str
    required: true
  selector:
    description:
      - "The complete new selector, for example V({app: web, slot: green})."
      - Values are label values, so numbers are written as strings (V(2) becomes V("2")).
    type: dict
    required: true
  min_ready:
    description:
      - How many pods matched by O(selector) must be ready before the switch.
      - By default every matched pod must be ready, and there must be at least one.
    type: int
  wait:
    description: Wait until the EndpointSlices list exactly the new pods as ready and none of the old ones.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the EndpointSlices; the task fails after that, with the selector switched.
    type: int
    default: 120
extends_documentation_fragment:
  - nodowntime.k8s.auth
  - nodowntime.k8s.attributes
  - nodowntime.k8s.progress
attributes:
  check_mode:
    support: full
    details: Check mode lists the pods and refuses exactly as a real run would, and sends the patch as a
      server-side dry run.
  diff_mode:
    support: full
    details: Shows the selector, and the recorded progress when O(progress) is set, before and after.
  idempotent:
    support: full
    details: A Service that already has O(selector) (and O(progress), C(at) aside) is not patched
      (C(changed=false)); with O(wait=true) the endpoints are still checked.
seealso:
  - module: nodowntime.k8s.canary_scale
  - module: nodowntime.k8s.analysis
  - name: EndpointSlices
    description: How Kubernetes publishes a Service's endpoints.
    link: https://kubernetes.io/docs/concepts/services-networking/endpoint-slices/
"""

EXAMPLES = r"""
- name: Send web's traffic to the green pods once every one of them is ready
  nodowntime.k8s.switch_selector:
    namespace: shop
    service: web
    selector: {app: web, slot: green}
  register: switch

- name: Check green before the real switch
  nodowntime.k8s.analysis:
    url: http://web.shop.svc/metrics
    success_condition: error_rate < `0.01`
  register: gate
  ignore_errors: true

- name: Roll back to blue if the check failed
  nodowntime.k8s.switch_selector:
    namespace: shop
    service: web
    selector: "{{ switch.previous_selector }}"
  when: gate is failed

- name: Switch to green, recording in the same patch that the release is past its switch
  nodowntime.k8s.switch_selector:
    namespace: shop
    service: web
    selector: {app: web, slot: green}
    progress: {phase: switched, colour: green, previous: blue, holder: "{{ lookup('nodowntime.k8s.run_identity') }}"}

- name: Switch when at least 4 of green's pods are ready
  nodowntime.k8s.switch_selector:
    namespace: shop
    service: web
    selector: {app: web, slot: green}
    min_ready: 4
    wait_timeout: 60
"""

RETURN = r"""
previous_selector:
  description: The selector before this task; pass it back as O(selector) to roll back.
  returned: success, and failures after the Service was read
  type: dict
  sample: {app: web, slot: blue}
selector:
  description: The selector the Service has now (or would have, in check mode).
  returned: success, and failures after the Service was read
  type: dict
  sample: {app: web, slot: green}
ready_endpoints:
  description:
    - Names of the pods the EndpointSlices list as ready when the wait ended.
    - With O(wait=false), the ready pods O(selector) matched before the patch.
  returned: success
  type: list
  elements: str
  sample: [web-green-6f7c9-abcde, web-green-6f7c9-fghij]
progress:
  description: The progress the Service records after the task (or would, in check mode); empty when none.
  returned: success
  type: dict
  sample: {phase: switched, colour: green, previous: blue, at: "2025-01-31T12:00:03Z"}
switch_seconds:
  description: Seconds from the patch until the EndpointSlices showed the switch (0 without a patch or a wait).
  returned: success
  type: float
  sample: 0.42
timeline:
  description: What happened when, on the host's monotonic clock.
  returned: success
  type: list
  elements: dict
  sample: [{elapsed: 0.012, monotonic: 5123.4, message: "patched selector to {app: web, slot: green}"}]
"""

from datetime import datetime, timezone

from ansible_collections.nodowntime.k8s.plugins.module_utils._argspec import (
    AUTH,
    PROGRESS,
    ArgumentSpec,
    check_wait,
    wait,
)
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.client import Client
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.errors import ApiError
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.waiter import Source, wait_until
from ansible_collections.nodowntime.k8s.plugins.module_utils._plan.label_selector import selector_string
from ansible_collections.nodowntime.k8s.plugins.module_utils._release import progress_record
from ansible_collections.nodowntime.k8s.plugins.module_utils._release.timeline import Timeline
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

ARGUMENT_SPEC = AUTH.merge(
    ArgumentSpec(
        {
            "service": {"type": "str", "required": True},
            "namespace": {"type": "str", "required": True},
            "selector": {"type": "dict", "required": True},
            "min_ready": {"type": "int"},
        }
    ),
    wait(timeout=120),
    PROGRESS,
)


def matched_pods(client, namespace, selector):
    if not selector:
        return []
    pods, _resource_version = client.list(
        "Pod", namespace, label_selector=selector_string({"matchLabels": selector}), keep=pod_summary
    )
    return pods


def plan(client, params, selector):
    """Everything the switch needs, read before anything changes; SwitchRefused if it must not happen."""
    name, namespace = params["service"], params["namespace"]
    service = client.get("Service", namespace, name)
    previous = (service.get("spec") or {}).get("selector") or {}
    new_pods = matched_pods(client, namespace, selector)
    if previous == selector:
        # Nothing to switch, and no pod leaves; refusing now would only break a re-run after a good switch.
        return service, previous, ready_matching(selector, new_pods)[1], []
    ready = check_ready(name, selector, new_pods, params["min_ready"])
    new_names = {p["metadata"]["name"] for p in new_pods}
    old = sorted(
        p["metadata"]["name"]
        for p in matched_pods(client, namespace, previous)
        if p["metadata"]["name"] not in new_names
    )
    return service, previous, ready, old


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


def main():
    module = ARGUMENT_SPEC.create_module()
    params = module.params
    try:
        selector = validate(params["service"], params["selector"], params["min_ready"])
        progress = progress_record.validate(params["progress"])
        check_wait(params)
    except ValueError as e:
        module.fail_json(msg=str(e))

    client = Client.from_module(module)
    timeline = Timeline(log=module.log)
    report, patched = {}, False
    try:
        service, previous, ready, old = plan(client, params, selector)
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
                "Service", params["namespace"], params["service"], patch, patch_type="merge", dry_run=module.check_mode
            )
            patched = not module.check_mode
        if module.check_mode:
            module.exit_json(
                changed=changed,
                diff=diff,
                ready_endpoints=ready,
                switch_seconds=0.0,
                timeline=timeline.entries,
                **report,
            )
        if patched and previous != selector:
            timeline.add(f"patched selector of {params['service']} from {show(previous)} to {show(selector)}")
        if patched and after != recorded:
            timeline.add(f"recorded progress {after.get('phase')} on {params['service']}")
        patched_at = timeline.elapsed()
        switch_seconds = 0.0
        if params["wait"]:
            result, ready = wait_for_endpoints(client, params, ready, old, timeline)
            if result.state != verdict.DONE:
                module.fail_json(
                    msg=f"switched {params['service']} to {show(selector)}, but the endpoints did not "
                    f"follow: {result.message}; to roll back, switch to {show(previous)}",
                    changed=changed,
                    diff=diff,
                    timeline=timeline.entries,
                    **report,
                )
            switch_seconds = round(timeline.elapsed() - patched_at, 3) if previous != selector else 0.0
    except SwitchRefused as e:
        module.fail_json(msg=str(e), changed=False, **report)
    except ApiError as e:
        module.fail_json(msg=e.message, changed=patched, timeline=timeline.entries, **report)
    module.exit_json(
        changed=changed,
        diff=diff,
        ready_endpoints=ready,
        switch_seconds=switch_seconds,
        timeline=timeline.entries,
        **report,
    )


if __name__ == "__main__":
    main()
