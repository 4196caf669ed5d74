"""The fleet filters: rows read from hostvars, errors naming the variable as the user wrote it."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.nodowntime.k8s.plugins.filter import fleet


def test_the_report_reads_each_clusters_row_and_lists_the_rest():
    row = {"cluster": "c1", "outcome": "complete", "ok": True, "started": None, "wave": None}
    hostvars = {"c1": {"fleet_cluster": row}, "c2": {}}
    report = fleet.report(hostvars, ["c1", "c2"], [1], "rolling_update", "2026-12-05T10:00:00Z")
    assert [(r["cluster"], r["outcome"]) for r in report["clusters"]] == [("c1", "complete"), ("c2", "not_run")]


@pytest.mark.parametrize(
    "name, args, message",
    [
        pytest.param("fleet_role", ("bluegreen",), "fleet_strategy: 'bluegreen'", id="strategy"),
        pytest.param("fleet_report", ({"c1": {}}, ["c1"], ["x%"], "canary"), "fleet_waves: 'x%'", id="waves"),
    ],
)
def test_bad_values_fail_the_task_naming_the_variable(name, args, message):
    with pytest.raises(AnsibleFilterError, match=message):
        fleet.FilterModule().filters()[name](*args)
