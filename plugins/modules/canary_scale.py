#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nodowntime.k8s.canary_scale: one step of a replica-ratio canary."""

DOCUMENTATION = r"""
module: canary_scale
short_description: Set a canary's share of pods behind a Service by scaling two Deployments, capacity first
version_added: 0.1.0
author: nodowntime maintainers (@nodowntime)
description:
  - A canary without a mesh, a controller or CRDs. O(stable) and O(canary) are Deployments whose pods the same
    Service selects, so the canary's share of traffic is its share of the ready pods.
  - "Replica math with O(mode=keep_total): the canary gets O(weight)% of O(total_replicas) rounded to the
    nearest pod, halves up (10 pods: weight 14 -> 1 canary, 15 -> 2), and stable the rest. While
    0 < O(weight) < 100 each side keeps at least one pod (10 pods: weight 1 -> 1 canary, 99 -> 9). Weight 0
    gives the canary 0 pods; weight 100 gives it all of them and stable 0. With a total of 1 the one pod goes
    to the side the weight rounds to (49 -> stable, 50 -> canary)."
  - "Replica math with O(mode=surge): stable stays at O(total_replicas) and the canary gets O(weight)% of the
    total on top, rounded the same way (nearest, halves up) but at least one pod while O(weight) > 0; weight
    100 runs twice the pods. The canary's real share is then canary / (stable + canary), returned as
    RV(actual_weight) (10 pods at weight 50: 5 canary beside 10 stable, 33.33%)."
  - "Replica math with O(mode=capacity), for a canary behind a traffic router (M(nodowntime.k8s.traffic_weight) sets
    the split on a Gateway API route, exactly): the pods are capacity, not traffic. Stable stays at
    O(total_replicas) and the canary gets O(weight)% of it rounded up, and at least O(min_replicas) pods while
    O(weight) > 0, so it can carry the share the route sends it before the route sends it (10 pods at weight 11:
    2 canary pods). Weight 0 gives the canary 0 pods. RV(actual_weight) is then the canary's share of the pods,
    not of the traffic."
  - "With a HorizontalPodAutoscaler (C(autoscaling/v2)) on O(stable), the HPA owns stable's replicas and the
    module never writes them: stable keeps the HPA's count as it is at each step, and the canary gets
    O(weight)% of that count on top, rounded as in O(mode=surge), or with O(mode=capacity) as that mode rounds
    (O(total_replicas) and the recorded total are not used). So a canary step follows an HPA that scaled
    stable since the last one, and weight 0 only scales the canary to 0. The task warns with what it kept;
    RV(autoscaler) names the HPA.
    Needs C(list) on C(horizontalpodautoscalers.autoscaling)."
  - "Compared with Argo Rollouts: O(mode=keep_total) gives the counts of Argo's basic canary with
    C(maxSurge: 0), except where O(weight)% of the total comes to the total minus exactly half a pod
    (2 pods at 75, 10 pods at 95): there Argo finds no split and leaves the canary at 0 pods, here it gets all
    pods but one. With C(maxSurge) above 0 (Argo's default is 25%) Argo's basic canary may also run one pod
    over the total when that comes nearer the weight (10 pods at 15: 2 canary and 9 stable, here 2 and 8).
    Argo's traffic-routed canary, whose shape O(mode=surge) borrows, rounds the canary up (10 pods at weight
    11: 2 canary pods, here 1), as O(mode=capacity) does."
  - "Why nearest and not up: without a mesh the canary's share of the ready pods is its share of the traffic,
    so every pod rounded up sends more users to the untried version than O(weight) asked for (10 pods at
    weight 11: 20% instead of 10%). Argo rounds up where a mesh or ingress sets the traffic and pods are only
    capacity, so one pod too many costs spare capacity, not exposure. What rounding up guards against, a step
    with O(weight) > 0 whose canary has no pod, the at-least-one-pod rule prevents here."
  - "Order: the side that grows is scaled first and must be available at its new count before the side that
    shrinks is scaled down, so ready capacity never drops below the total. This wait happens even with
    O(wait=false); O(wait) only decides whether the task also waits for the last scale-down."
  - A canary that cannot become ready fails the task at once with the same fail-fast reasons as
    M(nodowntime.k8s.rollout) (CrashLoopBackOff, ErrImagePull, ImagePullBackOff, CreateContainerConfigError,
    the kubelet's other start errors, too many restarts), naming the pod and container; stable has not been
    shrunk at that point.
  - "With O(rollback_on_failure), that failure is corrected in the same task, as Argo Rollouts aborts a canary:
    on the watch event that shows it, the step goes to weight 0 (stable back to its count first, then the
    canary to 0), and only then does the task fail, with RV(outcome=rolled_back). A C(rescue) task would
    start about half a second later."
  - The total is recorded in the annotation C(nodowntime.k8s/canary-total-replicas) on the canary Deployment,
    so every later step splits the same number of pods.
  - With O(progress), the canary Deployment also records where the release is, in the annotation
    C(nodowntime.k8s/progress) (JSON, with the time C(at) added). Both annotations go with the step's first
    patch, which is the canary's own scale-up when it grows first, otherwise a patch of the canary's annotations
    just before stable is scaled. So a run killed in the middle of the step has already recorded it, and a
    re-run can tell where it stopped. The M(nodowntime.k8s.canary) role records its steps this way.
options:
  namespace:
    description: Namespace of both Deployments.
    type: str
    required: true
  stable:
    description: Name of the stable Deployment.
    type: str
    required: true
  canary:
    description: Name of the canary Deployment. It must exist; it may have 0 replicas.
    type: str
    required: true
  weight:
    description: The canary's share in percent, from 0 to 100.
    type: int
    required: true
  total_replicas:
    description:
      - How many pods to split. It is recorded on the canary and used by later steps.
      - By default the recorded total, or at the first step stable's replicas plus canary's.
    type: int
  mode:
    description:
      - V(keep_total) shrinks stable as the canary grows, so the pod count stays at O(total_replicas).
      - V(surge) keeps stable at O(total_replicas) and adds the canary on top (O(weight)% of the total, at least
        one pod while O(weight) > 0); the canary's real share is then RV(actual_weight).
      - V(capacity) keeps stable at O(total_replicas) and sizes the canary for the share a traffic router sends
        it (rounded up, at least O(min_replicas) while O(weight) > 0).
      - The description says how each mode rounds, and where that differs from Argo Rollouts.
    type: str
    choices: [keep_total, surge, capacity]
    default: keep_total
  min_replicas:
    description: With O(mode=capacity), the canary's least number of pods while O(weight) > 0.
    type: int
    default: 1
  rollback_on_failure:
    description:
      - When the canary fails while the step waits for it (the fail-fast reasons above), go to weight 0 at once,
        in this task, then fail with RV(outcome=rolled_back).
      - The weight-0 step records O(progress) with C(phase=rolling_back) and C(cause) (the failure's reason and
        message), so a C(rescue) that passes RV(rollback)'s C(progress) to its own weight-0 step finds nothing to
        change.
      - Only with O(mode=keep_total) or O(mode=surge), where the pods split the traffic. With O(mode=capacity)
        a traffic router may still send the canary its share; the route must go back first
        (M(nodowntime.k8s.traffic_weight)), so the task refuses the option.
      - Not in check mode, where nothing waits.
    type: bool
    default: false
  wait:
    description:
      - Wait until both Deployments are available at their new counts, the canary first; then the canary's
        verdict is asked again, so a canary that failed while stable was waited on fails the step.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for each scale-up and for the final state.
    type: int
    default: 300
extends_documentation_fragment:
  - nodowntime.k8s.auth
  - nodowntime.k8s.attributes
  - nodowntime.k8s.progress
attributes:
  check_mode:
    support: full
    details: Reads both Deployments and sends each patch as a server-side dry run, without waiting between them.
  diff_mode:
    support: full
    details: Shows both Deployments' replicas, the recorded total and, with O(progress), the recorded progress
      before and after.
  idempotent:
    support: full
    details: When both Deployments already have their counts and the total (and O(progress), C(at) aside) is
      recorded, nothing is patched.
seealso:
  - module: nodowntime.k8s.analysis
  - module: nodowntime.k8s.switch_selector
  - module: nodowntime.k8s.rollout
  - name: Argo Rollouts canary
    description: The basic (replica-ratio) canary whose replica math this module follows, with the differences
      the description gives.
    link: https://argo-rollouts.readthedocs.io/en/stable/features/canary/
"""

EXAMPLES = r"""
- name: Canary in steps, each gated by analysis; any failure sends all pods back to stable
  module_defaults:
    nodowntime.k8s.canary_scale:
      namespace: shop
      stable: web
      canary: web-canary
    nodowntime.k8s.analysis:
      url: http://web-canary.shop.svc:8080/metrics
      count: 3
      interval: 20
      success_condition: error_rate < `0.01`
  block:
    - name: 10% of the pods to the canary
      nodowntime.k8s.canary_scale:
        weight: 10

    - name: Gate on the canary's error rate
      nodowntime.k8s.analysis:

    - name: 50%
      nodowntime.k8s.canary_scale:
        weight: 50

    - name: Gate again
      nodowntime.k8s.analysis:

    - name: Promote - every pod runs the canary
      nodowntime.k8s.canary_scale:
        weight: 100
  rescue:
    - name: Abort - stable scales back up before the canary goes
      nodowntime.k8s.canary_scale:
        weight: 0

- name: 25% of the pods; a canary that crash-loops goes back to 0 in this task, before it fails
  nodowntime.k8s.canary_scale:
    namespace: shop
    stable: web
    canary: web-canary
    weight: 25
    rollback_on_failure: true

- name: Never shrink stable; run 2 canary pods beside 8 stable ones
  nodowntime.k8s.canary_scale:
    namespace: shop
    stable: web
    canary: web-canary
    weight: 25
    total_replicas: 8
    mode: surge

- name: Step 2 at 50%, recorded on the canary with its first patch for a re-run to read
  nodowntime.k8s.canary_scale:
    namespace: shop
    stable: web
    canary: web-canary
    weight: 50
    progress: {phase: step, step: 2, weight: 50, holder: "{{ lookup('nodowntime.k8s.run_identity') }}"}
"""

RETURN = r"""
stable_replicas:
  description: Stable's replicas after the step.
  returned: success
  type: int
  sample: 9
canary_replicas:
  description: The canary's replicas after the step.
  returned: success
  type: int
  sample: 1
requested_weight:
  description: O(weight) as given.
  returned: success
  type: int
  sample: 14
actual_weight:
  description: The canary's share of the pods behind the Service, in percent.
  returned: success
  type: float
  sample: 10.0
total_replicas:
  description: The total the step split, as recorded on the canary.
  returned: success
  type: int
  sample: 10
autoscaler:
  description:
    - The HorizontalPodAutoscaler that scales O(stable), whose count the step kept; empty without one. Its keys
      are those of M(nodowntime.k8s.rollout)'s C(autoscaler) (C(name), C(min_replicas), C(max_replicas),
      C(target)), without C(note).
  returned: success
  type: dict
  sample: {name: web, min_replicas: 2, max_replicas: 10, target: web}
progress:
  description: The progress the canary records after the step (or would, in check mode); empty when none.
  returned: success
  type: dict
  sample: {phase: step, step: 2, weight: 50, at: "2025-01-31T12:00:03Z"}
reason:
  description: Why the wait failed, for example V(CrashLoopBackOff), V(ErrImagePull) or V(WaitTimeout).
  returned: failure while waiting
  type: str
  sample: CrashLoopBackOff
failing_pods:
  description:
    - The pods behind a fail-fast verdict, one entry per failing container.
    - At most 20, by pod name; the failure message counts them all.
  returned: failure while waiting
  type: list
  elements: dict
  sample: [{pod: web-canary-7d4-x, container: app, reason: CrashLoopBackOff, message: "back-off 10s", restarts: 3}]
outcome:
  description:
    - V(rolled_back) when O(rollback_on_failure) took the canary back to 0 after the failure; V(failed) when that
      went wrong too (RV(rollback) says how).
  returned: failure while waiting, with O(rollback_on_failure)
  type: str
  sample: rolled_back
rolled_back_at:
  description: When the rollback began, UTC (ISO 8601); RV(timeline) has each of its patches.
  returned: when RV(outcome=rolled_back)
  type: str
  sample: "2025-01-31T12:00:03.120Z"
rollback:
  description:
    - The weight-0 step's own result (C(stable_replicas), C(canary_replicas), C(changed), ...), with C(message),
      and C(progress) as recorded but without C(at); or C(failed) and C(msg) when it failed.
  returned: failure while waiting, with O(rollback_on_failure)
  type: dict
  sample: {changed: true, canary_replicas: 0, stable_replicas: 4, message: "rolled back in the task: the canary to 0"}
timeline:
  description: What happened when, on the host's monotonic clock.
  returned: always
  type: list
  elements: dict
  sample: [{elapsed: 0.01, monotonic: 5123.4, message: "scaled canary web-canary to 1"}]
"""

from ansible_collections.nodowntime.k8s.plugins.module_utils._argspec import AUTH, PROGRESS, ArgumentSpec, wait
from ansible_collections.nodowntime.k8s.plugins.module_utils._backends import canary_scale
from ansible_collections.nodowntime.k8s.plugins.module_utils._backends.module_main import run_module
from ansible_collections.nodowntime.k8s.plugins.module_utils._plan import canary_replicas

ARGUMENT_SPEC = AUTH.merge(
    ArgumentSpec(
        {
            "namespace": {"type": "str", "required": True},
            "stable": {"type": "str", "required": True},
            "canary": {"type": "str", "required": True},
            "weight": {"type": "int", "required": True},
            "total_replicas": {"type": "int"},
            "mode": {"type": "str", "choices": list(canary_replicas.MODES), "default": canary_replicas.KEEP_TOTAL},
            "min_replicas": {"type": "int", "default": 1},
            "rollback_on_failure": {"type": "bool", "default": False},
        }
    ),
    wait(timeout=300),
    PROGRESS,
)


def main():
    run_module(ARGUMENT_SPEC, canary_scale.step, check=canary_scale.check)


if __name__ == "__main__":
    main()
