# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the strategy roles use to read and derive Deployments and Services: pure, on plain dicts."""

from ansible_collections.nodowntime.k8s.plugins.module_utils._plan import autoscaler, canary_router, deployment_variant
from ansible_collections.nodowntime.k8s.plugins.module_utils._release import approval


class FilterModule:
    def filters(self):
        return {
            "images": deployment_variant.images,
            "version": deployment_variant.version,
            "variant": deployment_variant.variant,
            "preview_service": deployment_variant.preview_service,
            "autoscaled_colours": autoscaler.blue_green,
            "canary_refusal": approval.refusal,
            "canary_router": canary_router.settings,
            "canary_service": canary_router.canary_service,
        }
