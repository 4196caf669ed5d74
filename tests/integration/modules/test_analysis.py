"""analysis against the demo app's /metrics: Failed at ERROR_RATE=0.3, Successful at 0; bad JMESPath sends nothing."""

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from ansible_run import run_module

from localcluster import httpget, workloads
from localcluster.meter import Meter
from localcluster.metrics_stub import MetricsStub

SUCCESS = "error_rate < `0.01`"


def _metrics_url(kube, namespace, name, error_rate, requests=20):
    """A 1-pod demo Deployment behind a NodePort Service that has answered `requests` GET / already; its
    /metrics URL, where the analysis module (outside the cluster's namespace) reaches it."""
    container = workloads.demo_container("1", env={"ERROR_RATE": error_rate})
    kube.apps.create_namespaced_deployment(namespace, workloads.deployment(name, container, replicas=1))
    svc = kube.core.create_namespaced_service(namespace, workloads.node_port_service(name, {"app": name}))
    workloads.wait_for(
        kube.apps.list_namespaced_deployment,
        name,
        workloads.deployment_complete,
        60,
        f"{name} to roll out",
        namespace=namespace,
    )
    url = f"http://127.0.0.1:{svc.spec.ports[0].node_port}/"
    workloads.wait_serving(url + "healthz", timeout=30)
    for _request in range(requests):
        # Every request must reach the app, or the error rate it reports says nothing.
        outcome = httpget.get("127.0.0.1", svc.spec.ports[0].node_port, "/", timeout=10)[0]
        assert outcome in ("ok", "status_500"), outcome
    return url + "metrics"


@pytest.mark.timeout(180)
def test_error_rate_gate_fails_the_bad_release_and_passes_the_good_one(kube, namespace):
    bad = _metrics_url(kube, namespace, "bad", 0.3)
    good = _metrics_url(kube, namespace, "good", 0)
    args = {"success_condition": SUCCESS, "count": 2, "interval": 0.5}

    result, out = run_module("analysis", dict(args, url=bad))
    assert "FAILED!" in out
    assert result["phase"] == "Failed", out
    assert result["message"].startswith("Failed: failed (1) > failure_limit (0)")
    # Argo's semantics: the run stops at the first failed measurement.
    [measurement] = result["measurements"]
    assert measurement["verdict"] == "Failed" and measurement["value"]["error_rate"] == pytest.approx(0.3)

    for check in (False, True):  # check mode measures the same way; nothing ever changes
        result, out = run_module("analysis", dict(args, url=good), check=check)
        assert "FAILED!" not in out, out
        assert result["phase"] == "Successful" and result["changed"] is False
        assert [m["verdict"] for m in result["measurements"]] == ["Successful", "Successful"]
        assert result["measurements"][0]["value"] == {"requests": 20, "errors": 0, "error_rate": 0.0}

    # Both conditions, and the rate in between: inconclusive.
    result, out = run_module(
        "analysis", {"url": bad, "success_condition": SUCCESS, "failure_condition": "error_rate > `0.5`"}
    )
    assert result["phase"] == "Inconclusive", out


@pytest.mark.timeout(60)
def test_bad_jmespath_fails_before_any_request(kube):
    hits = []

    class Count(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Count)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/metrics"
        result, out = run_module(
            "analysis",
            {"url": url, "success_condition": "error_rate < `0.01", "failure_condition": "error_rate > `0.05`"},
        )
        assert "FAILED!" in out
        assert result["msg"] == (
            "success_condition 'error_rate < `0.01' is not valid JMESPath: unclosed ` delimiter "
            "at position 13 (after 'error_rate < ')"
        )
        assert "phase" not in result
        result, out = run_module("analysis", {"url": url, "failure_condition": "to_numbr(rate) > `1`"})
        assert result["msg"].startswith(
            "failure_condition 'to_numbr(rate) > `1`' is not valid JMESPath: unknown function to_numbr() at position 0"
        ), out
    finally:
        server.shutdown()
    assert hits == []


def _release_under_way(kube, namespace, change):
    """v1 and v2 pods behind Service web, as a failed gate finds them: the Service selects green (switch_selector),
    or one canary pod serves beside one stable pod (canary_scale); returns the URL and the abort option."""
    if change == "switch_selector":
        pods = (("blue", {"app": "web", "slot": "blue"}, "1", 1), ("green", {"app": "web", "slot": "green"}, "2", 1))
        selector, abort = pods[1][1], {"service": "web", "selector": pods[0][1], "progress": {"strategy": "test"}}
    else:
        pods = (
            ("web", {"app": "web", "track": "stable"}, "1", 1),
            ("web-canary", {"app": "web", "track": "canary"}, "2", 1),
        )
        selector, abort = {"app": "web"}, {"stable": "web", "canary": "web-canary", "progress": {"strategy": "test"}}
    for name, labels, version, replicas in pods:
        container = workloads.demo_container(version, pre_stop_seconds=3)
        kube.apps.create_namespaced_deployment(namespace, workloads.deployment(name, container, replicas, labels))
        workloads.wait_for(
            kube.apps.list_namespaced_deployment, name, workloads.deployment_complete, 60, name, namespace=namespace
        )
    svc = kube.core.create_namespaced_service(namespace, workloads.node_port_service("web", selector))
    url = f"http://127.0.0.1:{svc.spec.ports[0].node_port}/"
    workloads.wait_serving(url, timeout=30)
    return url, {change: dict(abort, namespace=namespace)}


def _serving(kube, namespace, change):
    if change == "switch_selector":
        return kube.core.read_namespaced_service("web", namespace).spec.selector
    return {n: kube.apps.read_namespaced_deployment(n, namespace).spec.replicas for n in ("web", "web-canary")}


@pytest.mark.timeout(180)
@pytest.mark.parametrize(
    "change, before, after",
    [
        pytest.param(
            "switch_selector",
            {"app": "web", "slot": "green"},
            {"app": "web", "slot": "blue"},
            id="blue-green-switches-back",
        ),
        pytest.param("canary_scale", {"web": 1, "web-canary": 1}, {"web": 2, "web-canary": 0}, id="canary-to-0"),
    ],
)
def test_a_failed_run_aborts_in_the_task_with_no_failed_request(kube, namespace, change, before, after):
    url, abort = _release_under_way(kube, namespace, change)
    with MetricsStub({"error_rate": 0.5}) as stub:
        args = {"url": stub.url, "success_condition": SUCCESS, "abort": abort}
        # Check mode: the change as a dry run, nothing changed.
        result, out = run_module("analysis", args, check=True, diff=True)
        assert result["phase"] == "Failed" and result["changed"] is True, out
        assert _serving(kube, namespace, change) == before

        with Meter(url, rps=50, max_duration=150) as m:
            result, out = run_module("analysis", args)
            # The proxy's sync after the last v2 endpoint went (the task's wait ends as the pod starts draining).
            settled = kube.settle_after(m)
        assert "FAILED!" in out and result["outcome"] == "rolled_back", out
        assert _serving(kube, namespace, change) == after
        # Right after the verdict, in the same task.
        messages = [e["message"] for e in result["timeline"]]
        assert messages[0].startswith("run Failed: ") and messages[1].startswith("rolling back: "), messages
        recorded = result["rollback"]["progress"]
        assert (recorded["strategy"], recorded["phase"]) == ("test", "rolling_back")
        assert recorded["cause"].startswith("Failed: failed (1) > failure_limit (0)"), recorded
        assert m.summary["failed"] == 0, (m.summary["failed_by_kind"], m.summary["failure_samples"])
        assert set(m.versions_after(settled)) == {"1"}

        # Again: the run fails again, and there is nothing left to put back.
        result, out = run_module("analysis", args)
        assert result["outcome"] == "rolled_back" and result["changed"] is False, out
