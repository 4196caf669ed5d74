# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the rollout module sends: pure functions from its options (and the current object).

check(options, current) -> [errors]; everything that can be known before the first write
manifest(options)       -> the Deployment for server-side apply (definition with images and
                           strategy options folded in)
change_patch(options, current) -> a strategic-merge patch for images, template_patch and
                           the strategy options; {} when none is set
restart_patch(now)      -> the patch kubectl rollout restart sends
replicas(deployment)    -> {desired, updated, ready, available}
spec_changed(before, after) -> whether the API's answer differs where a rollout is concerned
"""

from __future__ import annotations

import copy

from ansible_collections.nodowntime.k8s.plugins.module_utils._plan import pod_template, rolling_update

# The controller's defaults when a Deployment leaves these unset.
DEFAULT_SURGE = DEFAULT_UNAVAILABLE = "25%"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
WHAT = ("definition", "images", "template_patch")
STRATEGY = ("max_surge", "max_unavailable", "min_ready_seconds", "progress_deadline_seconds")


def _written(options):
    """The strategy options the user set: their messages name them as written."""
    return [o for o in rolling_update.OPTION.values() if options.get(o) is not None]


def _strategy(options):
    """The strategy fields the options set, in API form; ValueError for a malformed value."""
    spec = {}
    written = _written(options)
    rolling = {
        field: rolling_update.int_or_percent(options[option], field, written)
        for field, option in rolling_update.OPTION.items()
        if option in written
    }
    if rolling:
        spec["strategy"] = {"type": "RollingUpdate", "rollingUpdate": rolling}
    for option, field in (
        ("min_ready_seconds", "minReadySeconds"),
        ("progress_deadline_seconds", "progressDeadlineSeconds"),
    ):
        if options.get(option) is not None:
            spec[field] = options[option]
    return spec


def _effective(options, current_spec):
    """minReadySeconds, progressDeadlineSeconds and the fenceposts as they will be after the change."""
    spec = copy.deepcopy(current_spec or {})
    wanted = _strategy(options)
    rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
    if (spec.get("strategy") or {}).get("type", "RollingUpdate") == "RollingUpdate" or "strategy" in wanted:
        rolling = {
            "maxSurge": DEFAULT_SURGE,
            "maxUnavailable": DEFAULT_UNAVAILABLE,
            **rolling,
            **(wanted.get("strategy") or {}).get("rollingUpdate", {}),
        }
    else:
        rolling = None
    return (
        rolling,
        wanted.get("minReadySeconds", spec.get("minReadySeconds", 0)),
        wanted.get("progressDeadlineSeconds", spec.get("progressDeadlineSeconds", 600)),
    )


def check(options, current):
    state, errors = options["state"], []
    given = [o for o in WHAT + STRATEGY if options.get(o) is not None]
    if state != "present" and [o for o in given if o in WHAT]:
        errors.append(f"{', '.join(o for o in given if o in WHAT)} only apply with state=present (state is {state})")
    if options.get("definition") is not None and options.get("template_patch") is not None:
        errors.append("definition and template_patch are mutually exclusive: put the template in the definition")
    definition = options.get("definition")
    if definition is not None:
        problems = _check_definition(definition, options)
        if problems:
            return errors + problems  # the rest of the checks read the definition
    if current is None and definition is None:
        errors.append(
            f"Deployment {options['name']!r} not found in namespace {options['namespace']!r}; "
            "pass definition to create it"
        )
        return errors
    for image_name, image in (options.get("images") or {}).items():
        if not isinstance(image, str) or not image.strip():
            errors.append(f"images.{image_name}: must be a non-empty image reference, got {image!r}")
    template = (definition or current)["spec"]["template"]
    names = pod_template.container_names(template) + [c["name"] for c in template["spec"].get("initContainers") or []]
    missing = [c for c in options.get("images") or {} if c not in names]
    if missing:
        errors.append(
            f"images: no container {', '.join(map(repr, missing))} in the pod template; "
            f"its containers are {', '.join(map(repr, names))}"
        )
    try:
        rolling, min_ready, deadline = _effective(options, (definition or current)["spec"])
    except ValueError as e:
        return [*errors, str(e)]
    if rolling is not None:
        errors += rolling_update.validate(rolling["maxSurge"], rolling["maxUnavailable"], _written(options))
    if min_ready < 0:
        errors.append(f"spec.minReadySeconds: Invalid value: {min_ready}: must be greater than or equal to 0")
    if deadline <= min_ready:
        errors.append(f"spec.progressDeadlineSeconds: Invalid value: {deadline}: must be greater than minReadySeconds")
    if options.get("to_revision") is not None and options["to_revision"] < 1:
        errors.append(f"to_revision: Invalid value: {options['to_revision']}: revisions start at 1")
    return errors


def _check_definition(definition, options):
    if not isinstance(definition, dict) or definition.get("kind") != "Deployment":
        return ["definition must be a Deployment manifest (kind: Deployment)"]
    errors = []
    if definition.get("apiVersion", "apps/v1") != "apps/v1":
        errors.append(f"definition.apiVersion must be apps/v1, got {definition['apiVersion']!r}")
    meta = definition.get("metadata") or {}
    for key in ("name", "namespace"):
        if meta.get(key) not in (None, options[key]):
            errors.append(f"definition.metadata.{key} is {meta[key]!r} but {key} is {options[key]!r}")
    if not ((definition.get("spec") or {}).get("template") or {}).get("spec"):
        errors.append("definition.spec.template.spec is required")
    return errors


def _image_containers(template, images):
    patch = {}
    for field in ("initContainers", "containers"):
        names = [c["name"] for c in template["spec"].get(field) or []]
        entries = [{"name": n, "image": images[n]} for n in names if n in images]
        if entries:
            patch[field] = entries
    return patch


def manifest(options):
    body = copy.deepcopy(options["definition"])
    body.setdefault("apiVersion", "apps/v1")
    body["metadata"] = dict(body.get("metadata") or {}, name=options["name"], namespace=options["namespace"])
    spec = body["spec"]
    for container in spec["template"]["spec"].get("initContainers", []) + spec["template"]["spec"]["containers"]:
        if container["name"] in (options.get("images") or {}):
            container["image"] = options["images"][container["name"]]
    wanted = _strategy(options)
    if "strategy" in wanted:
        strategy = spec.setdefault("strategy", {})
        strategy["type"] = "RollingUpdate"
        strategy["rollingUpdate"] = {**(strategy.get("rollingUpdate") or {}), **wanted.pop("strategy")["rollingUpdate"]}
    spec.update(wanted)
    return body


def change_patch(options, current):
    spec = _strategy(options)
    template = copy.deepcopy(options.get("template_patch") or {})
    images = _image_containers(current["spec"]["template"], options.get("images") or {})
    if images:
        # An image from `images` wins over the same container's image in template_patch (the more
        # specific option), and the rest of that container's patch (env, probes, ...) is kept.
        template_spec = template.setdefault("spec", {})
        for field, entries in images.items():
            patched = {c.get("name"): c for c in template_spec.get(field) or []}
            for entry in entries:
                patched[entry["name"]] = dict(patched.get(entry["name"]) or {}, **entry)
            template_spec[field] = list(patched.values())
    if template:
        spec["template"] = template
    return {"spec": spec} if spec else {}


def restart_patch(now):
    return {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now}}}}}


def replicas(deployment):
    status = (deployment or {}).get("status") or {}
    return {
        "desired": ((deployment or {}).get("spec") or {}).get("replicas", 1),
        "updated": status.get("updatedReplicas", 0),
        "ready": status.get("readyReplicas", 0),
        "available": status.get("availableReplicas", 0),
    }


def _own_metadata(obj):
    # The controller writes deployment.kubernetes.io/* annotations at any moment; they are not ours.
    annotations = {
        k: v
        for k, v in (obj["metadata"].get("annotations") or {}).items()
        if not k.startswith("deployment.kubernetes.io/")
    }
    return obj["metadata"].get("labels") or {}, annotations


def spec_changed(before, after):
    return before is None or before["spec"] != after["spec"] or _own_metadata(before) != _own_metadata(after)
