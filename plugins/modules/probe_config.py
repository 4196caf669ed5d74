#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: probe_config
short_description: Set a workload's readiness, liveness and startup probes, preStop hook and grace period
version_added: 0.1.0
description:
  - Sets the probes of one container of a Deployment, StatefulSet or DaemonSet, written in
    Kubernetes' own probe schema (camelCase), so the probe block of a manifest pastes in verbatim.
  - Validates everything before anything is sent. There must be exactly one handler (C(httpGet),
    C(tcpSocket), C(exec) or C(grpc)) and a port from 1 to 65535 or a named containerPort that exists.
    Every threshold and C(timeoutSeconds) must be at least 1, and C(successThreshold) must be 1 for
    liveness and startup probes.
  - Compares with the API's defaults filled in (C(periodSeconds) 10, C(timeoutSeconds) 1,
    C(successThreshold) 1, C(failureThreshold) 3, C(httpGet.path) /, C(httpGet.scheme) HTTP), so a field
    the server defaulted never shows up as a change, and a second run reports C(changed=false).
  - Warns about risky settings. These are a liveness probe identical to the readiness probe, a
    liveness C(failureThreshold) of 1, a long liveness C(initialDelaySeconds) without a startup probe,
    a RollingUpdate Deployment with no readiness probe, and a preStop sleep that is not shorter than
    the grace period.
  - Changing the pod template starts a rollout. With O(wait), it waits for it with the same verdict
    as M(nodowntime.k8s.rollout).
  - "With O(wait), a StatefulSet or DaemonSet whose C(updateStrategy) is not C(RollingUpdate) (C(OnDelete)) is
    refused before anything is sent, in kubectl's words: C(rollout status is only available for RollingUpdate
    strategy type). Nothing could judge its rollout. Set O(wait=false) to change it anyway; its pods take the
    change when they are deleted."
author:
  - nodowntime maintainers (@nodowntime)
extends_documentation_fragment:
  - nodowntime.k8s.auth
  - nodowntime.k8s.attributes
options:
  name:
    description: Name of the workload.
    type: str
    required: true
  namespace:
    description: Namespace of the workload.
    type: str
    required: true
  kind:
    description: Kind of the workload.
    type: str
    choices: [Deployment, StatefulSet, DaemonSet]
    default: Deployment
  container:
    description:
      - Name of the container to configure. Required when the pod has more than one container;
        the error lists them.
    type: str
  readiness:
    description:
      - The readiness probe, exactly as in a manifest's C(readinessProbe).
      - With O(state=absent), any value (for example C({})) removes the readiness probe.
    type: dict
  liveness:
    description:
      - The liveness probe, exactly as in a manifest's C(livenessProbe). C(successThreshold) must be 1.
      - With O(state=absent), any value removes it.
    type: dict
  startup:
    description:
      - The startup probe, exactly as in a manifest's C(startupProbe). C(successThreshold) must be 1.
      - With O(state=absent), any value removes it.
    type: dict
  pre_stop:
    description:
      - The container's preStop hook. A number is seconds to sleep (C(lifecycle.preStop.sleep));
        a list is a command to exec; a string is run with C(/bin/sh -c).
      - A sleep keeps the pod serving while endpoints and proxies drop it, which is what makes a
        rolling update lose no requests. It must not exceed the grace period.
      - With O(state=absent), any value removes the preStop hook.
    type: raw
  termination_grace_period_seconds:
    description: The pod's C(terminationGracePeriodSeconds).
    type: int
  state:
    description:
      - V(present) sets what is given and leaves the rest alone.
      - V(absent) removes the probes (and preStop hook) that are named, whatever their value.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description: Wait for the rollout that the change starts.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the rollout.
    type: int
    default: 600
notes:
  - Kubernetes' defaults, not those of the guide this project started from. C(periodSeconds)
    defaults to 10 (not 1), and C(failureThreshold) defaults to 3 with no maximum.
  - Check mode sends the change as a server-side dry run, so admission and validation still run.
  - Requires the verbs get and patch on the workload, and list and watch on it, its pods and
    (for Deployments) its ReplicaSets to wait.
seealso:
  - module: nodowntime.k8s.rollout
  - name: Configure liveness, readiness and startup probes
    description: The Kubernetes documentation for probes.
    link: https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/
"""

EXAMPLES = r"""
- name: The guide's probes, pasted verbatim (draws a warning for liveness failureThreshold 1)
  nodowntime.k8s.probe_config:
    name: web
    namespace: shop
    liveness:
      failureThreshold: 1
      httpGet:
        path: /health
        port: 8080
        scheme: HTTP
      initialDelaySeconds: 120
      periodSeconds: 10
      successThreshold: 1
      timeoutSeconds: 2
    readiness:
      failureThreshold: 1
      httpGet:
        path: /health
        port: 8080
        scheme: HTTP
      initialDelaySeconds: 15
      periodSeconds: 10
      successThreshold: 1
      timeoutSeconds: 2

- name: Safer probes for zero downtime, with a preStop sleep that outlasts endpoint propagation
  nodowntime.k8s.probe_config:
    name: web
    namespace: shop
    container: app
    readiness:
      httpGet: {path: /readyz, port: http}
      periodSeconds: 2
    startup:
      httpGet: {path: /healthz, port: http}
      periodSeconds: 5
      failureThreshold: 30
    liveness:
      httpGet: {path: /healthz, port: http}
    pre_stop: 5
    termination_grace_period_seconds: 30

- name: Remove the liveness probe from a StatefulSet without waiting
  nodowntime.k8s.probe_config:
    kind: StatefulSet
    name: db
    namespace: shop
    liveness: {}
    state: absent
    wait: false
"""

RETURN = r"""
container:
  description: The container that was configured.
  returned: always
  type: str
  sample: app
probes:
  description: The managed fields as the API stores them after the task (defaults filled in).
  returned: always
  type: dict
  sample:
    container: app
    terminationGracePeriodSeconds: 30
    readinessProbe: {httpGet: {path: /readyz, port: http, scheme: HTTP}, periodSeconds: 2, timeoutSeconds: 1,
                     successThreshold: 1, failureThreshold: 3}
    livenessProbe: null
    startupProbe: null
    preStop: {sleep: {seconds: 5}}
message:
  description: The rollout verdict, in kubectl's words, or why nothing was waited for.
  returned: always
  type: str
  sample: deployment "web" successfully rolled out
reason:
  description: Why the rollout failed, for example C(CrashLoopBackOff) or C(ProgressDeadlineExceeded). Null on success.
  returned: always
  type: str
failing_pods:
  description:
    - New pods that made the rollout fail fast, one entry per failing container.
    - At most 20, by pod name; RV(message) counts them all.
  returned: always
  type: list
  elements: dict
timeline:
  description: What the task did and saw, with seconds since it started (see M(nodowntime.k8s.rollout)).
  returned: always
  type: list
  elements: dict
duration_seconds:
  description: How long the task took.
  returned: always
  type: float
"""


from ansible_collections.nodowntime.k8s.plugins.module_utils._argspec import AUTH, ArgumentSpec, wait
from ansible_collections.nodowntime.k8s.plugins.module_utils._backends import probe_config
from ansible_collections.nodowntime.k8s.plugins.module_utils._backends.module_main import run_module

ARGUMENT_SPEC = AUTH.merge(
    ArgumentSpec(
        {
            "name": {"type": "str", "required": True},
            "namespace": {"type": "str", "required": True},
            "kind": {"type": "str", "default": "Deployment", "choices": ["Deployment", "StatefulSet", "DaemonSet"]},
            "container": {"type": "str"},
            "readiness": {"type": "dict"},
            "liveness": {"type": "dict"},
            "startup": {"type": "dict"},
            "pre_stop": {"type": "raw"},
            "termination_grace_period_seconds": {"type": "int"},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        },
        required_one_of=[("readiness", "liveness", "startup", "pre_stop", "termination_grace_period_seconds")],
    ),
    wait(timeout=600),
)


def main():
    run_module(ARGUMENT_SPEC, probe_config.configure)


if __name__ == "__main__":
    main()
