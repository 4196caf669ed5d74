"""The rollout backend's report names the images before and after its change, read from its own diff."""

from ansible_collections.nodowntime.k8s.plugins.module_utils._backends import rollout
from ansible_collections.nodowntime.k8s.plugins.module_utils._release.timeline import Timeline


def _spec(**by_container):
    containers = [{"name": name, "image": image} for name, image in by_container.items()]
    return {"replicas": 3, "template": {"spec": {"containers": containers}}}


def test_an_update_reports_the_images_before_and_after_for_every_container():
    result = {
        "outcome": "complete",
        "changed": True,
        "diff": {"before": _spec(app="shop:1", proxy="envoy:1"), "after": _spec(app="shop:2", proxy="envoy:1")},
    }

    report = rollout.report(result, Timeline())

    assert report["images"] == {
        "before": {"app": "shop:1", "proxy": "envoy:1"},
        "after": {"app": "shop:2", "proxy": "envoy:1"},
    }
    assert report["outcome"] == "complete" and report["diff"] == result["diff"]


def test_a_created_deployment_had_no_images_before():
    report = rollout.report({"outcome": "complete", "diff": {"before": {}, "after": _spec(app="shop:1")}}, Timeline())

    assert report["images"] == {"before": {}, "after": {"app": "shop:1"}}


def test_a_rolled_back_release_still_names_what_it_tried():
    # The undo's own spec is not the diff's after: the report must say which version failed.
    failed = {
        "outcome": "rolled_back",
        "reason": "ErrImagePull",
        "changed": True,
        "diff": {"before": _spec(app="shop:1"), "after": _spec(app="registry.invalid/shop:2")},
    }

    report = rollout.report(failed, Timeline())

    assert report["images"] == {"before": {"app": "shop:1"}, "after": {"app": "registry.invalid/shop:2"}}


def test_a_task_refused_before_any_change_reports_no_images():
    report = rollout.report({"outcome": "failed", "reason": "Invalid", "message": "bad"}, Timeline())

    assert report["images"] == {"before": {}, "after": {}}
    assert report["timeline"] == [] and report["duration_seconds"] >= 0
