"""The filters hand the roles plain data: a dict with the steps as a list, the report functions by name."""

from ansible_collections.nodowntime.k8s.plugins.filter import release
from ansible_collections.nodowntime.k8s.plugins.module_utils._release import report


def test_the_next_step_is_a_plain_dict_with_the_steps_as_a_list():
    spec = {"strategy": "canary", "to": "shop:2", "action": "run", "steps": [{"weight": 50}]}
    decided = release.release_next(spec, {}, {"stage": "begin", "stable_replicas": 2})
    assert isinstance(decided, dict) and isinstance(decided["steps"], list) and decided["steps"] == [{"weight": 50}]
    assert (decided["action"], decided["replicas"]) == ("create", 2)


def test_the_report_filters_are_the_report_functions():
    filters = release.FilterModule().filters()
    assert (filters["release_step"], filters["release_failed"], filters["release_headline"]) == (
        report.step,
        report.failed,
        report.headline,
    )
