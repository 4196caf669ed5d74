"""A release's progress annotation: checked, compared without its time, stamped."""

import json
from datetime import UTC, datetime

import pytest

from ansible_collections.nodowntime.k8s.plugins.module_utils._release import progress_record

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
