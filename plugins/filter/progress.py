# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filters the strategy roles read a release's recorded progress with, and write it with when no module
that moves pods can (the canary behind a route records its rollback before the route moves): pure."""

from ansible_collections.nodowntime.k8s.plugins.module_utils._release import progress_record


class FilterModule:
    def filters(self):
        return {"progress": progress_record.recorded, "progress_annotations": progress_annotations}


def progress_annotations(progress, now):
    """{nodowntime.k8s/progress: text} for progress stamped with now, as canary_scale writes it."""
    return progress_record.annotations(progress_record.validate(progress), now)
