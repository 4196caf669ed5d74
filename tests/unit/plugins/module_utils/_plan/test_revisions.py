"""Revision history from owned ReplicaSets, and undo like kubectl rollout undo."""

import pytest
from rollout_objects import deployment, replica_set, with_image

from ansible_collections.nodowntime.k8s.plugins.module_utils._plan.revisions import (
    RevisionError,
    controlled_by,
    rollback_target,
    undo_patch,
)


def history(*revisions):
    return [replica_set(f"web-r{r}", r, template=with_image(f"demo:{r}")) for r in revisions]


def test_ownership_is_by_uid_not_by_labels():
    mine, theirs = replica_set("web-a", 1), replica_set("web-b", 2, owner="other-uid")
    not_controller = replica_set("web-c", 3)
    not_controller["metadata"]["ownerReferences"][0]["controller"] = False
    assert controlled_by(deployment(), [mine, theirs, not_controller]) == [mine]


@pytest.mark.parametrize(
    "revisions, to_revision, chosen",
    [
        ((1, 2, 3), None, 2),  # the previous: second highest
        ((1, 3, 4), None, 3),  # an undo renumbered 2 to 4: the gap is skipped
        ((4, 1, 3), None, 3),  # order of the list does not matter
        ((1, 3, 4), 1, 1),  # exact revision across the gap
        ((2, 5), 5, 5),
    ],
)
def test_rollback_target(revisions, to_revision, chosen):
    target = rollback_target(deployment(), history(*revisions), to_revision)
    assert target["metadata"]["name"] == f"web-r{chosen}"


def test_missing_revision_lists_what_is_kept():
    with pytest.raises(RevisionError, match=r"unable to find revision 2 .* revisions kept: 1, 3, 4"):
        rollback_target(deployment(), history(1, 3, 4), 2)


def test_no_history_to_go_back_to():
    with pytest.raises(RevisionError, match="no rollout history"):
        rollback_target(deployment(), history(1), None)


def test_replica_sets_without_revision_are_ignored():
    unnumbered = replica_set("web-x", None)
    assert rollback_target(deployment(), [*history(1, 2), unnumbered], None)["metadata"]["name"] == "web-r1"


def test_undo_patch_restores_template_without_hash_and_keeps_annotations():
    dep = deployment(template=with_image("demo:3"), annotations={"team": "shop", "kubernetes.io/change-cause": "v3"})
    target = replica_set("web-r1", 1, template=with_image("demo:1"), annotations={"kubernetes.io/change-cause": "v1"})
    ops = undo_patch(dep, target)
    assert ops[0] == {"op": "replace", "path": "/metadata/resourceVersion", "value": "100"}
    assert ops[1]["path"] == "/spec/template"
    assert ops[1]["value"]["spec"]["containers"][0]["image"] == "demo:1"
    assert "pod-template-hash" not in ops[1]["value"]["metadata"]["labels"]
    assert ops[2] == {"op": "add", "path": "/metadata/annotations/kubernetes.io~1change-cause", "value": "v1"}
    assert not any(op["path"] == "/metadata/annotations" for op in ops)  # the rest stay as they are


def test_undo_drops_a_change_cause_the_target_never_had():
    dep = deployment(template=with_image("demo:3"), annotations={"kubernetes.io/change-cause": "v3"})
    ops = undo_patch(dep, replica_set("web-r1", 1, template=with_image("demo:1")))
    assert ops[-1] == {"op": "remove", "path": "/metadata/annotations/kubernetes.io~1change-cause"}


def test_undo_makes_no_change_when_the_template_matches():
    assert undo_patch(deployment(), replica_set("web-r2", 2)) is None


def test_undo_refuses_a_paused_deployment():
    with pytest.raises(RevisionError, match="paused"):
        undo_patch(deployment(paused=True, template=with_image("demo:3")), replica_set("web-r1", 1))
