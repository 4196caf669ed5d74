# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Deployment's revision history, read from the ReplicaSets it owns, and undo.

controlled_by(owner, objects)           objects whose controller ownerReference is owner's uid
revision(obj)                           int from deployment.kubernetes.io/revision, or None
same_template(a, b)                     pod templates equal but for pod-template-hash
rollback_target(deployment, rs_list, to_revision=None)
    the ReplicaSet to go back to: exactly to_revision, else the second-highest revision
    (kubectl rollout undo); raises RevisionError naming the revisions that exist
undo_patch(deployment, rs)
    a JSON patch restoring rs's template, or None when the template already matches;
    raises RevisionError on a paused Deployment
"""

from __future__ import annotations

import copy

REVISION = "deployment.kubernetes.io/revision"
HASH_LABEL = "pod-template-hash"
CHANGE_CAUSE = "kubernetes.io/change-cause"


class RevisionError(Exception):
    pass


def controlled_by(owner, objects):
    uid = owner["metadata"]["uid"]
    return [
        o
        for o in objects
        if any(ref.get("controller") and ref.get("uid") == uid for ref in o["metadata"].get("ownerReferences") or [])
    ]


def revision(obj):
    value = (obj["metadata"].get("annotations") or {}).get(REVISION)
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def template_without_hash(template):
    template = copy.deepcopy(template or {})
    labels = (template.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(HASH_LABEL, None)
    return template


def same_template(a, b):
    return template_without_hash(a) == template_without_hash(b)


def _name(deployment):
    return deployment["metadata"]["name"]


def rollback_target(deployment, replica_sets, to_revision=None):
    by_revision = {revision(rs): rs for rs in replica_sets if revision(rs) is not None}
    known = sorted(by_revision)
    listed = ", ".join(map(str, known)) or "none"
    if to_revision:
        if to_revision not in by_revision:
            raise RevisionError(
                f"unable to find revision {to_revision} of deployment {_name(deployment)!r} "
                f"in history; revisions kept: {listed}"
            )
        return by_revision[to_revision]
    if len(known) < 2:
        raise RevisionError(
            f"no rollout history found for deployment {_name(deployment)!r} to go back to (revisions kept: {listed})"
        )
    return by_revision[known[-2]]


def undo_patch(deployment, rs):
    if deployment["spec"].get("paused"):
        raise RevisionError(
            f"cannot roll back deployment {_name(deployment)!r}: it is paused; "
            "resume it first (state: resumed) and try again"
        )
    if same_template(rs["spec"]["template"], deployment["spec"]["template"]):
        return None
    meta = deployment["metadata"]
    # Replacing resourceVersion with the one the decision was made on turns a concurrent
    # change into a 409 Conflict instead of a silent overwrite.
    ops = [
        {"op": "replace", "path": "/metadata/resourceVersion", "value": meta["resourceVersion"]},
        {"op": "replace", "path": "/spec/template", "value": template_without_hash(rs["spec"]["template"])},
    ]
    # The Deployment keeps its annotations; only the change-cause follows the template back.
    cause = (rs["metadata"].get("annotations") or {}).get(CHANGE_CAUSE)
    current = meta.get("annotations")
    pointer = "/metadata/annotations/" + CHANGE_CAUSE.replace("~", "~0").replace("/", "~1")
    if cause is not None and current is None:
        ops.append({"op": "add", "path": "/metadata/annotations", "value": {CHANGE_CAUSE: cause}})
    elif cause is not None:
        ops.append({"op": "add", "path": pointer, "value": cause})
    elif current and CHANGE_CAUSE in current:
        ops.append({"op": "remove", "path": pointer})
    return ops
