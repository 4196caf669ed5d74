"""promote and abort act only on the canary version they approve."""

import pytest

from ansible_collections.nodowntime.k8s.plugins.module_utils._release.approval import refusal


def canary(*images, revision="3"):
    annotations = {"deployment.kubernetes.io/revision": revision} if revision else {}
    containers = [{"name": f"c{i}", "image": image} for i, image in enumerate(images)]
    return {
        "metadata": {"name": "web-canary", "annotations": annotations},
        "spec": {"template": {"spec": {"containers": containers}}},
    }


SHOP_142 = "registry.example.com/shop:1.4.2"
SHOP_143 = "registry.example.com/shop:1.4.3"


@pytest.mark.parametrize(
    "found, approved",
    [
        (canary(SHOP_142), SHOP_142),  # the image, as the paused run's to_version gives it
        (canary(SHOP_142), f"  {SHOP_142} "),
        (canary(SHOP_142, "proxy:2"), f"{SHOP_142}, proxy:2"),  # several containers: to_version joins them
        (canary(SHOP_142, "proxy:2"), f"proxy:2,{SHOP_142}"),  # in any order
        (canary(SHOP_142), "3"),  # the canary Deployment's revision
        (canary(SHOP_142), 3),  # a number from YAML or a survey
    ],
)
def test_the_approved_canary_goes_on(found, approved):
    assert refusal(found, "promote", approved, "web-canary") == ""


@pytest.mark.parametrize(
    "found, action, approved, said",
    [
        # Someone started 1.4.3 after 1.4.2 was approved.
        (
            canary(SHOP_143),
            "promote",
            SHOP_142,
            (
                f"promote approves {SHOP_142}, but the canary web-canary is {SHOP_143} (revision 3); "
                f"nothing changed: decide on the canary that runs, with canary_version={SHOP_143}"
            ),
        ),
        (
            canary(SHOP_143, revision="4"),
            "abort",
            "3",
            f"abort approves revision 3, but the canary web-canary is {SHOP_143} (revision 4); nothing changed",
        ),
        (canary(SHOP_143, revision=None), "promote", "3", "(revision unknown)"),
        (canary(SHOP_142, "proxy:2"), "promote", SHOP_142, f"is {SHOP_142}, proxy:2 (revision 3)"),  # one of two
        (None, "abort", SHOP_142, f"abort approves {SHOP_142}, but there is no canary Deployment web-canary"),
        (canary(SHOP_142), "promote", "", "promote needs canary_version, the version it approves"),
        (canary(SHOP_142), "abort", None, "abort needs canary_version"),
        (canary(SHOP_142), "abort", "  ", "abort needs canary_version"),
    ],
)
def test_another_canary_is_refused_naming_both_versions(found, action, approved, said):
    assert said in refusal(found, action, approved, "web-canary")
