"""switch_selector on the local cluster: refusals change nothing; blue to green under traffic fails no request."""

import re
import time

import pytest
from ansible_run import run_module

from ansible_collections.nodowntime.k8s.plugins.module_utils._release import progress_record
from localcluster import workloads
from localcluster.meter import Meter

BLUE = {"app": "web", "slot": "blue"}
GREEN = {"app": "web", "slot": "green"}


def _slot(kube, namespace, labels, version, env=None, complete=True):
    """A Deployment web-<slot> of 2 demo pods; waits until rolled out, or only until both pods exist."""
    name = f"web-{labels['slot']}"
    manifest = workloads.deployment(name, workloads.demo_container(version, env=env), replicas=2, labels=labels)
    kube.apps.create_namespaced_deployment(namespace, manifest)
    done = workloads.deployment_complete if complete else (lambda d: (d.status.replicas or 0) == 2)
    workloads.wait_for(kube.apps.list_namespaced_deployment, name, done, 60, f"{name}'s pods", namespace=namespace)


def _service(kube, namespace, selector):
    svc = kube.core.create_namespaced_service(namespace, workloads.node_port_service("web", selector))
    return f"http://127.0.0.1:{svc.spec.ports[0].node_port}/"


def _pods(kube, namespace, labels):
    selector = ",".join(f"{k}={v}" for k, v in labels.items())
    return sorted(p.metadata.name for p in kube.core.list_namespaced_pod(namespace, label_selector=selector).items)


def _args(namespace, selector, **extra):
    return {"namespace": namespace, "service": "web", "selector": selector, "wait_timeout": 60, **extra}


@pytest.mark.timeout(180)
def test_refuses_unready_empty_and_unmatched_selectors_and_changes_nothing(kube, namespace):
    _slot(kube, namespace, BLUE, "1")
    _slot(kube, namespace, GREEN, "2", env={"FAIL_READINESS": "1"}, complete=False)
    _service(kube, namespace, BLUE)
    before = kube.core.read_namespaced_service("web", namespace).metadata.resource_version

    for check in (True, False):
        result, out = run_module("switch_selector", _args(namespace, GREEN), check=check)
        assert "FAILED!" in out
        assert result["msg"] == "refusing to switch web: 0 of 2 pods matching {app: web, slot: green} are ready"
        assert result["changed"] is False

    result, out = run_module("switch_selector", _args(namespace, {"app": "web", "slot": "purple"}))
    assert result["msg"] == "refusing to switch web: no pod matches {app: web, slot: purple}", out
    result, out = run_module("switch_selector", _args(namespace, {}))
    assert result["msg"].startswith("refusing to switch web: the selector is empty"), out

    svc = kube.core.read_namespaced_service("web", namespace)
    assert svc.metadata.resource_version == before
    assert svc.spec.selector == BLUE


@pytest.mark.timeout(240)
def test_blue_to_green_under_traffic_fails_no_request(kube, namespace):
    _slot(kube, namespace, BLUE, "1")
    _slot(kube, namespace, GREEN, "2")
    url = _service(kube, namespace, BLUE)
    workloads.wait_serving(url, timeout=30)
    green_pods = _pods(kube, namespace, GREEN)
    before = kube.core.read_namespaced_service("web", namespace).metadata.resource_version

    # Check mode: the same answer, the patch only as a dry run.
    result, out = run_module("switch_selector", _args(namespace, GREEN), check=True, diff=True)
    assert result["changed"] is True and "FAILED!" not in out, out
    assert result["selector"] == GREEN and result["previous_selector"] == BLUE
    assert re.search(r'^-\s+"slot": "blue"', out, re.MULTILINE) and re.search(
        r'^\+\s+"slot": "green"', out, re.MULTILINE
    ), out
    assert kube.core.read_namespaced_service("web", namespace).metadata.resource_version == before

    settle = kube.settle
    with Meter(url, rps=50, max_duration=60) as m:
        time.sleep(2)
        switch, out = run_module("switch_selector", _args(namespace, GREEN), diff=True)
        switched = m.elapsed()
        time.sleep(settle + 3)
    assert switch["changed"] is True and "FAILED!" not in out, out
    assert switch["previous_selector"] == BLUE and switch["selector"] == GREEN
    assert switch["ready_endpoints"] == green_pods
    assert 0 < switch["switch_seconds"] < 30
    assert any(e["message"].startswith("patched selector of web") for e in switch["timeline"]), switch["timeline"]

    s = m.summary
    assert s["sent"] > 200
    assert s["failed"] == 0, (s["failed_by_kind"], s["failure_samples"])
    assert set(s["versions"]) == {"1", "2"}
    # After the proxy's sync delay only green answers.
    assert set(m.versions_after(switched + settle)) == {"2"}

    # Idempotent: the second run changes nothing and still confirms the endpoints.
    result, out = run_module("switch_selector", _args(namespace, GREEN))
    assert result["changed"] is False and result["ready_endpoints"] == green_pods, out

    # Rolling back is the same call with previous_selector.
    result, out = run_module("switch_selector", _args(namespace, switch["previous_selector"]))
    assert result["changed"] is True and result["ready_endpoints"] == _pods(kube, namespace, BLUE), out


def _recorded(kube, namespace):
    service = kube.core.read_namespaced_service("web", namespace)
    return service, progress_record.recorded(service.to_dict())


@pytest.mark.timeout(180)
def test_progress_goes_with_the_switch_and_alone_when_the_selector_stays(kube, namespace):
    _slot(kube, namespace, BLUE, "1")
    _slot(kube, namespace, GREEN, "2")
    _service(kube, namespace, BLUE)
    switched = {"phase": "switched", "colour": "green", "previous": "blue", "holder": "tester"}

    # Bad progress fails naming the field and the rule, before anything changes.
    before, _nothing = _recorded(kube, namespace)
    result, out = run_module("switch_selector", _args(namespace, GREEN, progress={"colour": "green"}))
    assert result["msg"] == "progress.phase must be a non-empty string, got None", out
    assert _recorded(kube, namespace)[0].metadata.resource_version == before.metadata.resource_version

    # Check mode: the diff shows both, nothing is written.
    result, out = run_module("switch_selector", _args(namespace, GREEN, progress=switched), check=True, diff=True)
    assert result["changed"] is True and result["progress"]["phase"] == "switched", out
    assert '"phase": "switched"' in out and _recorded(kube, namespace)[1] == {}

    # The switch: selector and progress in one patch, one write in the API's own account.
    unswitched = _recorded(kube, namespace)[0].metadata.resource_version
    result, out = run_module("switch_selector", _args(namespace, GREEN, progress=switched))
    service, recorded = _recorded(kube, namespace)
    assert result["changed"] is True and service.spec.selector == GREEN, out
    assert recorded == dict(switched, at=recorded["at"]) and result["progress"] == recorded
    assert workloads.writes_since(kube.core.list_namespaced_service, "web", unswitched, namespace=namespace) == 1

    # The same progress again (its time aside) changes nothing.
    result, out = run_module("switch_selector", _args(namespace, GREEN, progress=switched))
    assert result["changed"] is False and _recorded(kube, namespace)[0].metadata.resource_version == (
        service.metadata.resource_version
    ), out

    # The selector stays, the progress moves on: only the annotation is patched.
    result, out = run_module("switch_selector", _args(namespace, GREEN, wait=False, progress={"phase": "done"}))
    service, recorded = _recorded(kube, namespace)
    assert result["changed"] is True and service.spec.selector == GREEN and recorded["phase"] == "done", out
    assert not any(e["message"].startswith("patched selector") for e in result["timeline"]), result["timeline"]
