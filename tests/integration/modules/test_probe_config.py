"""probe_config on the local cluster: check mode, --diff, idempotence, validation before any change."""

import pytest
from ansible_run import run_module

from localcluster import workloads

READINESS = {"httpGet": {"path": "/readyz", "port": "http"}, "periodSeconds": 1, "failureThreshold": 2}


def _version(kube, namespace):
    return kube.apps.read_namespaced_deployment("web", namespace).metadata.resource_version


@pytest.mark.timeout(240)
def test_check_mode_diff_apply_then_unchanged(kube, namespace, deploy):
    deploy(workloads.deployment("web", workloads.demo_container("1", readiness=False), replicas=2), service=False)
    args = {"name": "web", "namespace": namespace, "readiness": READINESS, "pre_stop": 2, "wait_timeout": 90}
    before = _version(kube, namespace)

    result, out = run_module("probe_config", args, check=True, diff=True)
    assert result["changed"] is True and result["message"] == "dry run: nothing was changed", out
    assert '+    "readinessProbe": {' in out and '-    "readinessProbe": null' in out, out  # the diff
    # The server-side dry run answers with the API's defaults filled in.
    assert result["probes"]["readinessProbe"]["timeoutSeconds"] == 1
    assert _version(kube, namespace) == before

    result, out = run_module("probe_config", args, diff=True)
    assert result["changed"] is True and result["message"] == 'deployment "web" successfully rolled out', out
    assert any("successfully rolled out" in e["message"] for e in result["timeline"])
    container = kube.apps.read_namespaced_deployment("web", namespace).spec.template.spec.containers[0]
    assert container.readiness_probe.period_seconds == 1 and container.lifecycle.pre_stop.sleep.seconds == 2

    after = _version(kube, namespace)
    result, out = run_module("probe_config", args)
    assert result["changed"] is False and result["message"] == "no change needed", out
    # Spelling out the API's defaults is no change either.
    spelled = dict(READINESS, timeoutSeconds=1, successThreshold=1, httpGet=dict(READINESS["httpGet"], scheme="HTTP"))
    result, out = run_module("probe_config", dict(args, readiness=spelled))
    assert result["changed"] is False, out
    assert _version(kube, namespace) == after


@pytest.mark.timeout(180)
def test_bad_input_fails_before_anything_changes(kube, namespace, deploy):
    deploy(workloads.deployment("web", workloads.demo_container("1"), replicas=1), service=False)
    before = _version(kube, namespace)
    cases = [
        (
            {"liveness": {"httpGet": {"port": 8080}, "successThreshold": 2}},
            "livenessProbe.successThreshold: Invalid value: 2: must be 1",
        ),
        ({"readiness": {"httpGet": {"port": "metrics"}}}, "has no port named 'metrics' (named ports: http)"),
        (
            {"readiness": {"httpGet": {"port": 8080}, "tcpSocket": {"port": 8080}}},
            "may not specify more than 1 handler",
        ),
        ({"startup": {"exec": {"command": ["true"]}, "failureThreshold": 0}}, "failureThreshold: Invalid value: 0"),
        ({"readiness": {"tcpSocket": {"port": 70000}}}, "must be between 1 and 65535"),
        ({"pre_stop": 40}, "less than terminationGracePeriodSeconds (30)"),
        (
            {"container": "db", "readiness": READINESS},
            "no container 'db' in the pod template; its containers are 'app'",
        ),
    ]
    for args, message in cases:
        result, out = run_module("probe_config", dict(args, name="web", namespace=namespace))
        assert "Task failed" in out and message in result["msg"] and result["changed"] is False, (args, out)
    result, out = run_module("probe_config", {"name": "nope", "namespace": namespace, "readiness": READINESS})
    assert result["msg"] == f"Deployment 'nope' in namespace '{namespace}' not found", out
    assert _version(kube, namespace) == before


@pytest.mark.timeout(180)
def test_several_containers_and_risky_settings(kube, namespace, deploy):
    manifest = workloads.deployment("web", workloads.demo_container("1"), replicas=1)
    manifest["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "localhost:5000/pause:3.10"})
    deploy(manifest, service=False)
    result, out = run_module("probe_config", {"name": "web", "namespace": namespace, "readiness": READINESS})
    assert "Task failed" in out and "2 containers ('app', 'sidecar'); set container" in result["msg"], out

    same = dict(READINESS)
    result, out = run_module(
        "probe_config",
        {
            "name": "web",
            "namespace": namespace,
            "container": "app",
            "liveness": same,
            "readiness": same,
            "wait_timeout": 90,
        },
    )
    assert result["changed"] is True, out
    assert "livenessProbe is identical to readinessProbe" in out, out


@pytest.mark.timeout(180)
def test_absent_removes_the_named_probe(kube, namespace, deploy):
    deploy(workloads.deployment("web", workloads.demo_container("1", liveness=True), replicas=1), service=False)
    args = {"name": "web", "namespace": namespace, "liveness": {}, "state": "absent", "wait_timeout": 90}
    result, out = run_module("probe_config", args)
    assert result["changed"] is True, out
    container = kube.apps.read_namespaced_deployment("web", namespace).spec.template.spec.containers[0]
    assert container.liveness_probe is None and container.readiness_probe is not None
    result, out = run_module("probe_config", args)
    assert result["changed"] is False, out
