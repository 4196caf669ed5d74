# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a decision on a paused canary (promote, abort) is about the canary in the cluster.  Pure.

A decision names the version it approves: the canary's images as the paused run reported them
(its to_version, images joined by ", ") or the canary Deployment's revision.  Between the pause
and the decision someone may have started another canary; the decision must then change nothing.

refusal(canary, action, approved, name) -> "" when canary (the Deployment as read, or None) is the
    approved version, otherwise why not, naming both versions
"""

from __future__ import annotations

from ansible_collections.nodowntime.k8s.plugins.module_utils._plan import deployment_variant, revisions

OPTION = "canary_version"


def _images(version):
    # Order and spacing aside: "a:1, b:2" and "b:2,a:1" name the same canary.
    return sorted(part.strip() for part in version.split(",") if part.strip())


def refusal(canary, action, approved, name):
    approved = "" if approved is None else str(approved).strip()
    if not approved:
        return (
            f"{action} needs {OPTION}, the version it approves: the canary's images as the paused run "
            f"reported them (its to_version), or the revision of {name}"
        )
    if not canary:
        return f"{action} approves {approved}, but there is no canary Deployment {name}; nothing changed"
    version = deployment_variant.version(canary)
    revision = revisions.revision(canary)
    if approved.isdigit():
        if int(approved) == revision:
            return ""
        approved_as = f"revision {approved}"
    else:
        if _images(approved) == _images(version):
            return ""
        approved_as = approved
    return (
        f"{action} approves {approved_as}, but the canary {name} is {version} (revision {revision or 'unknown'}); "
        f"nothing changed: decide on the canary that runs, with {OPTION}={version}"
    )
