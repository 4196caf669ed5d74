"""The rollout module's input checks and the patches it sends."""

import pytest
from rollout_objects import deployment, options

from ansible_collections.nodowntime.k8s.plugins.module_utils._plan.rollout_change import (
    change_patch,
    check,
    manifest,
    spec_changed,
)

SURGE = "spec.strategy.rollingUpdate.maxSurge"
UNAVAILABLE = "spec.strategy.rollingUpdate.maxUnavailable"


def with_strategy(surge, unavailable):
    d = deployment()
    d["spec"]["strategy"] = {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable},
    }
    return d


@pytest.mark.parametrize(
    "opts, current, error",
    [
        (options(max_surge=0, max_unavailable=0), deployment(), "may not be 0 when `maxSurge` is 0"),
        (options(max_surge=0), with_strategy(1, 0), "may not be 0 when `maxSurge` is 0"),  # with what is there
        (options(max_unavailable="150%"), deployment(), "must not be greater than 100%"),
        (options(max_surge="abc"), deployment(), "a valid percent string"),
        (
            options(images={"sidecar": "x:1"}),
            deployment(),
            "no container 'sidecar' in the pod template; its containers are 'app'",
        ),
        (options(images={"app": ""}), deployment(), "images.app: must be a non-empty image reference"),
        (
            options(min_ready_seconds=30, progress_deadline_seconds=30),
            deployment(),
            "must be greater than minReadySeconds",
        ),
        (options(), None, "Deployment 'web' not found in namespace 'shop'; pass definition to create it"),
        (options(state="restarted", images={"app": "x:2"}), deployment(), "images only apply with state=present"),
        (options(definition={"kind": "StatefulSet"}), None, "definition must be a Deployment manifest"),
        (
            options(definition=dict(deployment(), metadata={"name": "other"})),
            None,
            "definition.metadata.name is 'other'",
        ),
        (options(state="rolled_back", to_revision=0), deployment(), "revisions start at 1"),
    ],
)
def test_refused_before_anything_is_sent(opts, current, error):
    errors = check(opts, current)
    assert any(error in e for e in errors), errors


@pytest.mark.parametrize(
    "opts, current, error",
    [
        (
            options(max_unavailable="150%"),
            deployment(),
            f'max_unavailable ({UNAVAILABLE}): Invalid value: "150%": must not be greater than 100%',
        ),
        (
            options(max_surge="abc"),
            deployment(),
            f'max_surge ({SURGE}): Invalid value: "abc": a valid percent string',
        ),
        (
            options(max_surge=0, max_unavailable=0),
            deployment(),
            f"max_unavailable ({UNAVAILABLE}): Invalid value: 0: may not be 0 when `maxSurge` is 0",
        ),
        # maxUnavailable 0 is what the Deployment has: only the field names it.
        (
            options(max_surge=0),
            with_strategy(1, 0),
            f"{UNAVAILABLE}: Invalid value: 0: may not be 0 when `maxSurge` is 0",
        ),
        (
            options(definition=with_strategy(1, "150%")),
            None,
            f'{UNAVAILABLE}: Invalid value: "150%": must not be greater than 100%',
        ),
    ],
)
def test_strategy_messages_name_the_option_as_written(opts, current, error):
    assert any(e.startswith(error) for e in check(opts, current)), check(opts, current)


def test_good_options_pass():
    assert check(options(max_surge="25%", max_unavailable="25%", images={"app": "demo:2"}), deployment()) == []
    assert check(options(max_surge=0), with_strategy(0, 1)) == []


def test_change_patch_merges_images_strategy_and_template_patch():
    patch = change_patch(
        options(
            images={"app": "demo:2"},
            max_surge="25%",
            max_unavailable="25%",
            min_ready_seconds=5,
            template_patch={
                "metadata": {"annotations": {"release": "7"}},
                "spec": {
                    "containers": [{"name": "app", "image": "demo:ignored", "env": [{"name": "A", "value": "1"}]}]
                },
            },
        ),
        deployment(),
    )
    assert patch["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
    }
    assert patch["spec"]["minReadySeconds"] == 5
    template = patch["spec"]["template"]
    assert template["metadata"] == {"annotations": {"release": "7"}}
    # images is the more specific option; the rest of the container's patch is kept
    assert template["spec"]["containers"] == [{"name": "app", "image": "demo:2", "env": [{"name": "A", "value": "1"}]}]


def test_nothing_asked_means_no_patch():
    assert change_patch(options(), deployment()) == {}


def test_manifest_folds_in_images_and_strategy():
    body = manifest(
        options(
            definition={"kind": "Deployment", "spec": deployment()["spec"]},
            images={"app": "demo:9"},
            max_surge=2,
            max_unavailable="0",
        )
    )
    assert body["metadata"] == {"name": "web", "namespace": "shop"} and body["apiVersion"] == "apps/v1"
    assert body["spec"]["template"]["spec"]["containers"][0]["image"] == "demo:9"
    assert body["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 2, "maxUnavailable": 0}


def test_spec_changed_ignores_the_controllers_annotations():
    before, after = deployment(), deployment(revision="7")
    assert not spec_changed(before, after)
    after["metadata"]["annotations"]["team"] = "shop"
    assert spec_changed(before, after)
    assert spec_changed(None, after)
