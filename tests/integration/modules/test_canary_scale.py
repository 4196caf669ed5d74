"""canary_scale on the local cluster: steps 10/25/50/100 under traffic fail no request and match actual_weight."""

import time

import pytest
from ansible_run import run_module

from ansible_collections.nodowntime.k8s.plugins.module_utils._release import progress_record
from localcluster import workloads
from localcluster.meter import Meter

TOTAL_ANNOTATION = "nodowntime.k8s/canary-total-replicas"
# Round robin over the ready pods makes the share nearly exact; the slack covers the proxy's
# connection-by-connection order over a window of ~150 requests.
SHARE_TOLERANCE = 10.0


def _pair(kube, namespace, stable_replicas, canary_image_version="2", canary_env=None):
    """web (stable, :1) with stable_replicas pods and web-canary with 0, both behind Service web."""
    for name, track, version, replicas, env in (
        ("web", "stable", "1", stable_replicas, None),
        ("web-canary", "canary", canary_image_version, 0, canary_env),
    ):
        # The preStop sleep outlasts the proxy's sync delay, so a pod scaled away drains first.
        container = workloads.demo_container(version, env=env, pre_stop_seconds=3)
        if version == "bad":
            container["image"] = "registry.invalid/web:2"
        manifest = workloads.deployment(name, container, replicas=replicas, labels={"app": "web", "track": track})
        kube.apps.create_namespaced_deployment(namespace, manifest)
        workloads.wait_for(
            kube.apps.list_namespaced_deployment,
            name,
            workloads.deployment_complete,
            60,
            f"{name} to roll out",
            namespace=namespace,
        )
    svc = kube.core.create_namespaced_service(namespace, workloads.node_port_service("web", {"app": "web"}))
    return f"http://127.0.0.1:{svc.spec.ports[0].node_port}/"


def _replicas(kube, namespace):
    return {name: kube.apps.read_namespaced_deployment(name, namespace).spec.replicas for name in ("web", "web-canary")}


def _step(namespace, weight, **extra):
    return {
        "namespace": namespace,
        "stable": "web",
        "canary": "web-canary",
        "weight": weight,
        "wait_timeout": 90,
        **extra,
    }


@pytest.mark.timeout(400)
def test_canary_steps_under_traffic_fail_no_request_and_match_actual_weight(kube, namespace):
    url = _pair(kube, namespace, stable_replicas=4)
    workloads.wait_serving(url, timeout=30)
    settle = kube.settle

    # Check mode: the counts it would set, nothing changed.
    before = kube.apps.read_namespaced_deployment("web", namespace).metadata.resource_version
    result, out = run_module("canary_scale", _step(namespace, 10), check=True, diff=True)
    assert result["changed"] is True and (result["canary_replicas"], result["stable_replicas"]) == (1, 3), out
    assert '"replicas": 4' in out and '"replicas": 3' in out  # the diff
    assert kube.apps.read_namespaced_deployment("web", namespace).metadata.resource_version == before
    assert _replicas(kube, namespace) == {"web": 4, "web-canary": 0}

    expected = {10: (1, 3, 25.0), 25: (1, 3, 25.0), 50: (2, 2, 50.0), 100: (4, 0, 100.0)}
    shares = {}
    with Meter(url, rps=50, max_duration=300) as m:
        for weight, (canary, stable, actual) in expected.items():
            result, out = run_module("canary_scale", _step(namespace, weight))
            assert "FAILED!" not in out, out
            assert (result["canary_replicas"], result["stable_replicas"]) == (canary, stable)
            assert result["requested_weight"] == weight and result["actual_weight"] == actual
            assert result["total_replicas"] == 4
            assert _replicas(kube, namespace) == {"web": stable, "web-canary": canary}
            time.sleep(settle)
            window_start = m.elapsed()
            time.sleep(3)
            seen = m.versions_after(window_start)
            shares[weight] = 100.0 * seen.get("2", 0) / sum(seen.values())
            assert abs(shares[weight] - actual) <= SHARE_TOLERANCE, (weight, seen)
    s = m.summary
    assert s["sent"] > 500
    assert s["failed"] == 0, (s["failed_by_kind"], shares)

    # The total is pinned on the canary, and a repeated step changes nothing.
    canary = kube.apps.read_namespaced_deployment("web-canary", namespace)
    assert canary.metadata.annotations[TOTAL_ANNOTATION] == "4"
    result, out = run_module("canary_scale", _step(namespace, 100))
    assert result["changed"] is False, out

    # Abort back to 0: stable grows before the canary goes; the total still comes from the annotation.
    result, out = run_module("canary_scale", _step(namespace, 0))
    assert (result["canary_replicas"], result["stable_replicas"]) == (0, 4), out
    assert _replicas(kube, namespace) == {"web": 4, "web-canary": 0}


@pytest.mark.timeout(180)
def test_canary_that_cannot_start_fails_fast_and_stable_keeps_its_pods(kube, namespace):
    _pair(kube, namespace, stable_replicas=2, canary_image_version="bad")
    started = time.monotonic()
    result, out = run_module("canary_scale", _step(namespace, 50, wait_timeout=120))
    assert "FAILED!" in out
    assert result["reason"] in ("ErrImagePull", "ImagePullBackOff"), out
    assert "web-canary" in result["msg"] and result["failing_pods"][0]["container"] == "app"
    assert time.monotonic() - started < 60  # well before wait_timeout
    # The canary was scaled up first; stable was never shrunk.
    assert _replicas(kube, namespace) == {"web": 2, "web-canary": 1}


@pytest.mark.timeout(180)
def test_surge_keeps_stable_and_adds_the_canary_on_top(kube, namespace):
    _pair(kube, namespace, stable_replicas=2)
    result, out = run_module("canary_scale", _step(namespace, 50, mode="surge", total_replicas=2))
    assert (result["canary_replicas"], result["stable_replicas"], result["actual_weight"]) == (1, 2, 33.33), out
    assert _replicas(kube, namespace) == {"web": 2, "web-canary": 1}
    result, out = run_module("canary_scale", _step(namespace, 50, mode="surge"))
    assert result["changed"] is False and result["total_replicas"] == 2, out
    result, out = run_module("canary_scale", _step(namespace, 101))
    assert result["msg"] == "weight must be an integer from 0 to 100, got 101", out


def _progress(kube, namespace):
    return progress_record.recorded(kube.apps.read_namespaced_deployment("web-canary", namespace).to_dict())


@pytest.mark.timeout(240)
def test_progress_is_recorded_with_each_steps_first_patch(kube, namespace):
    _pair(kube, namespace, stable_replicas=2)
    step = {"phase": "step", "step": 0, "weight": 50, "holder": "tester"}

    result, out = run_module("canary_scale", _step(namespace, 50, progress={"step": 0}))
    assert result["msg"] == "progress.phase must be a non-empty string, got None", out
    assert _replicas(kube, namespace) == {"web": 2, "web-canary": 0} and _progress(kube, namespace) == {}

    # The canary grows first: its scale-up carries the total and the progress.
    result, out = run_module("canary_scale", _step(namespace, 50, progress=step), diff=True)
    recorded = _progress(kube, namespace)
    assert recorded == dict(step, at=recorded["at"]) and result["progress"] == recorded, out
    assert result["timeline"][0]["message"] == "scaled canary web-canary from 0 to 1", result["timeline"]
    result, out = run_module("canary_scale", _step(namespace, 50, progress=step))
    assert result["changed"] is False, out

    # Back to 0: stable grows first, so the progress is recorded alone before stable is scaled.
    rolling_back = {"phase": "rolling_back", "cause": "analysis failed"}
    result, out = run_module("canary_scale", _step(namespace, 0, progress=rolling_back))
    messages = [e["message"] for e in result["timeline"]]
    assert messages[0] == f"recorded {progress_record.ANNOTATION} on web-canary", messages
    assert messages[1] == "scaled stable web from 1 to 2", messages
    assert _progress(kube, namespace)["phase"] == "rolling_back"
    assert _replicas(kube, namespace) == {"web": 2, "web-canary": 0}


@pytest.mark.timeout(180)
def test_a_crash_looping_canary_goes_back_to_0_in_the_task_with_no_failed_request(kube, namespace):
    url = _pair(kube, namespace, stable_replicas=2, canary_env=workloads.CRASH_LOOP)
    workloads.wait_serving(url, timeout=30)
    progress = {"phase": "step", "step": 0, "weight": 50}
    with Meter(url, rps=50, max_duration=150) as m:
        result, out = run_module("canary_scale", _step(namespace, 50, rollback_on_failure=True, progress=progress))
        done = m.elapsed()
        time.sleep(kube.settle + 1)
    assert "FAILED!" in out and result["outcome"] == "rolled_back", out
    assert result["reason"] in ("CrashLoopBackOff", "TooManyRestarts"), out
    # The canary grew first and stable never shrank; the same task then took the canary back to 0.
    assert _replicas(kube, namespace) == {"web": 2, "web-canary": 0}
    messages = [e["message"] for e in result["timeline"]]
    failed_at = next(i for i, message in enumerate(messages) if "rollout failed" in message)
    assert messages[failed_at + 1].startswith("rolling back: web-canary to 0 (")
    assert messages[failed_at + 2] == "scaled canary web-canary from 1 to 0"
    assert m.summary["failed"] == 0, (m.summary["failed_by_kind"], m.summary["failure_samples"])
    assert set(m.versions_after(0)) == {"1"} and set(m.versions_after(done)) == {"1"}
    # What the rollback recorded is what a rescue records again: nothing to change.
    recorded = _progress(kube, namespace)
    assert {k: v for k, v in recorded.items() if k != "at"} == result["rollback"]["progress"]
    assert recorded["phase"] == "rolling_back" and recorded["cause"].startswith(result["reason"])
    again, out = run_module("canary_scale", _step(namespace, 0, progress=result["rollback"]["progress"]))
    assert again["changed"] is False, out
