"""Each playbook, run as a user runs it with its extra vars, prints no warning and no deprecation.

strategy_helpers.run turns Ansible's warnings on (the other tests turn some off to keep their output
plain) and fails any run of the strategy tests that prints a warning it does not expect, so every run of
rolling_update, rollback, blue_green, canary, promote and abort, successes and failures alike, is checked.
This file checks that each playbook is among them. The playbooks' parsing is checked without a cluster
by tests/unit/playbooks/test_playbook_warnings.py."""

import os
import re

from strategy_helpers import PLAYBOOKS

HERE = os.path.dirname(__file__)
# Playbooks that need more than the shared cluster, checked for warnings by their own tests.
RUN_ELSEWHERE = {"fleet_release"}  # tests/integration/fleet/test_fleet_release.py, on three clusters


def _named_in_strategy_tests():
    names = set()
    for test_file in os.listdir(HERE):
        if test_file.startswith("test_role_"):
            with open(os.path.join(HERE, test_file)) as f:
                names |= set(re.findall(r'"([a-z_]+)"', f.read()))
    return names


def test_every_playbook_is_run_by_the_strategy_tests():
    playbooks = {f[: -len(".yml")] for f in os.listdir(PLAYBOOKS) if f.endswith(".yml")}
    assert playbooks - RUN_ELSEWHERE <= _named_in_strategy_tests()
