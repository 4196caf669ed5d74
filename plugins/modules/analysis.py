#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nodowntime.k8s.analysis: the gate between release steps."""

DOCUMENTATION = r"""
module: analysis
short_description: Gate a release step on HTTP measurements judged by JMESPath conditions
version_added: 0.1.0
author: nodowntime maintainers (@nodowntime)
description:
  - The counterpart of an Argo Rollouts AnalysisRun with the web provider, without a controller or CRDs,
    and with JMESPath where Argo uses jsonPath.
  - Sends O(count) requests to O(url), O(interval) seconds apart, and judges each JSON response with
    O(success_condition) and O(failure_condition).
  - "A measurement is V(Failed) when O(failure_condition) holds or O(success_condition) does not;
    V(Inconclusive) when both are given and neither holds; V(Error) when the response is not 2xx, the URL
    cannot be reached, the body is not JSON, or a condition gives anything but true or false."
  - "After each measurement the run is assessed: more failed measurements than O(failure_limit) -> V(Failed);
    more inconclusive than O(inconclusive_limit) -> V(Inconclusive); more consecutive errors than
    O(consecutive_error_limit) -> V(Error); O(count) measurements without an error verdict -> V(Successful).
    Errors do not count towards O(count): they are retried after O(interval), as Argo does."
  - The task fails unless the phase is V(Successful); the result still carries RV(phase), RV(measurements)
    and RV(message), so a C(rescue) block can act on them.
  - "With O(abort), a run that ends anything but V(Successful) is corrected in this same task, as Argo Rollouts
    aborts a rollout whose analysis failed: all traffic back to the version that served before (the canary to
    0 pods, or the Service's selector back to the old pods), then the task fails with RV(outcome=rolled_back).
    The change starts right after the deciding measurement; a C(rescue) task would start about half a second
    later."
  - A condition that is not valid JMESPath, or calls an unknown function, fails the task before any request
    is sent, naming the option, the expression and the position of the error.
options:
  url:
    description: The URL to measure, V(http://) or V(https://).
    type: str
    required: true
  method:
    description: The HTTP method.
    type: str
    choices: [GET, POST, PUT]
    default: GET
  headers:
    description:
      - Request headers. Their values are kept out of the output, since they often carry tokens.
    type: dict
  body:
    description:
      - The request body, for O(method=POST) or O(method=PUT) only.
      - A dict or list is sent as JSON with C(Content-Type) V(application/json); a string is sent as it is.
    type: raw
  timeout:
    description: Seconds to wait for each response.
    type: float
    default: 10
  validate_certs:
    description:
      - Verify the TLS certificate of O(url)'s server, and (for O(abort)) the API server's, as the other modules of
        the collection do with this option.
      - Verification is on unless this is V(false) (for the API server the kubeconfig's C(insecure-skip-tls-verify)
        turns it off too, with a warning). Can also be set with E(K8S_AUTH_VALIDATE_CERTS) or E(K8S_AUTH_VERIFY_SSL).
    type: bool
    aliases: [verify_ssl]
  count:
    description: How many measurements without an error verdict make the run V(Successful).
    type: int
    default: 1
  interval:
    description: Seconds between measurements, and before retrying one that gave an error.
    type: float
    default: 10
  initial_delay:
    description: Seconds to wait before the first measurement, for example to let a new canary take traffic.
    type: float
    default: 0
  success_condition:
    description:
      - A JMESPath expression evaluated on the JSON response; it must give true or false.
      - Literals are written in backticks, for example V(error_rate < `0.01`).
    type: str
  failure_condition:
    description:
      - A JMESPath expression evaluated on the JSON response; true means the measurement failed.
      - It must give true or false; a missing field gives null, which is an error, not a pass.
    type: str
  failure_limit:
    description: How many failed measurements are tolerated; one more and the run is V(Failed).
    type: int
    default: 0
  inconclusive_limit:
    description: How many inconclusive measurements are tolerated; one more and the run is V(Inconclusive).
    type: int
    default: 0
  consecutive_error_limit:
    description: How many errors in a row are tolerated; one more and the run is V(Error).
    type: int
    default: 4
  abort:
    description:
      - The corrective change to make at once when the run is not V(Successful), named by one key; the
        connection options reach the cluster for it. Without O(abort) the task changes nothing.
      - Each change records its C(progress) (when given) with C(phase=rolling_back) and C(cause) (the reason the
        run failed, as the roles' rescue words it), so a rescue that makes the same change finds nothing to do.
    type: dict
    suboptions:
      canary_scale:
        description:
          - "The abort of a replica canary, as M(nodowntime.k8s.canary_scale) with
            O(nodowntime.k8s.canary_scale#module:weight=0): stable back to its count first (it keeps serving
            meanwhile), then the canary to 0 pods."
          - Behind a traffic router (M(nodowntime.k8s.canary_scale)'s V(capacity) mode) the route must go back
            first; leave that to a C(rescue).
        type: dict
        suboptions:
          namespace: {description: Namespace of both Deployments., type: str, required: true}
          stable: {description: The stable Deployment., type: str, required: true}
          canary: {description: The canary Deployment., type: str, required: true}
          mode:
            description: The canary's mode, as M(nodowntime.k8s.canary_scale) takes it.
            type: str
            choices: [keep_total, surge]
            default: keep_total
          wait: {description: Wait until the canary's pods are gone and stable is available., type: bool, default: true}
          wait_timeout: {description: Seconds to wait for each scale-up and the final state., type: int, default: 300}
          progress:
            description: "The progress to record, see M(nodowntime.k8s.canary_scale); C(phase) is V(rolling_back)."
            type: dict
      switch_selector:
        description:
          - "The abort of a blue/green release after its switch, as M(nodowntime.k8s.switch_selector): the Service's
            selector back to the old pods, which must still be ready."
        type: dict
        suboptions:
          namespace: {description: Namespace of the Service., type: str, required: true}
          service: {description: The Service., type: str, required: true}
          selector: {description: The selector of the old pods., type: dict, required: true}
          min_ready: {description: "How many old pods must be ready, see M(nodowntime.k8s.switch_selector).", type: int}
          wait: {description: Wait until the endpoints list only the old pods., type: bool, default: true}
          wait_timeout: {description: Seconds to wait for the endpoints., type: int, default: 120}
          progress:
            description: "The progress to record, see M(nodowntime.k8s.switch_selector); C(phase) is V(rolling_back)."
            type: dict
requirements:
  - jmespath
extends_documentation_fragment:
  - nodowntime.k8s.auth
  - nodowntime.k8s.attributes
attributes:
  check_mode:
    description: Can run in check mode.
    support: full
    details: The module sends the configured requests, so check mode measures too; O(abort) then sends its patches
      as server-side dry runs and waits for nothing.
  diff_mode:
    description: Returns a diff with C(--diff).
    support: full
    details: The diff of the change O(abort) made, if it made one.
  idempotent:
    description: Running the task again reports C(changed=false).
    support: full
    details: Only O(abort) changes anything, and only what is not already back.
  action_group:
    description: Membership in the C(nodowntime.k8s.k8s) action group.
    support: full
    membership:
      - nodowntime.k8s.k8s
notes:
  - The module runs where the task runs (usually the controller or an execution environment), so O(url)
    must be reachable from there.
seealso:
  - module: nodowntime.k8s.canary_scale
  - module: nodowntime.k8s.switch_selector
  - name: Argo Rollouts analysis
    description: The AnalysisRun semantics this module follows.
    link: https://argo-rollouts.readthedocs.io/en/stable/features/analysis/
  - name: JMESPath specification
    description: The expression language of the conditions.
    link: https://jmespath.org/specification.html
"""

EXAMPLES = r"""
- name: Gate on the canary's own error rate, three samples 10 s apart
  nodowntime.k8s.analysis:
    url: http://web-canary.shop.svc:8080/metrics
    count: 3
    interval: 10
    success_condition: error_rate < `0.01`

- name: Gate on a Prometheus query; tolerate one bad sample
  nodowntime.k8s.analysis:
    url: http://prometheus.monitoring.svc:9090/api/v1/query
    method: POST
    headers:
      Authorization: "Bearer {{ prometheus_token }}"
      Content-Type: application/x-www-form-urlencoded
    body: query=sum(rate(http_requests_total{code=~"5.."}[1m])) / sum(rate(http_requests_total[1m]))
    count: 5
    interval: 30
    initial_delay: 60
    success_condition: to_number(data.result[0].value[1]) < `0.01`
    failure_condition: to_number(data.result[0].value[1]) >= `0.05`
    failure_limit: 1

- name: Gate a canary step; a failed run takes the canary to 0 in this task (Argo Rollouts' abort)
  nodowntime.k8s.analysis:
    url: http://web-canary.shop.svc:8080/metrics
    success_condition: error_rate < `0.01`
    abort:
      canary_scale: {namespace: shop, stable: web, canary: web-canary}

- name: Gate a blue/green release after its switch; a failed run switches the Service back to blue
  nodowntime.k8s.analysis:
    url: http://web.shop.svc:8080/metrics
    count: 3
    interval: 5
    success_condition: error_rate < `0.01`
    abort:
      switch_selector: {namespace: shop, service: web, selector: {app: web, colour: blue}}

- name: Promote or abort a canary on the verdict, in a rescue
  block:
    - name: Measure the canary
      nodowntime.k8s.analysis:
        url: http://web-canary.shop.svc:8080/metrics
        success_condition: error_rate < `0.01`
      register: gate
  rescue:
    - name: Send all traffic back to stable
      nodowntime.k8s.canary_scale:
        namespace: shop
        stable: web
        canary: web-canary
        weight: 0
    - name: Fail the play with the gate's message
      ansible.builtin.fail:
        msg: "canary aborted: {{ gate.message }}"
"""

RETURN = r"""
phase:
  description: The verdict of the run.
  returned: when the options were valid
  type: str
  sample: Failed
message:
  description: Why the run ended, with the counts of each verdict.
  returned: when the options were valid
  type: str
  sample: "Failed: failed (1) > failure_limit (0) (0 successful, 1 failed, 0 inconclusive, 0 errors)"
outcome:
  description:
    - V(rolled_back) when O(abort) made its change after the failed run; V(failed) when that went wrong too.
  returned: failure, with O(abort)
  type: str
  sample: rolled_back
rolled_back_at:
  description: When the change of O(abort) began, UTC (ISO 8601); RV(timeline) has each of its steps.
  returned: when RV(outcome=rolled_back)
  type: str
  sample: "2025-01-31T12:00:03.120Z"
rollback:
  description:
    - The change's own result (that of M(nodowntime.k8s.canary_scale) or M(nodowntime.k8s.switch_selector)), with
      C(message), and C(progress) as recorded but without C(at); or C(failed) and C(msg) when it failed.
  returned: failure, with O(abort)
  type: dict
  sample: {changed: true, canary_replicas: 0, stable_replicas: 4, message: "rolled back in the task: web-canary to 0"}
timeline:
  description: What happened when, on the host's monotonic clock; the run's verdict and the change of O(abort).
  returned: with O(abort)
  type: list
  elements: dict
  sample: [{elapsed: 3.01, monotonic: 5123.4, message: "run Failed: ..."}]
measurements:
  description: Every measurement in order.
  returned: when the options were valid
  type: list
  elements: dict
  contains:
    time:
      description: When the request was sent, UTC, ISO 8601.
      type: str
      sample: "2025-01-31T12:00:00.123456Z"
    value:
      description: The parsed JSON response (or its text when it is not JSON); null for an error.
      type: raw
      sample: {"requests": 120, "errors": 36, "error_rate": 0.3}
    verdict:
      description: V(Successful), V(Failed), V(Inconclusive) or V(Error).
      type: str
      sample: Failed
    message:
      description: Which condition decided the verdict, or what went wrong.
      type: str
      sample: "success_condition 'error_rate < `0.01`' is not met"
"""

import time
from datetime import datetime, timezone

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.nodowntime.k8s.plugins.module_utils._analysis.jmespath_condition import JMESPATH_IMPORT_ERROR
from ansible_collections.nodowntime.k8s.plugins.module_utils._analysis.scoring import (
    SUCCESSFUL,
    AnalysisError,
    Conditions,
    Limits,
    judge_response,
    run,
)
from ansible_collections.nodowntime.k8s.plugins.module_utils._analysis.web_request import (
    METHODS,
    RequestError,
    WebRequest,
)
from ansible_collections.nodowntime.k8s.plugins.module_utils._argspec import AUTH, ArgumentSpec
from ansible_collections.nodowntime.k8s.plugins.module_utils._backends import analysis_abort
from ansible_collections.nodowntime.k8s.plugins.module_utils._backends.rolled_back import rolled_back
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.client import Client
from ansible_collections.nodowntime.k8s.plugins.module_utils._release.timeline import Timeline

ARGUMENT_SPEC = AUTH.merge(
    ArgumentSpec(
        {
            "url": {"type": "str", "required": True},
            "method": {"type": "str", "choices": list(METHODS), "default": "GET"},
            "headers": {"type": "dict", "no_log": True},
            "body": {"type": "raw"},
            "timeout": {"type": "float", "default": 10},
            "count": {"type": "int", "default": 1},
            "interval": {"type": "float", "default": 10},
            "initial_delay": {"type": "float", "default": 0},
            "success_condition": {"type": "str"},
            "failure_condition": {"type": "str"},
            "failure_limit": {"type": "int", "default": 0},
            "inconclusive_limit": {"type": "int", "default": 0},
            "consecutive_error_limit": {"type": "int", "default": 4},
            "abort": {"type": "dict", "options": analysis_abort.OPTIONS},
        }
    )
)


def plan(params):
    """(request, conditions, limits, abort) from the options; AnalysisError/RequestError/ValueError before any
    request."""
    for name in ("interval", "initial_delay"):
        if params[name] < 0:
            raise AnalysisError(f"{name} must be >= 0 seconds, got {params[name]}")
    request = WebRequest(
        params["url"],
        params["method"],
        params["headers"],
        params["body"],
        params["timeout"],
        params["validate_certs"] is not False,  # unset: verified, as the API server's certificate is
    )
    conditions = Conditions(params["success_condition"], params["failure_condition"])
    limits = Limits(
        params["count"], params["failure_limit"], params["inconclusive_limit"], params["consecutive_error_limit"]
    )
    return request, conditions, limits, analysis_abort.check(params["abort"])


def utc_now():
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def main():
    module = ARGUMENT_SPEC.create_module()
    if JMESPATH_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("jmespath"), exception=str(JMESPATH_IMPORT_ERROR))
    try:
        request, conditions, limits, abort = plan(module.params)
    except (AnalysisError, RequestError, ValueError) as e:
        module.fail_json(msg=str(e))
    # Built before the first measurement, so the abort's first request follows the verdict at once.
    timeline = Timeline(log=module.log)
    client = Client.from_module(module) if abort else None

    result = run(
        lambda: judge_response(conditions, *request()),
        limits,
        module.params["interval"],
        module.params["initial_delay"],
        time.sleep,
        utc_now,
    )

    if result["phase"] != SUCCESSFUL:
        result["changed"] = False
        if abort:
            timeline.add(f"run {result['message']}")
            correct = analysis_abort.correct(client, abort, module.check_mode, timeline, module.warn)
            result = rolled_back(
                dict(result, timeline=timeline.entries), result["message"], correct, analysis_abort.describe(abort)
            )
        module.fail_json(msg=result["message"], **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
