"""traffic_weight as Ansible runs it: options refused before any request, check mode, a second run unchanged."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args
from route_objects import ROOT, FakeApi, ref, route

from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.client import Client
from ansible_collections.nodowntime.k8s.plugins.modules import traffic_weight

OPTIONS = {"name": "web", "namespace": "shop", "stable_service": "web", "canary_service": "web-canary", "weight": 5}


def run(monkeypatch, capsys, api, **args):
    monkeypatch.setattr(Client, "from_module", lambda module: api)
    with patch_module_args({**OPTIONS, "wait_timeout": 5, **args}), pytest.raises(SystemExit):
        traffic_weight.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def api():
    return FakeApi(route([{"matches": ROOT, "backendRefs": [ref("web")]}]))


@pytest.mark.parametrize(
    "args, message",
    [
        pytest.param({"weight": -1}, "weight must be an integer from 0 to 100, got -1", id="weight-below-0"),
        pytest.param({"canary_service": "web"}, "stable_service and canary_service must be two", id="same-service"),
        pytest.param({"wait_timeout": 0}, "wait_timeout must be >= 1 second, got 0", id="wait-timeout"),
        pytest.param(
            {"header_route": {"name": "X-Canary", "value": "1", "rule_name": "Preview!"}},
            "header_route.rule_name must be a DNS label",
            id="rule-name",
        ),
    ],
)
def test_options_are_refused_before_any_request(monkeypatch, capsys, args, message):
    def no_client(module):
        raise AssertionError("a client was built")

    monkeypatch.setattr(Client, "from_module", no_client)
    with patch_module_args({**OPTIONS, **args}), pytest.raises(SystemExit):
        traffic_weight.main()
    result = json.loads(capsys.readouterr().out)
    assert result["failed"] and message in result["msg"]


def test_check_mode_changes_nothing_and_shows_the_diff(monkeypatch, capsys, api):
    result = run(monkeypatch, capsys, api, _ansible_check_mode=True, _ansible_diff=True)
    assert result["changed"] and result["weights_after"] == {"rules[0]": {"stable": 95, "canary": 5}}
    assert result["diff"]["before"]["weights"] == {"rules[0]": {"stable": 1, "canary": 0}}
    assert api.route["spec"]["rules"][0]["backendRefs"] == [ref("web")]


def test_a_second_run_is_unchanged(monkeypatch, capsys, api):
    first = run(monkeypatch, capsys, api, header_route={"name": "X-Canary", "value": "always"})
    second = run(monkeypatch, capsys, api, header_route={"name": "X-Canary", "value": "always"})
    assert (first["changed"], second["changed"]) == (True, False)
    assert second["preview_rule"]["name"] == "canary-preview" and len(api.patches) == 1
