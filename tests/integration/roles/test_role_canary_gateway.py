"""The canary playbooks with canary_traffic_router=gateway_api on the local cluster's gateway (Traefik), under the
meter through the gateway: exact weights 1 %, 10 %, 50 % (each share within its 99 % binomial interval over at
least 2000 requests), every request marked X-Canary: always on the canary, no failed request through the steps,
the promotion and the abort, and the route exactly the user's again at the end."""

import pytest
from gateway_routes import MarkedRequests, read_route, stable_app, users_part, weight_windows
from strategy_helpers import container, image, image_of, run

from localcluster import ansiblecli, shares
from localcluster.meter import Meter

# 2000 requests in each weight's window: 22 s of pause, less 1 s for the data plane, at 100 requests a second (at
# 200 a second, new connections through the host port stalled for seconds on the loaded 2-core machine).
RPS, PAUSE = 100, 22
HEADER = {"name": "X-Canary", "value": "always"}


def _vars(namespace, steps):
    return {
        "app_name": "web",
        "app_namespace": namespace,
        "images": {"app": image("2")},
        "canary_steps": steps,
        "canary_wait_timeout": 60,
        "canary_traffic_router": "gateway_api",
        "canary_route": {"name": "web", "header_route": HEADER},
    }


def _replicas(kube, namespace):
    read = kube.apps.read_namespaced_deployment
    return read("web", namespace).spec.replicas, read("web-canary", namespace).spec.replicas


@pytest.mark.timeout(420)
def test_exact_weights_through_the_gateway_then_promote_with_no_failed_request(kube, namespace, deploy, tmp_path):
    url, created = stable_app(kube, namespace, deploy, container("1"))
    steps = [{"weight": 1}, {"pause": PAUSE}, {"weight": 10}, {"pause": PAUSE}, {"weight": 50}, {"pause": PAUSE}]
    with (
        Meter(url, rps=RPS, max_duration=300) as meter,
        MarkedRequests(url, HEADER["name"], HEADER["value"]) as marked,
    ):
        proc, report = run("canary", _vars(namespace, steps), tmp_path, env=ansiblecli.WARNINGS_ON)
    assert proc.returncode == 0, proc.stdout
    assert ansiblecli.warnings(proc.stdout) == [], proc.stdout

    s = meter.summary
    assert s["failed"] == 0, (s["failed_by_kind"], s["failure_samples"])
    records = meter.sorted_records()
    measured = []
    for weight, start, end in weight_windows(report, PAUSE):
        answered = [r for r in records if start <= r.wall <= end]
        canary = sum(r.version == "2" for r in answered)
        low, high = shares.acceptance(len(answered), weight)
        measured.append((weight, len(answered), canary, (low, high)))
        previews = marked.between(start, end)
        assert previews and all(p == (200, "2") for p in previews), (weight, previews)
    print(f"weight, requests, canary answers, 99% interval: {measured}")  # the figures, with -s
    assert [m[0] for m in measured] == [1, 10, 50]
    for weight, n, canary, (low, high) in measured:
        assert n >= 2000 and low <= canary <= high, (weight, n, canary, low, high)

    assert report["outcome"] == "complete"
    assert image_of(kube, namespace, "web") == image("2") and _replicas(kube, namespace) == (2, 0)
    assert users_part(read_route(kube, namespace)) == users_part(created)  # no drift for a GitOps tool


@pytest.mark.timeout(300)
def test_a_paused_canary_aborted_leaves_the_users_route_with_no_failed_request(kube, namespace, deploy, tmp_path):
    url, created = stable_app(kube, namespace, deploy, container("1"))
    with Meter(url, rps=50, max_duration=240) as meter:
        proc, report = run(
            "canary", _vars(namespace, [{"weight": 10}, {"pause": "manual"}]), tmp_path, env=ansiblecli.WARNINGS_ON
        )
        assert proc.returncode == 0 and report["outcome"] == "paused", proc.stdout
        during = read_route(kube, namespace)
        decision = {"app_name": "web", "app_namespace": namespace, "canary_version": report["to_version"]}
        # No router variables: the canary records the route.
        aborted, abort_report = run("abort", decision, tmp_path, env=ansiblecli.WARNINGS_ON)
    assert aborted.returncode == 0, aborted.stdout
    assert ansiblecli.warnings(proc.stdout + aborted.stdout) == [], proc.stdout + aborted.stdout

    s = meter.summary
    assert s["failed"] == 0, (s["failed_by_kind"], s["failure_samples"])
    assert [r.get("name") for r in during["spec"]["rules"]] == ["canary-preview", None]
    assert abort_report["outcome"] == "aborted"
    assert image_of(kube, namespace, "web") == image("1") and _replicas(kube, namespace) == (2, 0)
    assert users_part(read_route(kube, namespace)) == users_part(created)
