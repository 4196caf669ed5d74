"""analysis against the demo app's /metrics: Failed at ERROR_RATE=0.3, Successful at 0; bad JMESPath sends nothing."""

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from ansible_run import run_module

from localcluster import httpget, workloads

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
