# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filter the strategy roles read a release's recorded progress with: pure, on plain dicts."""

from ansible_collections.nodowntime.k8s.plugins.module_utils._release import progress_record


class FilterModule:
    def filters(self):
        return {"progress": progress_record.recorded}
