# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What probe_config has to change on a workload: pure, from the object and the options.

plan(workload, options) -> Plan(ops, warnings)
    options: container, readiness, liveness, startup, pre_stop,
             termination_grace_period_seconds, state (present | absent)
    ops       a JSON patch; empty when nothing differs once the API's defaults are
              filled in, so a server-defaulted field never shows up as a change
    warnings  risky settings of the container as it will run
    raises ValueError with every problem found in the options
view(workload, container) -> the managed fields, for --diff
"""

from __future__ import annotations

import copy
from collections import namedtuple

from ansible_collections.nodowntime.k8s.plugins.module_utils._plan import pod_template, probe_schema

PROBE_OPTIONS = {"readiness": "readinessProbe", "liveness": "livenessProbe", "startup": "startupProbe"}
DEFAULT_GRACE = 30

Plan = namedtuple("Plan", "ops warnings")


def view(workload, container_name):
    spec = workload["spec"]["template"]["spec"]
    _index, container = pod_template.container_index(workload["spec"]["template"], container_name)
    shown = {
        "container": container["name"],
        "terminationGracePeriodSeconds": spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE),
    }
    for field in PROBE_OPTIONS.values():
        shown[field] = container.get(field)
    shown["preStop"] = (container.get("lifecycle") or {}).get("preStop")
    return shown


def _desired(container, pod_spec, options):
    """The container and pod spec as they should be, or ValueError listing every problem."""
    container, pod_spec, errors = copy.deepcopy(container), copy.deepcopy(pod_spec), []
    named = [f for opt, f in PROBE_OPTIONS.items() if options.get(opt) is not None]
    if options.get("state") == "absent":
        for field in named:
            container.pop(field, None)
        if options.get("pre_stop") is not None:
            (container.get("lifecycle") or {}).pop("preStop", None)
        return container, pod_spec
    for option, field in PROBE_OPTIONS.items():
        if options.get(option) is not None:
            errors += probe_schema.validate(field, options[option], container)
            container[field] = options[option]
    grace = options.get("termination_grace_period_seconds")
    if grace is not None:
        if grace < 0:
            errors.append(
                f"termination_grace_period_seconds: Invalid value: {grace}: must be greater than or equal to 0"
            )
        pod_spec["terminationGracePeriodSeconds"] = grace
    if options.get("pre_stop") is not None:
        try:
            handler = probe_schema.pre_stop_handler(options["pre_stop"])
        except ValueError as e:
            errors.append(str(e))
        else:
            limit = pod_spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE)
            seconds = handler.get("sleep", {}).get("seconds")
            if seconds is not None and seconds > limit:
                errors.append(
                    f"pre_stop: Invalid value: {seconds}: must be non-negative and less than "
                    f"terminationGracePeriodSeconds ({limit})"
                )
            container.setdefault("lifecycle", {})["preStop"] = handler
    if errors:
        raise ValueError("; ".join(errors))
    return container, pod_spec


def _field_ops(base, before, after, fields):
    ops = []
    for field in fields:
        old, new = before.get(field), after.get(field)
        if probe_schema.normalized(old) == probe_schema.normalized(new):
            continue
        if new is None:
            ops.append({"op": "remove", "path": f"{base}/{field}"})
        else:
            ops.append({"op": "add", "path": f"{base}/{field}", "value": new})
    return ops


def plan(workload, options):
    template = workload["spec"]["template"]
    index, container = pod_template.container_index(template, options.get("container"))
    pod_spec = template["spec"]
    want, want_spec = _desired(container, pod_spec, options)

    base = f"/spec/template/spec/containers/{index}"
    ops = _field_ops(base, container, want, PROBE_OPTIONS.values())
    old_stop = (container.get("lifecycle") or {}).get("preStop")
    new_stop = (want.get("lifecycle") or {}).get("preStop")
    if old_stop != new_stop:
        if new_stop is None:
            ops.append({"op": "remove", "path": f"{base}/lifecycle/preStop"})
        elif container.get("lifecycle") is None:
            ops.append({"op": "add", "path": f"{base}/lifecycle", "value": {"preStop": new_stop}})
        else:
            ops.append({"op": "add", "path": f"{base}/lifecycle/preStop", "value": new_stop})
    old_grace = pod_spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE)
    if want_spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE) != old_grace:
        ops.append(
            {
                "op": "add",
                "path": "/spec/template/spec/terminationGracePeriodSeconds",
                "value": want_spec["terminationGracePeriodSeconds"],
            }
        )
    if ops:
        # Pin the container's position and the version the plan was made from: a concurrent
        # edit then fails the patch (409) instead of landing on the wrong container.
        ops = [
            {"op": "replace", "path": "/metadata/resourceVersion", "value": workload["metadata"]["resourceVersion"]},
            {"op": "test", "path": f"{base}/name", "value": container["name"]},
            *ops,
        ]

    strategy = (workload["spec"].get("strategy") or {}).get("type", "RollingUpdate")
    rolling = workload.get("kind", "Deployment") == "Deployment" and strategy == "RollingUpdate"
    return Plan(ops, probe_schema.risks(want, want_spec, rolling))
