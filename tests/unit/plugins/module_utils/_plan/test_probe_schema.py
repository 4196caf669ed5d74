"""Probe validation, the API's defaults, and the warnings for risky settings."""

import pytest

from ansible_collections.nodowntime.k8s.plugins.module_utils._plan.probe_schema import (
    normalized,
    pre_stop_handler,
    risks,
    validate,
)

CONTAINER = {"name": "app", "ports": [{"name": "http", "containerPort": 8080}]}
HTTP = {"httpGet": {"path": "/health", "port": 8080}}
GUIDE_LIVENESS = {
    "failureThreshold": 1,
    "httpGet": {"path": "/health", "port": 8080, "scheme": "HTTP"},
    "initialDelaySeconds": 120,
    "periodSeconds": 10,
    "successThreshold": 1,
    "timeoutSeconds": 2,
}
GUIDE_READINESS = dict(GUIDE_LIVENESS, initialDelaySeconds=15)


@pytest.mark.parametrize(
    "field, probe, error",
    [
        ("readinessProbe", {}, "must specify a handler type"),
        ("readinessProbe", {"periodSeconds": 5}, "must specify a handler type"),
        ("readinessProbe", dict(HTTP, tcpSocket={"port": 8080}), "may not specify more than 1 handler type"),
        ("readinessProbe", {"httpGet": {"path": "/"}}, "readinessProbe.httpGet.port: Required value"),
        ("readinessProbe", {"httpGet": {"port": 0}}, "must be between 1 and 65535"),
        ("readinessProbe", {"tcpSocket": {"port": 65536}}, "must be between 1 and 65535"),
        ("readinessProbe", {"httpGet": {"port": "metrics"}}, "has no port named 'metrics' (named ports: http)"),
        ("readinessProbe", {"httpGet": {"port": "Not_A_Name"}}, "must be a port number or an IANA_SVC_NAME"),
        ("readinessProbe", {"grpc": {"port": "http"}}, "grpc.port"),
        ("readinessProbe", {"exec": {"command": []}}, "exec.command: Required value"),
        ("readinessProbe", {"httpGet": {"port": 80, "scheme": "FTP"}}, 'Unsupported value: "FTP"'),
        (
            "readinessProbe",
            dict(HTTP, failureThreshold=0),
            "failureThreshold: Invalid value: 0: must be greater than or equal to 1",
        ),
        ("readinessProbe", dict(HTTP, successThreshold=0), "successThreshold: Invalid value: 0"),
        ("readinessProbe", dict(HTTP, timeoutSeconds=0), "timeoutSeconds: Invalid value: 0"),
        ("readinessProbe", dict(HTTP, periodSeconds=0), "periodSeconds: Invalid value: 0"),
        ("readinessProbe", dict(HTTP, initialDelaySeconds=-1), "initialDelaySeconds: Invalid value: -1"),
        ("readinessProbe", dict(HTTP, periodSeconds="10s"), "periodSeconds: Invalid value: '10s': must be an integer"),
        ("readinessProbe", dict(HTTP, periodseconds=10), "readinessProbe.periodseconds: unknown field"),
        ("readinessProbe", dict(HTTP, terminationGracePeriodSeconds=5), "must not be set for readinessProbes"),
        (
            "livenessProbe",
            dict(HTTP, successThreshold=2),
            "livenessProbe.successThreshold: Invalid value: 2: must be 1",
        ),
        ("startupProbe", dict(HTTP, successThreshold=3), "startupProbe.successThreshold: Invalid value: 3: must be 1"),
        ("livenessProbe", "httpGet /health", "must be a mapping"),
    ],
)
def test_invalid_probes(field, probe, error):
    errors = validate(field, probe, CONTAINER)
    assert any(error in e for e in errors), errors


@pytest.mark.parametrize(
    "field, probe",
    [
        ("readinessProbe", HTTP),
        ("readinessProbe", {"httpGet": {"port": "http"}, "successThreshold": 2}),  # >1 is fine for readiness
        ("readinessProbe", {"tcpSocket": {"port": "8080"}}),
        ("livenessProbe", {"exec": {"command": ["cat", "/tmp/ok"]}, "failureThreshold": 10}),  # no maximum of 3
        ("startupProbe", {"grpc": {"port": 9090}, "failureThreshold": 30, "periodSeconds": 1}),
        ("livenessProbe", GUIDE_LIVENESS),
        ("readinessProbe", GUIDE_READINESS),
    ],
)
def test_valid_probes(field, probe):
    assert validate(field, probe, CONTAINER) == []


def test_defaults_are_the_apis_not_the_guides():
    assert normalized({"httpGet": {"port": 8080}}) == {
        "httpGet": {"port": 8080, "path": "/", "scheme": "HTTP"},
        "periodSeconds": 10,
        "timeoutSeconds": 1,
        "successThreshold": 1,
        "failureThreshold": 3,
    }


def test_a_server_defaulted_probe_equals_what_was_asked():
    asked = {"httpGet": {"path": "/readyz", "port": "8080"}, "initialDelaySeconds": 0}
    stored = {
        "httpGet": {"path": "/readyz", "port": 8080, "scheme": "HTTP"},
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    assert normalized(asked) == normalized(stored)
    assert normalized(dict(asked, periodSeconds=5)) != normalized(stored)
    assert normalized({"grpc": {"port": 9090}}) == normalized({"grpc": {"port": 9090, "service": ""}})


@pytest.mark.parametrize(
    "value, handler",
    [
        (5, {"sleep": {"seconds": 5}}),
        ("7", {"sleep": {"seconds": 7}}),
        (["/bin/drain", "--wait"], {"exec": {"command": ["/bin/drain", "--wait"]}}),
        ("sleep 3 && kill -TERM 1", {"exec": {"command": ["/bin/sh", "-c", "sleep 3 && kill -TERM 1"]}}),
    ],
)
def test_pre_stop_handler(value, handler):
    assert pre_stop_handler(value) == handler


def test_pre_stop_rejects_other_values():
    with pytest.raises(ValueError, match="pre_stop"):
        pre_stop_handler({"sleep": 5})


def _warnings(container, grace=30, rolling=True):
    return "\n".join(risks(dict(CONTAINER, **container), {"terminationGracePeriodSeconds": grace}, rolling))


def test_the_guides_settings_draw_the_failure_threshold_and_startup_warnings():
    text = _warnings({"livenessProbe": GUIDE_LIVENESS, "readinessProbe": GUIDE_READINESS})
    assert "livenessProbe.failureThreshold is 1" in text
    assert "initialDelaySeconds 120 with no startupProbe" in text and "failureThreshold 12" in text
    assert "identical" not in text


@pytest.mark.parametrize(
    "container, grace, rolling, expected",
    [
        (
            {"livenessProbe": HTTP, "readinessProbe": dict(HTTP, periodSeconds=10)},
            30,
            True,
            "identical to readinessProbe",
        ),
        ({}, 30, True, "has no readinessProbe in a RollingUpdate Deployment"),
        (
            {"readinessProbe": HTTP, "lifecycle": {"preStop": {"sleep": {"seconds": 30}}}},
            30,
            True,
            "preStop sleeps 30s",
        ),
    ],
)
def test_warnings(container, grace, rolling, expected):
    assert expected in _warnings(container, grace, rolling)


@pytest.mark.parametrize(
    "container, grace, rolling",
    [
        ({"readinessProbe": HTTP, "livenessProbe": {"httpGet": {"port": 8080, "path": "/healthz"}}}, 30, True),
        ({}, 30, False),  # not a RollingUpdate Deployment
        ({"readinessProbe": HTTP, "lifecycle": {"preStop": {"sleep": {"seconds": 5}}}}, 30, True),
        (
            {"readinessProbe": HTTP, "livenessProbe": dict(HTTP, initialDelaySeconds=120), "startupProbe": HTTP},
            30,
            True,
        ),
    ],
)
def test_no_warning_for_sane_settings(container, grace, rolling):
    assert _warnings(container, grace, rolling) == ""
