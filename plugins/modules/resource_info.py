#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nodowntime.k8s.resource_info: read objects, for the strategy roles' decisions and reports."""

DOCUMENTATION = r"""
module: resource_info
short_description: Read Kubernetes objects the collection knows, one by name or a list by selector
version_added: 0.1.0
author: nodowntime maintainers (@nodowntime)
description:
  - Reads one object by O(name), or lists objects by O(label_selector) and O(field_selector), and returns them
    as the API shows them (C(kubectl get -o json)).
  - The strategy roles use it to find the live colour in a Service's selector, the images a Deployment runs
    before a release, and the nodes' allocatable resources.
  - A missing object is not an error with O(name) set; RV(resources) is then empty.
options:
  kind:
    description: The kind to read.
    type: str
    required: true
    choices: [Deployment, StatefulSet, DaemonSet, ReplicaSet, Pod, Service, ConfigMap, Event, Namespace, Node,
              EndpointSlice, Lease, HorizontalPodAutoscaler, HTTPRoute]
  namespace:
    description: Namespace to read in; omit it to list a namespaced kind in every namespace.
    type: str
  name:
    description: Name of the one object to read.
    type: str
  label_selector:
    description: A label selector in the list API's syntax, for example V(app=web,slot in (blue,green)).
    type: str
  field_selector:
    description: A field selector, for example V(status.phase!=Succeeded).
    type: str
extends_documentation_fragment:
  - nodowntime.k8s.auth
  - nodowntime.k8s.attributes
attributes:
  check_mode:
    support: full
    details: Only reads, so check mode reads too.
  diff_mode:
    support: none
    details: Nothing is changed.
  idempotent:
    support: full
    details: Never changes anything.
"""

EXAMPLES = r"""
- name: Which colour does the Service web send traffic to?
  nodowntime.k8s.resource_info:
    kind: Service
    namespace: shop
    name: web
  register: web_service

- name: Every pod that still holds a node's resources
  nodowntime.k8s.resource_info:
    kind: Pod
    field_selector: status.phase!=Succeeded,status.phase!=Failed
  register: pods
"""

RETURN = r"""
resources:
  description: The objects read, in the API's own camelCase; empty when a named object does not exist.
  returned: success
  type: list
  elements: dict
  sample: [{apiVersion: v1, kind: Service, metadata: {name: web}, spec: {selector: {app: web, slot: blue}}}]
"""


from ansible_collections.nodowntime.k8s.plugins.module_utils._argspec import AUTH, ArgumentSpec
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.client import Client
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.errors import ApiError
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.resources import API_VERSION, KINDS

ARGUMENT_SPEC = AUTH.merge(
    ArgumentSpec(
        {
            "kind": {"type": "str", "required": True, "choices": [k for k in KINDS if k != "ControllerRevision"]},
            "namespace": {"type": "str"},
            "name": {"type": "str"},
            "label_selector": {"type": "str"},
            "field_selector": {"type": "str"},
        },
        mutually_exclusive=[("name", "label_selector"), ("name", "field_selector")],
    )
)


def read(client, params):
    kind, namespace, name = params["kind"], params["namespace"], params["name"]
    if name:
        try:
            return [client.get(kind, namespace, name)]
        except ApiError as e:
            if e.status == 404:
                return []
            raise
    items, _resource_version = client.list(
        kind, namespace, label_selector=params["label_selector"], field_selector=params["field_selector"]
    )
    # List items come without kind and apiVersion; put them back so every object reads the same.
    return [dict(item, kind=kind, apiVersion=API_VERSION[kind]) for item in items]


def main():
    module = ARGUMENT_SPEC.create_module()
    client = Client.from_module(module)
    try:
        resources = read(client, module.params)
    except ApiError as e:
        module.fail_json(msg=e.message)
    module.exit_json(changed=False, resources=resources)


if __name__ == "__main__":
    main()
