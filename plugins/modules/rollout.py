#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: rollout
short_description: Roll a Deployment out, wait for it like kubectl does, and roll it back on failure
version_added: 0.1.0
description:
  - Changes a Deployment (a whole manifest by server-side apply, new images, or a strategic-merge
    patch of its pod template), then watches the rollout until it is complete, has failed, or
    O(wait_timeout) passes.
  - The verdict matches C(kubectl rollout status) word for word (observedGeneration, updated,
    old and available replicas, C(ProgressDeadlineExceeded)) and goes further. It waits until no
    old pod is left running, Terminating ones included (the Deployment's C(status.terminatingReplicas)
    where the cluster counts them, Kubernetes 1.35 and later by default, else the pods themselves; a
    pod whose containers have stopped may stay in the API a moment longer), and it fails at once when a new pod
    waits with an error that waiting does not cure (C(CrashLoopBackOff), C(ErrImagePull),
    C(ImagePullBackOff), C(CreateContainerConfigError) and the kubelet's other start errors, see O(fail_fast)),
    or keeps restarting.
  - When the rollout fails and O(rollback_on_failure) is set, it undoes it like
    C(kubectl rollout undo), waits until the undo is complete, and then fails the task with
    RV(outcome=rolled_back), so a C(rescue) block can act on it.
  - Waiting uses the watch API and never sleep-polls. The result's RV(timeline) records each change it saw.
  - Also reports status, pauses, resumes, restarts and rolls back on request (O(state)).
author:
  - nodowntime maintainers (@nodowntime)
extends_documentation_fragment:
  - nodowntime.k8s.auth
  - nodowntime.k8s.attributes
attributes:
  idempotent:
    support: partial
    details: O(state=restarted) restarts the pods on every run, like C(kubectl rollout restart).
options:
  name:
    description: Name of the Deployment.
    type: str
    required: true
  namespace:
    description: Namespace of the Deployment.
    type: str
    required: true
  state:
    description:
      - V(present) applies O(definition), O(images), O(template_patch) and the strategy options, then waits.
      - V(status) changes nothing and reports the rollout; with O(wait) it waits for it to finish.
      - V(rolled_back) undoes the last rollout, or goes to O(to_revision), like C(kubectl rollout undo).
        A paused Deployment is refused; nothing changes when the template already matches.
      - V(paused) and V(resumed) set C(spec.paused). After V(resumed) it waits for the rollout.
      - V(restarted) restarts every pod with a rolling update, like C(kubectl rollout restart).
    type: str
    choices: [present, status, rolled_back, paused, resumed, restarted]
    default: present
  definition:
    description:
      - A whole Deployment manifest. It is created or updated by server-side apply with field
        manager C(nodowntime), taking over fields that other managers own.
      - C(metadata.name) and C(metadata.namespace) default to O(name) and O(namespace) and must match them.
      - O(images) and the strategy options are applied on top of it.
      - When a HorizontalPodAutoscaler (C(autoscaling/v2)) scales the live Deployment, it owns the replicas;
        the definition's C(spec.replicas) never overwrites the live count, which is sent unchanged, and the
        task warns when the two differ (leave C(spec.replicas) out of a definition an HPA scales, as with
        C(kubectl apply)). RV(autoscaler) names the HPA. Needs C(list) on
        C(horizontalpodautoscalers.autoscaling).
    type: dict
  images:
    description:
      - 'New images by container name, for example C({app: registry.example.com/shop:1.4.2}).'
      - Every name must be a container (or init container) of the pod template.
    type: dict
  template_patch:
    description:
      - A strategic-merge patch of C(spec.template), in the API's camelCase.
      - 'For example C({metadata: {annotations: {release: "42"}}})
        or C({spec: {containers: [{name: app, env: [...]}]}}).'
      - Cannot be combined with O(definition).
    type: dict
  max_surge:
    description:
      - How many pods above the desired count may exist during the rollout, a number or a percentage
        such as C(25%). Percentages round up, as the controller does.
    type: raw
  max_unavailable:
    description:
      - How many pods below the desired count are allowed during the rollout, a number or a percentage.
        Percentages round down. It may not be 0 when O(max_surge) is 0 (the API's own rule).
    type: raw
  min_ready_seconds:
    description: Seconds a new pod must be ready before it counts as available.
    type: int
  progress_deadline_seconds:
    description:
      - Seconds without progress after which the controller marks the rollout failed
        (C(ProgressDeadlineExceeded)). Must be greater than O(min_ready_seconds).
    type: int
  wait:
    description: Wait until the rollout is complete (or has failed).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the rollout, and again for a rollback. When it passes, the rollout counts as failed.
    type: int
    default: 600
  fail_fast:
    description:
      - Fail as soon as a new pod's container waits with a start error that waiting does not cure, or has
        restarted 3 times, instead of waiting for the progress deadline. The errors are those of the kubelet
        that only a new pod template cures, which are C(CrashLoopBackOff), C(ErrImagePull), C(ImagePullBackOff),
        C(ImageInspectError), C(ErrImageNeverPull), C(InvalidImageName), C(CreateContainerConfigError) and
        C(CreateContainerError); and C(RunContainerError), C(PreStartHookError) and C(PostStartHookError) once
        the container has exited (a command the image lacks, a failing hook). Without an exit those mean the
        container runtime itself failed (a containerd restart), and the kubelet's next try cures them.
    type: bool
    default: true
  fail_on_unschedulable:
    description:
      - Fail as soon as the scheduler finds no node for a new pod (its C(PodScheduled) condition is C(False)
        with reason C(Unschedulable)), instead of waiting for the progress deadline. The message quotes the
        scheduler and names the shortfall, what the pending pods request against what the nodes have free
        (as M(nodowntime.k8s.capacity) counts it). That count lists nodes and pods in every namespace; without
        that grant the message says so and the task fails all the same.
      - While a pod of one of the Deployment's old ReplicaSets is left (Terminating ones included) it waits all
        the same, since that pod's room comes free as it goes.
      - Off by default, because in a rolling update a pending surge pod gets its room once an old pod goes, and
        a cluster autoscaler may add a node. Turn it on where no room comes free by waiting, such as a new
        blue/green colour next to the live one (the C(nodowntime.k8s.blue_green) role does).
      - Independent of O(fail_fast). A rollback by O(rollback_on_failure) waits for unschedulable pods, since
        the failed pods free their room as they go.
    type: bool
    default: false
  rollback_on_failure:
    description:
      - When the rollout this task started fails, undo it (to the revision that served before, or
        O(to_revision)), wait until the undo is complete, then fail with RV(outcome=rolled_back).
    type: bool
    default: true
  to_revision:
    description:
      - With O(state=rolled_back), the exact revision to go back to instead of the previous one.
        Revisions that an earlier undo renumbered are gone from the history; the error lists those that remain.
      - With O(rollback_on_failure), the revision to go back to when the rollout fails.
    type: int
  lock:
    description:
      - Hold the application's release lock (the Lease of M(nodowntime.k8s.lock), with the same rules) for the
        length of this task, in this task's own process.
      - It is taken (or renewed, when O(lock.holder) already has it) once the options are checked and before
        anything changes, and released when the task ends, whether the rollout completed, was rolled back or
        failed. RV(lock) says what happened to it.
      - A lock that someone else holds fails the task at once with RV(reason=Locked), naming the holder, and
        nothing changes. A holder that died on this host is taken over at once, with a warning, as
        M(nodowntime.k8s.lock) does.
      - Each module task costs about half a second of start-up; the role P(nodowntime.k8s.rolling_update#role)
        uses this instead of taking and releasing the lock in tasks of their own.
    type: dict
    suboptions:
      name:
        description: Name of the Lease, in O(namespace).
        type: str
        required: true
      holder:
        description: Who holds the lock, as a refused run should read it; see M(nodowntime.k8s.lock).
        type: str
        required: true
      ttl_seconds:
        description: How long the lock lasts without being renewed; longer than the rollout and a rollback.
        type: int
        default: 1800
notes:
  - Requires the verbs get, list, watch and patch on deployments.apps and get, list, watch on
    replicasets.apps and pods in the namespace (create too, to create a Deployment from O(definition)).
    With O(lock), also get, create and patch on leases.coordination.k8s.io.
  - Percentages and both-zero are checked before anything is sent; so are container names in O(images).
seealso:
  - module: nodowntime.k8s.probe_config
  - name: kubectl rollout status
    description: The verdict this module reproduces.
    link: https://kubernetes.io/docs/reference/kubectl/generated/kubectl_rollout/kubectl_rollout_status/
"""

EXAMPLES = r"""
- name: Roll out a new image with the guide's strategy; roll back by itself on failure
  nodowntime.k8s.rollout:
    name: web
    namespace: shop
    images:
      app: registry.example.com/shop/web:1.4.2
    max_surge: 25%
    max_unavailable: 25%
    progress_deadline_seconds: 120
  register: release

- name: Create or update from a whole manifest (server-side apply)
  nodowntime.k8s.rollout:
    name: web
    namespace: shop
    definition: "{{ lookup('file', 'web-deployment.yml') | from_yaml }}"

- name: Start a second copy next to the live one; fail at once when the nodes have no room for it
  nodowntime.k8s.rollout:
    name: web-green
    namespace: shop
    definition: "{{ web_green }}"
    fail_on_unschedulable: true
    rollback_on_failure: false

- name: Change an environment variable in the pod template
  nodowntime.k8s.rollout:
    name: web
    namespace: shop
    template_patch:
      spec:
        containers:
          - name: app
            env:
              - name: FEATURE_X
                value: "on"

- name: Release, and tell the team when it was rolled back
  block:
    - nodowntime.k8s.rollout:
        name: web
        namespace: shop
        images: {app: "registry.example.com/shop/web:{{ version }}"}
  rescue:
    - ansible.builtin.debug:
        msg: "{{ ansible_failed_result.outcome }}: {{ ansible_failed_result.msg }}"

- name: Roll out holding the release lock, taken and released within this one task
  nodowntime.k8s.rollout:
    name: web
    namespace: shop
    images: {app: registry.example.com/shop/web:1.4.2}
    lock:
      name: nodowntime-web
      holder: "{{ lookup('nodowntime.k8s.run_identity') }}"

- name: Go back to an exact revision
  nodowntime.k8s.rollout:
    name: web
    namespace: shop
    state: rolled_back
    to_revision: 3

- name: Is the current rollout finished? (fails if it has failed)
  nodowntime.k8s.rollout:
    name: web
    namespace: shop
    state: status
    wait_timeout: 300

- name: Set the connection once for the whole group
  module_defaults:
    group/nodowntime.k8s.k8s:
      kubeconfig: /etc/deploy/kubeconfig
      context: prod
  block:
    - nodowntime.k8s.rollout:
        name: web
        namespace: shop
        state: restarted
"""

RETURN = r"""
outcome:
  description:
    - V(complete) when this task changed the Deployment and (with O(wait)) the rollout finished.
    - V(unchanged) when nothing needed to change (and, with O(wait), the current rollout is complete).
    - V(rolled_back) after an undo, asked for or done by O(rollback_on_failure); in the second case the task fails.
    - V(failed) when the rollout failed and was not (or could not be) rolled back.
  returned: always
  type: str
  sample: complete
reason:
  description:
    - Why the rollout failed or is not finished, as a CamelCase word for playbooks, for example
      C(ProgressDeadlineExceeded), C(CrashLoopBackOff), C(ErrImagePull), C(ImagePullBackOff),
      C(CreateContainerConfigError), C(RunContainerError) (any start error O(fail_fast) lists),
      C(TooManyRestarts), C(Unschedulable) (O(fail_on_unschedulable)), C(WaitTimeout), C(DeploymentPaused),
      C(Invalid), C(Refused), C(NotFound), C(Locked) (another run holds O(lock)), C(Progressing). Null on success.
  returned: always
  type: str
  sample: CrashLoopBackOff
message:
  description: The verdict in one sentence, in kubectl's words where kubectl has some.
  returned: always
  type: str
  sample: deployment "web" successfully rolled out
revision:
  description: The Deployment's revision (C(deployment.kubernetes.io/revision)) when the task ended.
  returned: always
  type: int
  sample: 4
previous_revision:
  description: The revision that served before this task.
  returned: always
  type: int
  sample: 3
duration_seconds:
  description: How long the task took.
  returned: always
  type: float
  sample: 12.43
timeline:
  description: What the task did and saw, in order, with seconds since it started.
  returned: always
  type: list
  elements: dict
  contains:
    elapsed:
      description: Seconds since the task started.
      type: float
    monotonic:
      description: The host's monotonic clock at that moment, to line up with other measurements.
      type: float
    message:
      description: What happened.
      type: str
  sample:
    - {elapsed: 0.031, monotonic: 5123.4, message: "deployment 'web' updated"}
    - {elapsed: 0.05, monotonic: 5123.42,
       message: 'Waiting for deployment "web" rollout to finish: 0 out of 3 new replicas have been updated...'}
    - {elapsed: 9.8, monotonic: 5133.17, message: 'deployment "web" successfully rolled out'}
replicas:
  description: The Deployment's replica counts when the task ended.
  returned: always
  type: dict
  contains:
    desired:
      description: spec.replicas.
      type: int
    updated:
      description: Pods of the current template.
      type: int
    ready:
      description: Ready pods.
      type: int
    available:
      description: Pods ready for at least minReadySeconds.
      type: int
  sample: {desired: 3, updated: 3, ready: 3, available: 3}
images:
  description:
    - The pod template's images by container name, before this task and after the change it made.
    - RV(images.after) is what the task rolled out, even when it was then rolled back, so a report can
      name the version that failed. Both are empty when the task failed before it could change anything.
  returned: always
  type: dict
  contains:
    before:
      description: The images serving before the task; empty when the task created the Deployment.
      type: dict
    after:
      description: The images after the task's change (the same as RV(images.before) when nothing changed).
      type: dict
  sample: {before: {app: registry.example.com/shop:1.4.1}, after: {app: registry.example.com/shop:1.4.2}}
lock:
  description: What happened to the release lock of O(lock).
  returned: when O(lock) is set
  type: dict
  contains:
    action:
      description:
        - What taking it did, as M(nodowntime.k8s.lock) says it, V(create), V(take), V(renew) or V(refuse);
          null when the task failed before it came to take it.
      type: str
    holder:
      description: O(lock.holder), or whoever holds the lock when it was refused.
      type: str
    message:
      description: Taking it and releasing it, in words.
      type: str
    released:
      description:
        - Whether the task ended with the lock no longer held by O(lock.holder) (released, or taken over by
          another run after it expired; in check mode nothing was taken).
        - False when it was refused, not taken, or could not be released (with a warning); release it then
          with M(nodowntime.k8s.lock).
      type: bool
  sample:
    action: take
    holder: alice@ci-7 pid 4242 started 1145816
    message: "shop/nodowntime-web: acquired for alice@ci-7 pid 4242 started 1145816;
      shop/nodowntime-web: released by alice@ci-7 pid 4242 started 1145816"
    released: true
autoscaler:
  description:
    - With O(definition), the HorizontalPodAutoscaler that scales the live Deployment, whose replica count
      the task kept; empty without one.
  returned: always
  type: dict
  contains:
    name:
      description: The HPA's name.
      type: str
    min_replicas:
      description: Its C(minReplicas) (1 when unset).
      type: int
    max_replicas:
      description: Its C(maxReplicas).
      type: int
    target:
      description: The Deployment its C(scaleTargetRef) names.
      type: str
    note:
      description: What the task kept instead of the definition's C(spec.replicas), also given as a warning;
        empty when they were the same.
      type: str
  sample:
    name: web
    min_replicas: 2
    max_replicas: 10
    target: web
    note: ""
failing_pods:
  description:
    - The new pods that made the rollout fail fast, one entry per failing container; an C(Unschedulable) pod
      (O(fail_on_unschedulable)) has one entry with C(container) null and the scheduler's message.
    - At most 20, by pod name; RV(message) counts them all.
  returned: always
  type: list
  elements: dict
  sample:
    - pod: web-6d9c8f7b5-x2x9q
      container: app
      reason: CrashLoopBackOff
      message: "back-off 10s restarting failed container; last exit code 1 (Error)"
      restarts: 2
"""


from ansible_collections.nodowntime.k8s.plugins.module_utils._argspec import AUTH, LOCK_OPTIONS, ArgumentSpec, wait
from ansible_collections.nodowntime.k8s.plugins.module_utils._backends import rollout
from ansible_collections.nodowntime.k8s.plugins.module_utils._backends.module_main import run_module

ARGUMENT_SPEC = AUTH.merge(
    ArgumentSpec(
        {
            "name": {"type": "str", "required": True},
            "namespace": {"type": "str", "required": True},
            "state": {
                "type": "str",
                "default": "present",
                "choices": ["present", "status", "rolled_back", "paused", "resumed", "restarted"],
            },
            "definition": {"type": "dict"},
            "images": {"type": "dict"},
            "template_patch": {"type": "dict"},
            "max_surge": {"type": "raw"},
            "max_unavailable": {"type": "raw"},
            "min_ready_seconds": {"type": "int"},
            "progress_deadline_seconds": {"type": "int"},
            "fail_fast": {"type": "bool", "default": True},
            "fail_on_unschedulable": {"type": "bool", "default": False},
            "rollback_on_failure": {"type": "bool", "default": True},
            "to_revision": {"type": "int"},
            "lock": {"type": "dict", "options": LOCK_OPTIONS},
        },
        mutually_exclusive=[("definition", "template_patch")],
    ),
    wait(timeout=600),
)


def main():
    run_module(ARGUMENT_SPEC, rollout.task)


if __name__ == "__main__":
    main()
