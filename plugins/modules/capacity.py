#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nodowntime.k8s.capacity: can the nodes hold a second copy of an application?"""

DOCUMENTATION = r"""
module: capacity
short_description: Check that the nodes' free allocatable resources hold more pods of a pod template
version_added: 0.1.0
author: nodowntime maintainers (@nodowntime)
description:
  - Blue/green runs both colours at full size until the switch, so it needs room for a second copy of the
    application. This module reads the schedulable, Ready nodes and every pod bound to them, and places
    O(replicas) pods of O(template) first-fit into each node's allocatable minus the requests of its pods
    (cpu, memory and the pod count), as a scheduler would have to.
  - When they do not fit it warns (or fails, with O(fail_on_shortage)), naming what is needed and what is free.
    Pods without requests need only a pod slot.
  - A check before the release; the scheduler has the last word (taints, affinity and spread constraints are
    not considered), so M(nodowntime.k8s.rollout) can still fail fast when new pods are C(Unschedulable)
    (its O(nodowntime.k8s.rollout#module:fail_on_unschedulable)), as the blue/green role's new colour does.
options:
  template:
    description: The pod template (a Deployment's C(spec.template)), in the API's camelCase.
    type: dict
    required: true
  replicas:
    description: How many more pods of O(template) must fit.
    type: int
    required: true
  fail_on_shortage:
    description: Fail instead of warning when they do not fit.
    type: bool
    default: false
extends_documentation_fragment:
  - nodowntime.k8s.auth
  - nodowntime.k8s.attributes
attributes:
  check_mode:
    support: full
    details: Only reads.
  diff_mode:
    support: none
    details: Nothing is changed.
  idempotent:
    support: full
    details: Never changes anything.
notes:
  - Requires the verbs list on nodes and on pods in every namespace.
"""

EXAMPLES = r"""
- name: Warn when a second colour of web cannot fit
  nodowntime.k8s.capacity:
    template: "{{ web_blue.spec.template }}"
    replicas: "{{ web_blue.spec.replicas }}"
"""

RETURN = r"""
fits:
  description: Whether O(replicas) more pods fit.
  returned: success
  type: bool
  sample: false
message:
  description: What is needed and what is free.
  returned: success
  type: str
  sample: "only 1 of 3 more pods fit on the nodes: they need cpu 1.5, memory 768Mi, pods 3; free allocatable is ..."
needed:
  description: The requests of O(replicas) pods; cpu in cores, memory in bytes.
  returned: success
  type: dict
  sample: {cpu: 1.5, memory: 805306368, pods: 3}
free:
  description: The free allocatable summed over the schedulable nodes; cpu in cores, memory in bytes.
  returned: success
  type: dict
  sample: {cpu: 0.9, memory: 402653184, pods: 104}
"""


from ansible_collections.nodowntime.k8s.plugins.module_utils._argspec import AUTH, ArgumentSpec
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.client import Client
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.errors import ApiError
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.rollouts import node_room

ARGUMENT_SPEC = AUTH.merge(
    ArgumentSpec(
        {
            "template": {"type": "dict", "required": True},
            "replicas": {"type": "int", "required": True},
            "fail_on_shortage": {"type": "bool", "default": False},
        }
    )
)


def main():
    module = ARGUMENT_SPEC.create_module()
    params = module.params
    client = Client.from_module(module)
    try:
        found = node_room(client, params["template"], params["replicas"])
    except ApiError as e:
        module.fail_json(msg=e.message)
    except ValueError as e:
        module.fail_json(msg=str(e))
    if not found["fits"]:
        if params["fail_on_shortage"]:
            module.fail_json(msg=found["message"], **found)
        module.warn(found["message"])
    module.exit_json(changed=False, **found)


if __name__ == "__main__":
    main()
