"""One run of the rollout module: what it reports when the API fails it after its change went through."""

import pytest
from rollout_objects import deployment, options, with_image

from ansible_collections.nodowntime.k8s.plugins.module_utils._backends import rollout
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.errors import ApiError
from ansible_collections.nodowntime.k8s.plugins.module_utils._release.timeline import Timeline


class ForbiddenToWatch:
    """The patch goes through; every list (the wait's first request) is refused."""

    def __init__(self):
        self.patched = []

    def get(self, kind, namespace, name):
        return deployment()

    def patch(self, kind, namespace, name, patch, patch_type="strategic", dry_run=False):
        self.patched.append(patch)
        return deployment(generation=3, observed=2, template=with_image("demo:2"))

    def list(self, kind, namespace, label_selector=None, field_selector=None, keep=None):
        raise ApiError(403, "Forbidden", f"cannot list {kind}")

    def close_streams(self):
        pass


def test_an_api_error_while_waiting_still_reports_the_change():
    client = ForbiddenToWatch()
    with pytest.raises(rollout.TaskFailed) as e:
        rollout.run(client, options(images={"app": "demo:2"}, wait_timeout=5), False, Timeline())
    assert len(client.patched) == 1
    result = e.value.result
    assert (result["changed"], result["outcome"], result["reason"]) == (True, "failed", "Forbidden"), result
    assert result["diff"]["after"]["template"]["spec"]["containers"][0]["image"] == "demo:2"
    assert "cannot list" in e.value.message
