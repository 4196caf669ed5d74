# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Finding containers in a workload's pod template.

container_index(template, name=None) -> (index, container)
    name may be omitted only when the pod has exactly one container; otherwise
    ValueError names the containers there are.
container_names(template) -> ["app", "sidecar"]
"""

from __future__ import annotations


def container_names(template):
    return [c["name"] for c in template["spec"].get("containers") or []]


def container_index(template, name=None):
    containers = template["spec"].get("containers") or []
    names = ", ".join(repr(c["name"]) for c in containers)
    if name is None:
        if len(containers) == 1:
            return 0, containers[0]
        raise ValueError(f"the pod has {len(containers)} containers ({names}); set container to one of them")
    for index, container in enumerate(containers):
        if container["name"] == name:
            return index, container
    raise ValueError(f"no container {name!r} in the pod template; its containers are {names}")
