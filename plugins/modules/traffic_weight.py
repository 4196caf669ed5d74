#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nodowntime.k8s.traffic_weight: a canary's exact weight on a Gateway API HTTPRoute."""

DOCUMENTATION = r"""
module: traffic_weight
short_description: Set a canary's exact share of an HTTPRoute's traffic, and wait until the gateway took it
version_added: 0.1.0
author: nodowntime maintainers (@nodowntime)
description:
  - "A canary by route weights (Gateway API, C(gateway.networking.k8s.io/v1) HTTPRoute): the gateway sends
    O(weight)% of the requests of the managed rules to O(canary_service) and the rest to O(stable_service),
    whatever the pod counts. Argo Rollouts' Gateway API plugin and Flagger's Gateway API router do the same."
  - "The route stays the user's. The module changes only the C(backendRefs) of the managed rules: stable gets
    weight C(100 - weight), the canary C(weight); a canary backendRef the rule did not have is added for the
    release (same port as stable's). With O(header_route), one rule of ours is put first. Nothing else of the
    route changes: not its other rules, parentRefs, hostnames, matches or filters."
  - "What the managed rules looked like before the release is kept in the annotation
    C(nodowntime.k8s/traffic-weight) on the route, written in the same patch as the first change. O(weight=0)
    without O(header_route) puts the recorded backendRefs back and removes the annotation in one patch: the
    route is then exactly as the user wrote it (a GitOps tool sees no drift), and a canary backendRef the user
    had at weight 0 is kept."
  - "Managed rules: those named in O(rules), or every rule with a backendRef to O(stable_service). A managed rule
    may send only to O(stable_service) (once) and O(canary_service) (once, at weight 0 before the release); the
    module refuses others, naming the rule, before it changes anything. Rules of the user that send to the canary
    by a header are not managed and keep their weights (Argo Rollouts' plugin overwrote them,
    argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi#158)."
  - "Why not server-side apply: the HTTPRoute CRD types C(spec.rules) as an atomic list, so one field manager
    owns all the rules; applying our weights would take every rule from the user's manager (or conflict on each
    step). The module sends a JSON patch whose C(test) operations check the rules (and the annotation) are
    still what it read, so a route someone changed meanwhile fails the task whole, with nothing changed."
  - "A route someone changed during the release (weights of the managed rules that are neither the user's nor
    stable + canary = 100 as this module wrote them, rules moved) is refused as out of sync, saying what to put
    back."
  - "Before a patch that sends requests to a Service that got none (the canary at its first weight or its
    preview, stable again after weight 100), the module checks that the Service exists and watches its
    EndpointSlices until they list a ready pod, for up to O(wait_timeout) seconds, whatever O(wait) says: a
    gateway answers a backend's share with 503 while the Service lists no ready endpoint (Traefik, for one,
    routes only to the endpoints its EndpointSlices call ready). A Service that is missing (V(NotFound)) or
    lists no ready pod in time (V(NoReadyEndpoints)) fails the task with nothing changed."
  - "With O(wait=true) the module watches the route until, for B(each) of its C(parentRefs), the gateway's
    C(status.parents) entry shows C(Accepted) and C(ResolvedRefs) C(True) with an C(observedGeneration) at least
    the generation the patch produced. A current C(False) condition fails the task with the gateway's own reason
    and message (for example a backendRef to a missing Service: C(ResolvedRefs=False BackendNotFound)).
    Conditions about an older generation do not count: the data plane may still route by the old weights."
options:
  name:
    description: Name of the HTTPRoute.
    type: str
    required: true
  namespace:
    description: Namespace of the HTTPRoute and both Services.
    type: str
    required: true
  stable_service:
    description: The Service of the stable pods, as the route's backendRefs name it.
    type: str
    required: true
  canary_service:
    description: The Service of the canary pods only (it must not select stable's pods).
    type: str
    required: true
  weight:
    description:
      - The canary's share of the managed rules' requests in percent, from 0 to 100, exact.
      - V(0) without O(header_route) gives the route back exactly as it was before the release.
    type: int
    required: true
  rules:
    description:
      - Names (C(spec.rules[].name)) of the rules the release manages.
      - By default every rule with a backendRef to O(stable_service).
    type: list
    elements: str
  header_route:
    description:
      - A preview for testers and analysis probes; leave it out to remove it (at promote and abort).
      - One rule, named O(header_route.rule_name) and put first, with the managed rules' matches each also
        requiring the header (or cookie), sending every matching request to the canary at every weight,
        weight 0 included. With one more match condition it is more specific than the managed rules, so
        Gateway API precedence chooses it for marked requests.
    type: dict
    suboptions:
      name:
        description: The header's name (V(type=header)) or the cookie's (V(type=cookie)).
        type: str
        required: true
      value:
        description: The value that marks a request, matched exactly.
        type: str
        required: true
      type:
        description:
          - V(header) matches the header exactly; V(cookie) matches C(name=value) in the C(Cookie) header by a
            C(RegularExpression) header match (support for those is implementation-specific in Gateway API).
        type: str
        choices: [header, cookie]
        default: header
      rule_name:
        description: The name of the preview rule; it must not name a rule the route has.
        type: str
        default: canary-preview
  wait:
    description: Wait until the gateway accepted the route's new generation for every parentRef.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the gateway.
    type: int
    default: 60
extends_documentation_fragment:
  - nodowntime.k8s.auth
  - nodowntime.k8s.attributes
attributes:
  check_mode:
    support: full
    details: Reads the route and sends the patch as a server-side dry run; does not read the Services or wait.
  diff_mode:
    support: full
    details: Shows the managed rules' stable and canary weights and the preview rule, before and after.
  idempotent:
    support: full
    details: When the managed rules already have the weights (and the preview rule is as asked), nothing is
      patched; the task still waits on the gateway.
notes:
  - Needs C(get), C(patch), C(list) and C(watch) on C(httproutes.gateway.networking.k8s.io), C(get) on
    C(services) and C(list) and C(watch) on C(endpointslices.discovery.k8s.io).
  - A GitOps tool that self-heals the route during a release fights it; let it ignore C(spec.rules) of the
    route, and the annotation C(nodowntime.k8s/traffic-weight), while a release runs.
seealso:
  - module: nodowntime.k8s.canary_scale
  - name: Gateway API HTTPRoute
    description: The route's rules, backendRefs weights and status conditions.
    link: https://gateway-api.sigs.k8s.io/api-types/httproute/
"""

EXAMPLES = r"""
- name: 5% to the canary, exactly; testers reach it with X-Canary=always
  nodowntime.k8s.traffic_weight:
    name: web
    namespace: shop
    stable_service: web
    canary_service: web-canary
    weight: 5
    header_route: {name: X-Canary, value: always}

- name: Only the rule named api; the others keep going to stable
  nodowntime.k8s.traffic_weight:
    name: web
    namespace: shop
    stable_service: web
    canary_service: web-canary
    weight: 25
    rules: [api]

- name: Promote or abort - the route back exactly as the user wrote it, preview rule removed
  nodowntime.k8s.traffic_weight:
    name: web
    namespace: shop
    stable_service: web
    canary_service: web-canary
    weight: 0
"""

RETURN = r"""
managed_rules:
  description: The managed rules, by name, or C(rules[i]) (the index in the user's rules) for unnamed ones.
  returned: success
  type: list
  elements: str
  sample: ["rules[0]"]
weights_before:
  description: Stable's and the canary's weights in each managed rule before the task.
  returned: success
  type: dict
  sample: {"rules[0]": {stable: 1, canary: 0}}
weights_after:
  description: Stable's and the canary's weights in each managed rule after the task.
  returned: success
  type: dict
  sample: {"rules[0]": {stable: 95, canary: 5}}
preview_rule:
  description: The preview rule the route has after the task; empty without O(header_route).
  returned: success
  type: dict
generation:
  description: The route's C(metadata.generation) after the task, the one the wait required.
  returned: success
  type: int
  sample: 4
parents:
  description: What the gateways wrote in C(status.parents), per parent.
  returned: always
  type: list
  elements: dict
  sample:
    - parent: gateway shop/edge
      controller: traefik.io/gateway-controller
      conditions:
        Accepted: {status: "True", reason: Accepted, message: "", observedGeneration: 4}
        ResolvedRefs: {status: "True", reason: ResolvedRefs, message: "", observedGeneration: 4}
reason:
  description: Why the task failed, for example V(GatewayRejected), V(WaitTimeout), V(Conflict), V(NotFound) (a
    Service to send requests to) or V(NoReadyEndpoints).
  returned: failure
  type: str
  sample: GatewayRejected
timeline:
  description: What happened when, on the host's monotonic clock.
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.nodowntime.k8s.plugins.module_utils._argspec import AUTH, ArgumentSpec, wait
from ansible_collections.nodowntime.k8s.plugins.module_utils._backends import traffic_weight
from ansible_collections.nodowntime.k8s.plugins.module_utils._backends.module_main import run_module
from ansible_collections.nodowntime.k8s.plugins.module_utils._plan import route_weights

ARGUMENT_SPEC = AUTH.merge(
    ArgumentSpec(
        {
            "name": {"type": "str", "required": True},
            "namespace": {"type": "str", "required": True},
            "stable_service": {"type": "str", "required": True},
            "canary_service": {"type": "str", "required": True},
            "weight": {"type": "int", "required": True},
            "rules": {"type": "list", "elements": "str"},
            "header_route": {
                "type": "dict",
                "options": {
                    "name": {"type": "str", "required": True},
                    "value": {"type": "str", "required": True},
                    "type": {"type": "str", "choices": list(route_weights.HEADER_ROUTE_TYPES), "default": "header"},
                    "rule_name": {"type": "str", "default": route_weights.PREVIEW_RULE},
                },
            },
        }
    ),
    wait(timeout=60),
)


def main():
    run_module(ARGUMENT_SPEC, traffic_weight.run, check=traffic_weight.check)


if __name__ == "__main__":
    main()
