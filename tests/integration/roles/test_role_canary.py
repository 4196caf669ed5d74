"""The canary playbooks under 50 rps: steps to promotion, abort on a failing analysis or a canary that never
gets ready, a manual pause carried on by promote.yml and abort.yml (which refuse another canary than the
one they approve), and the negative control."""

import pytest
from strategy_helpers import (
    NEVER_READY_IMAGE,
    autoscaler,
    container,
    gate,
    image,
    image_of,
    raise_min_once,
    run,
    run_metered,
    task_status,
)

from localcluster import workloads
from localcluster.metrics_stub import MetricsStub

PAUSED_AT = "nodowntime.k8s/canary-paused-at-step"


def _stable(kube, namespace, deploy, safeguards=True, env=None):
    """web (stable, :1, 4 pods, track stable) and a NodePort Service web selecting app=web only."""
    manifest = workloads.deployment(
        "web", container("1", safeguards, env=env), replicas=4, labels={"app": "web", "track": "stable"}
    )
    deploy(manifest, service=False)
    svc = kube.core.create_namespaced_service(namespace, workloads.node_port_service("web", {"app": "web"}))
    url = f"http://127.0.0.1:{svc.spec.ports[0].node_port}/"
    workloads.wait_serving(url, timeout=30)
    return url


def _vars(namespace, new_image, steps):
    return {
        "app_name": "web",
        "app_namespace": namespace,
        "images": {"app": new_image},
        "canary_steps": steps,
        "canary_wait_timeout": 60,
    }


def _decision(namespace, version):
    """promote.yml's and abort.yml's extra vars: the canary version the decision approves."""
    return {"app_name": "web", "app_namespace": namespace, "canary_version": version}


def _what_a_decision_changes(kube, namespace):
    """Both Deployments' replicas, images and annotations (the controller's status writes aside)."""
    found = {name: kube.apps.read_namespaced_deployment(name, namespace) for name in ("web", "web-canary")}
    return {
        n: (d.spec.replicas, d.spec.template.spec.containers[0].image, d.metadata.annotations) for n, d in found.items()
    }


def _replicas(kube, namespace):
    read = kube.apps.read_namespaced_deployment
    return read("web", namespace).spec.replicas, read("web-canary", namespace).spec.replicas


@pytest.mark.timeout(300)
def test_canary_steps_promote_to_stable_with_no_failed_request(kube, namespace, deploy, tmp_path):
    url = _stable(kube, namespace, deploy)
    with MetricsStub({"error_rate": 0.0}) as stub:
        steps = [{"weight": 25}, {"analysis": gate(stub.url)}, {"weight": 50}, {"pause": 2}]
        proc, report, meter, settled = run_metered(kube, url, "canary", _vars(namespace, image("2"), steps), tmp_path)

    assert proc.returncode == 0, proc.stdout
    s = meter.summary
    assert s["sent"] > 100 and s["failed"] == 0, (s["failed_by_kind"], s["failure_samples"])
    assert set(meter.versions_after(settled)) == {"2"}
    assert image_of(kube, namespace, "web") == image("2")
    assert _replicas(kube, namespace) == (4, 0)
    assert report["outcome"] == "complete"
    assert [st["step"] for st in report["steps"]] == [
        "create web-canary",
        "step 0: weight 25",
        "step 1: analysis",
        "step 2: weight 50",
        "promote web",
        "canary to 0",
    ]


def _replicas_writers(kube, namespace, name):
    """The field managers that own spec.replicas of Deployment name."""
    entries = kube.apps.read_namespaced_deployment(name, namespace).metadata.managed_fields or []
    return {e.manager for e in entries if "f:replicas" in ((e.fields_v1 or {}).get("f:spec") or {})}


# The HPA owns stable's 4 pods; after the first step its minReplicas goes to 6. The pause outlasts the
# controller's 2 s sync (the local cluster's; upstream's is 15 s), so the second step's math starts from 6.
# The collection never writes stable's count.
@pytest.mark.timeout(400)
def test_an_hpa_raising_min_replicas_mid_canary_ends_with_the_hpa_count(kube, namespace, deploy, tmp_path):
    url = _stable(kube, namespace, deploy)
    autoscaler(kube, namespace, "web", low=4, high=8)

    raised = raise_min_once(kube, namespace, "web-canary", lambda canary: (canary.spec.replicas or 0) > 0, 6)
    steps = [{"weight": 25}, {"pause": 5}, {"weight": 50}, {"pause": 2}]
    proc, report, meter, _settled = run_metered(
        kube, url, "canary", _vars(namespace, image("2"), steps), tmp_path, warns=["owns the replicas of stable 'web'"]
    )

    assert raised.join(5), "the canary never got a pod"
    assert proc.returncode == 0, proc.stdout
    s = meter.summary
    assert s["sent"] > 100 and s["failed"] == 0, (s["failed_by_kind"], s["failure_samples"])
    assert report["outcome"] == "complete", report
    messages = {st["step"]: st["message"] for st in report["steps"]}
    assert messages["step 0: weight 25"].startswith("canary 1, stable 4 pods"), messages
    assert messages["step 2: weight 50"].startswith("canary 3, stable 6 pods"), messages
    # The HPA's count, not ours, and no nodowntime field manager ever took stable's replicas.
    assert _replicas(kube, namespace) == (6, 0)
    assert image_of(kube, namespace, "web") == image("2")
    assert not {m for m in _replicas_writers(kube, namespace, "web") if m.startswith("nodowntime")}


@pytest.mark.timeout(300)
def test_a_failing_analysis_at_step_2_aborts_to_stable_with_no_failed_request(kube, namespace, deploy, tmp_path):
    url = _stable(kube, namespace, deploy)
    with MetricsStub({"error_rate": 0.3}) as stub:
        steps = [{"weight": 25}, {"analysis": gate(stub.url)}, {"weight": 50}]
        proc, report, meter, settled = run_metered(kube, url, "canary", _vars(namespace, image("2"), steps), tmp_path)

    assert proc.returncode != 0
    assert meter.summary["failed"] == 0, (meter.summary["failed_by_kind"], meter.summary["failure_samples"])
    assert set(meter.versions_after(settled)) == {"1"}
    assert image_of(kube, namespace, "web") == image("1")
    assert _replicas(kube, namespace) == (4, 0)
    assert report["outcome"] == "rolled_back"
    assert "error_rate < `0.01`" in report["rollback_cause"]
    assert "canary release of" in proc.stdout
    # The analysis task took the canary to 0 itself, right after its verdict; the rescue found it done.
    assert "Analysis: step 1: analysis: rollback" in [st["step"] for st in report["steps"]], report
    assert task_status(proc.stdout, "Canary to 0, stable to the full count") == "ok", proc.stdout


@pytest.mark.timeout(300)
def test_a_canary_that_never_gets_ready_aborts_with_no_failed_request(kube, namespace, deploy, tmp_path):
    url = _stable(kube, namespace, deploy)

    proc, report, meter, settled = run_metered(
        kube, url, "canary", _vars(namespace, NEVER_READY_IMAGE, [{"weight": 25}]), tmp_path
    )

    assert proc.returncode != 0
    assert meter.summary["failed"] == 0, (meter.summary["failed_by_kind"], meter.summary["failure_samples"])
    assert set(meter.versions_after(settled)) == {"1"}
    assert _replicas(kube, namespace) == (4, 0)
    assert report["outcome"] == "rolled_back"


@pytest.mark.timeout(420)
def test_manual_pause_ends_the_run_and_promote_and_abort_carry_on(kube, namespace, deploy, tmp_path):
    url = _stable(kube, namespace, deploy)
    steps = [{"weight": 25}, {"pause": "manual"}, {"weight": 50}]

    proc, report, meter, _settled = run_metered(kube, url, "canary", _vars(namespace, image("2"), steps), tmp_path)
    assert proc.returncode == 0, proc.stdout
    assert meter.summary["failed"] == 0, meter.summary["failure_samples"]
    assert report["outcome"] == "paused"
    assert _replicas(kube, namespace) == (3, 1)
    annotations = kube.apps.read_namespaced_deployment("web-canary", namespace).metadata.annotations
    assert annotations[PAUSED_AT] == "1"

    # abort.yml from the pause: all back to stable; then a new run, paused again, and promote.yml.
    proc, report, meter, settled = run_metered(kube, url, "abort", _decision(namespace, image("2")), tmp_path)
    assert proc.returncode == 0, proc.stdout
    assert meter.summary["failed"] == 0, meter.summary["failure_samples"]
    assert report["outcome"] == "aborted"
    assert _replicas(kube, namespace) == (4, 0)
    assert PAUSED_AT not in (kube.apps.read_namespaced_deployment("web-canary", namespace).metadata.annotations or {})

    proc, _report = run("canary", _vars(namespace, image("2"), steps), tmp_path)
    assert proc.returncode == 0, proc.stdout
    proc, report, meter, settled = run_metered(kube, url, "promote", _decision(namespace, image("2")), tmp_path)
    assert proc.returncode == 0, proc.stdout
    assert meter.summary["failed"] == 0, meter.summary["failure_samples"]
    assert report["outcome"] == "complete"
    assert [st["step"] for st in report["steps"]] == ["step 2: weight 50", "promote web", "canary to 0"]
    assert image_of(kube, namespace, "web") == image("2")
    assert _replicas(kube, namespace) == (4, 0)
    assert set(meter.versions_after(settled)) == {"2"}


@pytest.mark.timeout(420)
def test_a_decision_on_another_canary_is_refused_and_changes_nothing(kube, namespace, deploy, tmp_path):
    # 2 was paused for approval; then someone started 3, paused at the same step.
    _stable(kube, namespace, deploy)
    steps = [{"weight": 25}, {"pause": "manual"}, {"weight": 50}]
    for version in ("2", "3"):
        proc, report = run("canary", _vars(namespace, image(version), steps), tmp_path)
        assert proc.returncode == 0 and report["outcome"] == "paused", proc.stdout
    before = _what_a_decision_changes(kube, namespace)

    for playbook in ("promote", "abort"):
        proc, report = run(playbook, _decision(namespace, image("2")), tmp_path)
        assert proc.returncode != 0, proc.stdout
        said = f"{playbook} approves {image('2')}, but the canary web-canary is {image('3')}"
        assert said in proc.stdout and "nothing changed" in proc.stdout, proc.stdout
        assert report["outcome"] == "refused" and said in report["rollback_cause"], report
        assert _what_a_decision_changes(kube, namespace) == before
        assert not kube.coordination.read_namespaced_lease("nodowntime-web", namespace).spec.holder_identity

    # The canary that runs, approved by its revision: aborted.
    revision = kube.apps.read_namespaced_deployment("web-canary", namespace).metadata.annotations[
        "deployment.kubernetes.io/revision"
    ]
    proc, report = run("abort", _decision(namespace, revision), tmp_path)
    assert proc.returncode == 0 and report["outcome"] == "aborted", proc.stdout
    assert _replicas(kube, namespace) == (4, 0)


@pytest.mark.timeout(300)
def test_negative_control_without_probes_and_prestop_the_meter_sees_failures(kube, namespace, deploy, tmp_path):
    # The canary starts listening 3 s after it runs; without readiness it gets traffic at once, and
    # stable pods scaled away stop while the proxy still sends to them.
    url = _stable(kube, namespace, deploy, safeguards=False, env={"STARTUP_SECONDS": 3})
    proc, _report, meter, _settled = run_metered(
        kube, url, "canary", _vars(namespace, image("2"), [{"weight": 50}]), tmp_path
    )

    assert proc.returncode == 0, proc.stdout
    assert meter.summary["failed"] > 0, meter.summary
