# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the strategy roles use to read and derive Deployments and Services: pure, on plain dicts."""

from ansible_collections.nodowntime.k8s.plugins.module_utils import approval, variants


class FilterModule:
    def filters(self):
        return {
            "images": variants.images,
            "version": variants.version,
            "variant": variants.variant,
            "preview_service": variants.preview_service,
            "canary_refusal": approval.refusal,
        }
