"""probe_config refuses to wait on a rollout kubectl cannot judge, before it changes anything."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.client import Client
from ansible_collections.nodowntime.k8s.plugins.modules import probe_config

READINESS = {"httpGet": {"path": "/readyz", "port": "http"}}
REFUSED = (
    "StatefulSet 'db' has updateStrategy type OnDelete: rollout status is only available for RollingUpdate "
    "strategy type; nothing was changed. Set wait: false to change it without waiting; its pods take the "
    "change when they are deleted."
)


class OnDeleteStatefulSet:
    def __init__(self):
        self.patched = []

    def get(self, kind, namespace, name):
        container = {"name": "db", "image": "db:1", "ports": [{"name": "http", "containerPort": 8080}]}
        return {
            "metadata": {"name": "db", "namespace": "shop", "uid": "sts", "resourceVersion": "7"},
            "spec": {"updateStrategy": {"type": "OnDelete"}, "template": {"spec": {"containers": [container]}}},
        }

    def patch(self, kind, namespace, name, ops, patch_type="strategic", dry_run=False):
        self.patched.append(ops)
        return self.get(kind, namespace, name)


def run(monkeypatch, capsys, **args):
    client = OnDeleteStatefulSet()
    monkeypatch.setattr(Client, "from_module", lambda module: client)
    args = dict(kind="StatefulSet", name="db", namespace="shop", readiness=READINESS, **args)
    with patch_module_args(args), pytest.raises(SystemExit):
        probe_config.main()
    return client, json.loads(capsys.readouterr().out)


def test_waiting_on_an_on_delete_statefulset_is_refused_before_the_patch(monkeypatch, capsys):
    client, result = run(monkeypatch, capsys)
    assert (result.get("failed"), result["msg"], result["changed"]) == (True, REFUSED, False)
    assert client.patched == []


def test_without_waiting_the_change_goes_through(monkeypatch, capsys):
    client, result = run(monkeypatch, capsys, wait=False)
    assert not result.get("failed") and result["changed"] and result["message"] == "not waiting (wait: false)"
    assert len(client.patched) == 1
