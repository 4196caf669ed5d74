#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nodowntime.k8s.lock: one release at a time per application, held in a Lease."""

DOCUMENTATION = r"""
module: lock
short_description: Hold or release a per-application lock in a coordination.k8s.io/v1 Lease
version_added: 0.1.0
author: nodowntime maintainers (@nodowntime)
description:
  - Makes sure only one release of an application runs at a time, whoever starts it (C(ansible-playbook),
    an AWX job, a runbook). The lock is a C(coordination.k8s.io/v1) Lease in the application's namespace
    that records who holds it (RV(holder)), since when, and for how long (O(ttl_seconds)).
  - "With O(state=acquired): a missing Lease is created; a released or expired one is taken over; one the
    same O(holder) already has is renewed (its time-to-live starts again). A Lease that someone else holds
    and that has not expired makes the task fail at once, naming the holder and when the Lease expires,
    for example C(web is locked: held by AWX job 4711 since 2025-01-31T12:00:03.000000Z, expires in 540 s)."
  - "With O(state=released): the Lease's holder is cleared if it is O(holder). A Lease that expired and was
    taken over by someone else is left alone, with a warning: ending another run's lock would let a third
    one in."
  - Changes are guarded by the Lease's resourceVersion, so two runs racing for a free Lease cannot both win.
  - The strategy roles acquire the lock before they change anything and release it in an C(always) section.
options:
  name:
    description:
      - Name of the Lease; the strategy roles use the application's name prefixed with C(nodowntime-).
    type: str
    required: true
  namespace:
    description: Namespace of the Lease, normally the application's.
    type: str
    required: true
  state:
    description: Whether O(holder) should hold the lock (V(acquired)) or not (V(released)).
    type: str
    choices: [acquired, released]
    default: acquired
  holder:
    description:
      - Who takes the lock, as people should read it in a refusal. Use the same value to release it.
      - The lookup P(nodowntime.k8s.run_identity#lookup) gives the AWX job id, or user@host, the pid of
        C(ansible-playbook) and its start time, which lets a later run on the same host see that this one died.
    type: str
    required: true
  ttl_seconds:
    description:
      - How long the lock lasts without being renewed, so a run that died does not block releases forever.
      - Longer than the longest release; acquiring again with the same O(holder) renews it.
    type: int
    default: 1800
extends_documentation_fragment:
  - nodowntime.k8s.auth
  - nodowntime.k8s.attributes
attributes:
  check_mode:
    support: full
    details: Reads the Lease and decides exactly as a real run, including refusing and taking over from a dead
      holder, but writes nothing.
  diff_mode:
    support: full
    details: Shows the Lease's spec before and after.
  idempotent:
    support: full
    details: Acquiring a lock the O(holder) already has renews it and reports C(changed=false); releasing a free
      lock changes nothing.
seealso:
  - name: Leases
    description: The coordination.k8s.io Lease object.
    link: https://kubernetes.io/docs/concepts/architecture/leases/
"""

EXAMPLES = r"""
- name: Take the release lock of web, or fail naming whoever has it
  nodowntime.k8s.lock:
    name: nodowntime-web
    namespace: shop
    holder: "{{ lookup('nodowntime.k8s.run_identity') }}"
    ttl_seconds: 900

- name: Release it, whatever happened
  nodowntime.k8s.lock:
    name: nodowntime-web
    namespace: shop
    holder: "{{ lookup('nodowntime.k8s.run_identity') }}"
    state: released
"""

RETURN = r"""
acquired:
  description: Whether O(holder) holds the lock now (or would, in check mode).
  returned: always
  type: bool
  sample: true
holder:
  description: Who holds the Lease after the task; null when it is free.
  returned: success, and a refusal
  type: str
  sample: AWX job 4711
action:
  description: What was done, V(create), V(take), V(renew), V(release), V(refuse) or V(noop).
  returned: success, and a refusal
  type: str
  sample: take
message:
  description: What happened, naming the previous or current holder.
  returned: always
  type: str
  sample: "took over from alice@laptop pid 4242 started 1145816 since 2025-01-31T11:00:03.000000Z, expires 3 s ago"
expires_at:
  description: When the lock expires unless renewed, UTC; null when it is free.
  returned: success
  type: str
  sample: "2025-01-31T12:30:03.000000Z"
lease:
  description: The Lease's spec after the task.
  returned: success
  type: dict
  sample: {holderIdentity: AWX job 4711, leaseDurationSeconds: 1800, leaseTransitions: 3}
"""

from ansible_collections.nodowntime.k8s.plugins.module_utils._argspec import AUTH, LOCK_OPTIONS, ArgumentSpec
from ansible_collections.nodowntime.k8s.plugins.module_utils._backends import lock as release_lock
from ansible_collections.nodowntime.k8s.plugins.module_utils._backends.module_main import run_module

ARGUMENT_SPEC = AUTH.merge(
    ArgumentSpec(
        {
            "namespace": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["acquired", "released"], "default": "acquired"},
        }
    ),
    ArgumentSpec(LOCK_OPTIONS),
)


def main():
    run_module(ARGUMENT_SPEC, release_lock.state)


if __name__ == "__main__":
    main()
