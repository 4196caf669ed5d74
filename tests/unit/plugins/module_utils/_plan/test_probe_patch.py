"""What probe_config sends: nothing when the API's defaults already match, a pinned JSON patch otherwise."""

import copy

import pytest

from ansible_collections.nodowntime.k8s.plugins.module_utils._plan.probe_patch import plan, view

STORED = {
    "httpGet": {"path": "/health", "port": 8080, "scheme": "HTTP"},
    "timeoutSeconds": 1,
    "periodSeconds": 10,
    "successThreshold": 1,
    "failureThreshold": 3,
}


def workload(containers=None, grace=30):
    containers = containers or [
        {"name": "app", "image": "demo:1", "readinessProbe": STORED, "ports": [{"name": "http", "containerPort": 8080}]}
    ]
    return {
        "kind": "Deployment",
        "metadata": {"name": "web", "resourceVersion": "42"},
        "spec": {
            "strategy": {"type": "RollingUpdate"},
            "template": {"spec": {"containers": copy.deepcopy(containers), "terminationGracePeriodSeconds": grace}},
        },
    }


def options(**kw):
    return dict(
        {
            "container": None,
            "readiness": None,
            "liveness": None,
            "startup": None,
            "pre_stop": None,
            "termination_grace_period_seconds": None,
            "state": "present",
        },
        **kw,
    )


def test_server_defaulted_fields_are_no_change():
    assert plan(workload(), options(readiness={"httpGet": {"path": "/health", "port": 8080}})).ops == []


def test_a_change_is_pinned_to_the_version_and_the_container():
    ops = plan(workload(), options(readiness={"httpGet": {"path": "/readyz", "port": "http"}, "periodSeconds": 1})).ops
    assert ops[0] == {"op": "replace", "path": "/metadata/resourceVersion", "value": "42"}
    assert ops[1] == {"op": "test", "path": "/spec/template/spec/containers/0/name", "value": "app"}
    assert ops[2] == {
        "op": "add",
        "path": "/spec/template/spec/containers/0/readinessProbe",
        "value": {"httpGet": {"path": "/readyz", "port": "http"}, "periodSeconds": 1},
    }
    assert len(ops) == 3


def test_pre_stop_and_grace_period():
    ops = plan(workload(), options(pre_stop=5, termination_grace_period_seconds=40)).ops
    assert {
        "op": "add",
        "path": "/spec/template/spec/containers/0/lifecycle",
        "value": {"preStop": {"sleep": {"seconds": 5}}},
    } in ops
    assert {"op": "add", "path": "/spec/template/spec/terminationGracePeriodSeconds", "value": 40} in ops


def test_pre_stop_longer_than_the_grace_period_is_refused():
    with pytest.raises(ValueError, match=r"less than terminationGracePeriodSeconds \(30\)"):
        plan(workload(), options(pre_stop=45))


def test_absent_removes_only_what_is_named_and_only_if_present():
    ops = plan(workload(), options(state="absent", readiness={}, liveness={})).ops
    assert ops[2:] == [{"op": "remove", "path": "/spec/template/spec/containers/0/readinessProbe"}]
    assert plan(workload(), options(state="absent", startup={})).ops == []


def test_several_containers_need_a_name_and_the_error_lists_them():
    two = workload([{"name": "app"}, {"name": "proxy"}])
    with pytest.raises(ValueError, match="2 containers \\('app', 'proxy'\\); set container"):
        plan(two, options(readiness={"tcpSocket": {"port": 80}}))
    with pytest.raises(ValueError, match="no container 'db'"):
        plan(two, options(container="db", readiness={"tcpSocket": {"port": 80}}))
    ops = plan(two, options(container="proxy", readiness={"tcpSocket": {"port": 80}})).ops
    assert ops[1]["path"] == "/spec/template/spec/containers/1/name"


def test_every_problem_is_reported_before_anything_is_sent():
    with pytest.raises(ValueError) as e:
        plan(
            workload(),
            options(readiness={"periodSeconds": 0}, liveness={"httpGet": {"port": 8080}, "successThreshold": 2}),
        )
    assert "must specify a handler type" in str(e.value) and "successThreshold: Invalid value: 2" in str(e.value)


def test_warnings_come_with_the_plan():
    p = plan(workload(), options(liveness={"httpGet": {"path": "/health", "port": 8080}, "failureThreshold": 1}))
    assert any("failureThreshold is 1" in w for w in p.warnings)


def test_view_shows_the_managed_fields():
    shown = view(workload(), None)
    assert shown == {
        "container": "app",
        "terminationGracePeriodSeconds": 30,
        "readinessProbe": STORED,
        "livenessProbe": None,
        "startupProbe": None,
        "preStop": None,
    }
