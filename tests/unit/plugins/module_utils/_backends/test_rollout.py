"""One run of the rollout module: what it reports when the API fails it after its change went through."""

import pytest
from rollout_objects import deployment, hpa, options, with_image

from ansible_collections.nodowntime.k8s.plugins.module_utils._backends import rollout
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.errors import ApiError
from ansible_collections.nodowntime.k8s.plugins.module_utils._release.timeline import Timeline


class ForbiddenToWatch:
    """The patch goes through; every list and watch (the wait's first requests) is refused."""

    def __init__(self):
        self.patched = []

    def get(self, kind, namespace, name):
        return deployment()

    def patch(self, kind, namespace, name, patch, patch_type="strategic", dry_run=False):
        self.patched.append(patch)
        return deployment(generation=3, observed=2, template=with_image("demo:2"))

    def list(self, kind, namespace, label_selector=None, field_selector=None, keep=None):
        raise ApiError(403, "Forbidden", f"cannot list {kind}")

    def watch(self, kind, namespace, resource_version, label_selector=None, field_selector=None, timeout_seconds=60):
        raise ApiError(403, "Forbidden", f"cannot watch {kind}")

    def ready(self):
        return True  # a ready server: its 403 is believed at once

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
    assert "cannot list" in e.value.message or "cannot watch" in e.value.message


class Scaled:
    """web runs 6 pods; HPAs as given; apply answers with what it was sent (status unchanged)."""

    def __init__(self, hpas, unserved=False):
        self.hpas, self.unserved, self.applied = hpas, unserved, []

    def get(self, kind, namespace, name):
        return deployment(replicas=6)

    def list(self, kind, namespace, label_selector=None, field_selector=None, keep=None):
        assert kind == "HorizontalPodAutoscaler"
        if self.unserved:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return self.hpas, "1"

    def apply(self, kind, namespace, body, field_manager=None, force=True, dry_run=False):
        self.applied.append(body)
        return dict(deployment(replicas=6, template=with_image("demo:2")), spec=dict(body["spec"]))


@pytest.mark.parametrize(
    "client, sent, noted",
    [
        pytest.param(Scaled([hpa("web")]), 6, True, id="hpa-owns-replicas-live-count-kept"),
        pytest.param(Scaled([hpa("other")]), 2, False, id="hpa-of-another-deployment-ours-applies"),
        pytest.param(Scaled([]), 2, False, id="no-hpa-ours-applies"),
        pytest.param(Scaled([], unserved=True), 2, False, id="autoscaling-v2-not-served-ours-applies"),
    ],
)
def test_a_definition_never_overwrites_the_replicas_an_hpa_owns(client, sent, noted):
    definition = deployment(replicas=2, template=with_image("demo:2"))
    warnings = []
    report = rollout.task(client, options(definition=definition, wait=False), None, False, Timeline(), warnings.append)
    assert client.applied[0]["spec"]["replicas"] == sent
    assert bool(warnings) is noted
    assert bool(report["autoscaler"]) is noted
    if noted:
        assert report["autoscaler"]["name"] == "web" and "kept its 6" in warnings[0]
