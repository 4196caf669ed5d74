# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The attributes every module of the collection declares; a module overrides a support level."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and report what would change without changing anything.
    support: full
    details: Changes are sent to the API server as a server-side dry run, so admission and validation still run.
  diff_mode:
    description: Returns the fields it manages before and after the change when run with C(--diff).
    support: full
  idempotent:
    description: Running the task again with the same options reports C(changed=false) and changes nothing.
    support: full
  action_group:
    description: Use C(group/nodowntime.k8s.k8s) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - nodowntime.k8s.k8s
"""
