"""A release's progress annotation: checked, compared without its time, stamped; and where modules put it."""

import json
from datetime import UTC, datetime

import pytest

from ansible_collections.nodowntime.k8s.plugins.module_utils._release import progress_record
from ansible_collections.nodowntime.k8s.plugins.modules import canary_scale, switch_selector

NOW = datetime(2025, 1, 31, 12, 0, 3, tzinfo=UTC)
SWITCHED = {"strategy": "blue_green", "phase": "switched", "colour": "green", "previous": "blue", "holder": "me"}


def carrying(value, resource_version="7"):
    text = value if isinstance(value, str) else json.dumps(value)
    return {"metadata": {"resourceVersion": resource_version, "annotations": {progress_record.ANNOTATION: text}}}


def test_the_annotation_is_the_progress_stamped_with_its_time():
    written = progress_record.annotations(SWITCHED, NOW)
    assert json.loads(written[progress_record.ANNOTATION]) == dict(SWITCHED, at="2025-01-31T12:00:03Z")


def test_recorded_progress_is_read_back_and_none_is_empty():
    assert progress_record.recorded(carrying(dict(SWITCHED, at="x"))) == dict(SWITCHED, at="x")
    assert progress_record.recorded({"metadata": {}}) == {}
    assert progress_record.recorded(None) == {}


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '"switched"'])
def test_an_unreadable_annotation_says_so_rather_than_guessing(text):
    assert progress_record.recorded(carrying(text)) == {"phase": "unreadable", "text": text}


def test_the_same_progress_at_another_time_does_not_differ():
    obj = carrying(dict(SWITCHED, at="2025-01-01T00:00:00Z"))
    assert not progress_record.differs(obj, SWITCHED)
    assert progress_record.differs(obj, dict(SWITCHED, holder="someone else"))
    assert progress_record.differs({"metadata": {}}, SWITCHED)
    assert not progress_record.differs(obj, None)


@pytest.mark.parametrize(
    "value, message",
    [
        ({}, "progress.phase must be a non-empty string, got None"),
        ({"phase": ""}, "progress.phase must be a non-empty string, got ''"),
        ({"phase": 3}, "progress.phase must be a non-empty string, got 3"),
        ({"phase": "step", "at": "now"}, "progress.at is set by the module"),
        ({"phase": "step", "when": {1, 2}}, "progress.when must be a string, number, boolean, null, list or dict"),
        ({"phase": "step", "deep": {"list": [object]}}, r"progress.deep.list\[0\] must be"),
    ],
)
def test_bad_progress_is_refused_naming_the_field_and_rule(value, message):
    with pytest.raises(ValueError, match=message):
        progress_record.validate(value)


def test_the_switch_and_its_progress_are_one_patch():
    service = carrying({"phase": "done"})
    patch = switch_selector.patch_for(
        service, {"app": "web", "slot": "blue"}, {"app": "web", "slot": "green"}, SWITCHED, NOW
    )
    assert patch["spec"] == {"selector": {"app": "web", "slot": "green"}}
    assert patch["metadata"]["resourceVersion"] == "7"
    assert json.loads(patch["metadata"]["annotations"][progress_record.ANNOTATION])["phase"] == "switched"


def test_with_the_selector_unchanged_only_new_progress_is_patched():
    selector = {"app": "web", "slot": "green"}
    service = carrying(dict(SWITCHED, at="earlier"))
    assert switch_selector.patch_for(service, selector, selector, SWITCHED, NOW) == {
        "metadata": {"resourceVersion": "7"}
    }
    done = switch_selector.patch_for(service, selector, selector, dict(SWITCHED, phase="done"), NOW)
    assert "spec" not in done and progress_record.ANNOTATION in done["metadata"]["annotations"]


class Recorder:
    def __init__(self):
        self.patches = []

    def patch(self, kind, namespace, name, body, patch_type, dry_run):
        self.patches.append((name, body))


def _params():
    return {"namespace": "shop", "stable": "web", "canary": "web-canary", "wait": True, "wait_timeout": 60}


def test_a_step_whose_canary_grows_records_progress_in_the_canary_scale_up():
    client = Recorder()
    record = {progress_record.ANNOTATION: "{}"}
    canary_scale.apply(
        client, _params(), {}, {"canary": 0, "stable": 4}, {"canary": 2, "stable": 2}, record, Noop(), True
    )
    assert client.patches[0] == ("web-canary", {"spec": {"replicas": 2}, "metadata": {"annotations": record}})
    assert client.patches[1] == ("web", {"spec": {"replicas": 2}})


def test_a_step_whose_stable_grows_first_records_progress_before_it():
    client = Recorder()
    record = {progress_record.ANNOTATION: "{}"}
    canary_scale.apply(
        client, _params(), {}, {"canary": 2, "stable": 2}, {"canary": 0, "stable": 4}, record, Noop(), True
    )
    assert client.patches == [
        ("web-canary", {"metadata": {"annotations": record}}),
        ("web", {"spec": {"replicas": 4}}),
        ("web-canary", {"spec": {"replicas": 0}}),
    ]


class Noop:
    def add(self, message):
        pass
