# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The main() of a module that works through the API and keeps a timeline, written once.

    run_module(spec, backend, check=None)      never returns

1. builds the module from spec (an _argspec.ArgumentSpec);
2. check(params) -> checked, or ValueError: options refused with fail_json(msg) alone, before a
   client is built (so a bad option is named even when the cluster cannot be reached);
3. builds the timeline and the client;
4. backend(client, params, checked, check_mode, timeline, warn) -> the result for exit_json,
   or raises TaskFailed(message, result) for fail_json(msg=message, **result).
"""

from __future__ import annotations

from ansible_collections.nodowntime.k8s.plugins.module_utils._backends.task_failed import TaskFailed
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.client import Client
from ansible_collections.nodowntime.k8s.plugins.module_utils._release.timeline import Timeline


def run_module(spec, backend, check=None):
    module = spec.create_module()
    try:
        checked = check(module.params) if check else None
    except ValueError as e:
        module.fail_json(msg=str(e))
    timeline = Timeline(log=module.log)
    client = Client.from_module(module)
    try:
        result = backend(client, module.params, checked, module.check_mode, timeline, module.warn)
    except TaskFailed as e:
        module.fail_json(msg=e.message, **e.result)
    module.exit_json(**result)
