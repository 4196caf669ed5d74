"""Every playbook, given its extra vars as the docs spell them, parses without a warning or a deprecation.

The old `-e name=... -e namespace=...` drew "Found variable using reserved name" from ansible-core 2.19;
the negative control shows the check still sees that. The runs themselves, on a cluster, are checked by
tests/integration/roles/test_playbook_warnings.py."""

import os
import subprocess

import pytest

from localcluster import ansiblecli

PLAYBOOKS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "playbooks")
IMAGES = {"app": "registry.example.com/shop:1.4.2"}
EXTRA_VARS = {
    "rolling_update": {"app_name": "web", "app_namespace": "shop", "images": IMAGES},
    "blue_green": {"app_name": "web", "app_namespace": "shop", "images": IMAGES},
    "canary": {"app_name": "web", "app_namespace": "shop", "images": IMAGES},
    "promote": {"app_name": "web", "app_namespace": "shop", "canary_version": IMAGES["app"]},
    "abort": {"app_name": "web", "app_namespace": "shop", "canary_version": IMAGES["app"]},
    "rollback": {"app_name": "web", "app_namespace": "shop"},
    "fleet_release": {"app_name": "web", "app_namespace": "shop", "images": IMAGES, "fleet_waves": [1, "50%"]},
}


def _syntax_check(name, extra_vars):
    argv = [*ansiblecli.playbook_argv(os.path.join(PLAYBOOKS, f"{name}.yml"), extra_vars), "--syntax-check"]
    env = ansiblecli.env("/nonexistent", ansiblecli.WARNINGS_ON)
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def test_every_playbook_is_covered():
    assert sorted(EXTRA_VARS) == sorted(f[: -len(".yml")] for f in os.listdir(PLAYBOOKS) if f.endswith(".yml"))


@pytest.mark.parametrize("name", sorted(EXTRA_VARS))
def test_the_playbook_parses_without_a_warning(name):
    rc, out = _syntax_check(name, EXTRA_VARS[name])
    assert rc == 0, out
    assert ansiblecli.warnings(out) == [], out


def test_negative_control_a_reserved_name_is_seen():
    rc, out = _syntax_check("rollback", {"name": "web", "namespace": "shop"})
    assert rc == 0, out
    assert any("reserved name 'name'" in line for line in ansiblecli.warnings(out)), out
