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

from ansible_collections.nodowntime.k8s.plugins.module_utils._argspec import AUTH, PROGRESS, ArgumentSpec, wait
from ansible_collections.nodowntime.k8s.plugins.module_utils._backends import switch_selector
from ansible_collections.nodowntime.k8s.plugins.module_utils._backends.module_main import run_module

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


def main():
    run_module(ARGUMENT_SPEC, switch_selector.switch, check=switch_selector.check)


if __name__ == "__main__":
    main()
