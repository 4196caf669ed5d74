#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nodowntime.k8s.resource: apply or delete one object, for the strategy roles' small writes."""

DOCUMENTATION = r"""
module: resource
short_description: Server-side apply or delete one Kubernetes object, as one field manager
version_added: 0.1.0
author: nodowntime maintainers (@nodowntime)
description:
  - With O(state=present), sends O(definition) by server-side apply as O(field_manager). Server-side apply
    sets the fields given and, of the fields this manager set before, removes those no longer given; fields
    of other managers stay. So a partial O(definition) under its own O(field_manager) changes only what it
    names, for example one annotation, or C(spec.replicas) of a colour that is done serving.
  - With O(state=absent), deletes the object; a missing object is not an error.
  - Deployments are rolled out with M(nodowntime.k8s.rollout), which waits and rolls back; this module does
    not wait.
options:
  definition:
    description:
      - The object, with C(apiVersion), C(kind) and C(metadata.name) (and C(metadata.namespace) unless
        O(namespace) is set). With O(state=absent) only those are used.
    type: dict
    required: true
  namespace:
    description: Namespace of the object, when O(definition) does not say.
    type: str
  state:
    description: Whether the object should be applied (V(present)) or gone (V(absent)).
    type: str
    choices: [present, absent]
    default: present
  field_manager:
    description:
      - The server-side apply field manager. Each kind of change the roles make has its own manager, so
        applying one never removes what another set.
    type: str
    default: nodowntime-resource
extends_documentation_fragment:
  - nodowntime.k8s.auth
  - nodowntime.k8s.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Shows the object before and after, without its status and managedFields.
  idempotent:
    support: full
    details: Compares the object before and after the apply (a dry run first); an unchanged object gives
      C(changed=false).
"""

EXAMPLES = r"""
- name: Point a preview Service at the green pods
  nodowntime.k8s.resource:
    field_manager: nodowntime-preview
    definition:
      apiVersion: v1
      kind: Service
      metadata: {name: web-preview, namespace: shop}
      spec:
        selector: {app: web, slot: green}
        ports: [{name: http, port: 80, targetPort: http}]

- name: Scale the blue colour to zero, touching nothing else
  nodowntime.k8s.resource:
    field_manager: nodowntime-scale
    definition:
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web-blue, namespace: shop}
      spec: {replicas: 0}
"""

RETURN = r"""
resource:
  description: The object after the task (or as it would be, in check mode); null after a delete.
  returned: success
  type: dict
"""

import copy

from ansible_collections.nodowntime.k8s.plugins.module_utils._argspec import AUTH, ArgumentSpec
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.client import Client
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.errors import ApiError

ARGUMENT_SPEC = AUTH.merge(
    ArgumentSpec(
        {
            "definition": {"type": "dict", "required": True},
            "namespace": {"type": "str"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "field_manager": {"type": "str", "default": "nodowntime-resource"},
        }
    )
)


def comparable(obj):
    """The object without what every write changes by itself."""
    if obj is None:
        return None
    obj = copy.deepcopy(obj)
    obj.pop("status", None)
    for key in ("managedFields", "resourceVersion", "generation", "creationTimestamp", "uid"):
        obj.get("metadata", {}).pop(key, None)
    return obj


def get(client, kind, namespace, name):
    try:
        return client.get(kind, namespace, name)
    except ApiError as e:
        if e.status == 404:
            return None
        raise


def main():
    module = ARGUMENT_SPEC.create_module()
    params = module.params
    body = copy.deepcopy(params["definition"])
    meta = body.setdefault("metadata", {})
    namespace = meta.setdefault("namespace", params["namespace"])
    kind, name = body.get("kind"), meta.get("name")
    if not (kind and name and body.get("apiVersion")):
        module.fail_json(msg="definition needs apiVersion, kind and metadata.name")
    client = Client.from_module(module)
    try:
        before = get(client, kind, namespace, name)
        if params["state"] == "absent":
            if before is not None and not module.check_mode:
                client.delete(kind, namespace, name)
            module.exit_json(
                changed=before is not None, resource=None, diff={"before": comparable(before) or {}, "after": {}}
            )
        # A dry run first: it tells whether the apply would change anything, without a write.
        after = client.apply(kind, namespace, body, field_manager=params["field_manager"], dry_run=True)
        changed = comparable(before) != comparable(after)
        if changed and not module.check_mode:
            after = client.apply(kind, namespace, body, field_manager=params["field_manager"])
    except (ApiError, ValueError) as e:
        module.fail_json(msg=getattr(e, "message", str(e)))
    module.exit_json(
        changed=changed, resource=after, diff={"before": comparable(before) or {}, "after": comparable(after)}
    )


if __name__ == "__main__":
    main()
