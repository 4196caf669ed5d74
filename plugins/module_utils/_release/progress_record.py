# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a release run is: one JSON annotation on the object that anchors the release.  Pure.

The strategy roles pass a module (switch_selector, canary_scale) the progress the change it is
about to make stands for; the module merges it into the very patch that makes the change (or,
when there is nothing else to patch, patches it alone), so the recorded progress and the state
it describes cannot disagree.  A run killed at any point leaves the last phase it entered; the
next run reads it to tell where the last one stopped.

    ANNOTATION: nodowntime.k8s/progress
    validate(progress) -> the option's dict, checked; ProgressError (a ValueError) naming the field and rule
    recorded(obj) -> the progress an object carries: {} when none, {"phase": "unreadable", ...}
                     for an annotation that is not a JSON object
    differs(obj, progress) -> whether writing progress would change what obj records ("at" aside)
    annotations(progress, now) -> {ANNOTATION: text}, the progress stamped with the time "at"
"""

import json

ANNOTATION = "nodowntime.k8s/progress"
UNREADABLE = "unreadable"
# Set by the module when it writes, so a run can tell when the last one stopped; not compared.
STAMP = "at"
SCALARS = (str, int, float, bool, type(None))


class ProgressError(ValueError):
    """The progress option is not what can be recorded; the message names the field and the rule."""


def _check_value(path, value):
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ProgressError(f"progress.{path}: keys must be strings, got {key!r}")
            _check_value(f"{path}.{key}", item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_value(f"{path}[{index}]", item)
    elif not isinstance(value, SCALARS):
        raise ProgressError(f"progress.{path} must be a string, number, boolean, null, list or dict, got {value!r}")


def validate(progress):
    """progress as given, or None; ProgressError unless it is a dict with a non-empty string phase."""
    if progress is None:
        return None
    phase = progress.get("phase")
    if not isinstance(phase, str) or not phase:
        raise ProgressError(f"progress.phase must be a non-empty string, got {phase!r}")
    if STAMP in progress:
        raise ProgressError(f"progress.{STAMP} is set by the module when it writes the progress; leave it out")
    for key, value in progress.items():
        _check_value(key, value)
    return progress


def recorded(obj):
    text = (((obj or {}).get("metadata") or {}).get("annotations") or {}).get(ANNOTATION)
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        return {"phase": UNREADABLE, "text": text}
    return value


def differs(obj, progress):
    if progress is None:
        return False
    last = {k: v for k, v in recorded(obj).items() if k != STAMP}
    return last != json.loads(json.dumps(progress))


def annotations(progress, now):
    stamped = dict(progress, **{STAMP: now.strftime("%Y-%m-%dT%H:%M:%SZ")})
    return {ANNOTATION: json.dumps(stamped, sort_keys=True, separators=(",", ":"))}
