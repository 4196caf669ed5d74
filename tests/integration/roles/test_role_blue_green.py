"""The blue_green playbook under 50 rps: the switch, the failure paths and the negative control."""

import pytest
from kubernetes.utils import parse_quantity
from strategy_helpers import (
    BAD_IMAGE,
    NEVER_READY_IMAGE,
    PROGRESS_DEADLINE,
    autoscaler,
    container,
    gate,
    image,
    image_of,
    raise_min_once,
    read_autoscaler,
    run_metered,
    task_status,
)

from localcluster import workloads
from localcluster.metrics_stub import MetricsStub


def _blue(deploy, safeguards=True, startup_seconds=8):
    labels = {"app": "web", "slot": "blue"}
    # Green inherits the start-up time (longer than the steps before the switch take): only a
    # readiness probe keeps the switch from sending traffic to pods that do not listen yet.
    app = container("1", safeguards, env={"STARTUP_SECONDS": startup_seconds})
    return deploy(workloads.deployment("web-blue", app, replicas=3, labels=labels))


def _vars(namespace, new_image, **more):
    return dict(
        {
            "blue_green_progress_deadline_seconds": PROGRESS_DEADLINE,
            "blue_green_wait_timeout": 120,
            "blue_green_scale_down_delay_seconds": 2,
        },
        app_name="web",
        app_namespace=namespace,
        service="web-blue",
        images={"app": new_image},
        **more,
    )


def _selector(kube, namespace):
    return kube.core.read_namespaced_service("web-blue", namespace).spec.selector


def _replicas(kube, namespace, name):
    return kube.apps.read_namespaced_deployment(name, namespace).spec.replicas


@pytest.mark.timeout(300)
def test_blue_green_switches_to_green_and_retires_blue_with_no_failed_request(kube, namespace, deploy, tmp_path):
    url = _blue(deploy)
    with MetricsStub({"error_rate": 0.0}) as stub:
        extra = _vars(
            namespace,
            image("2"),
            blue_green_pre_switch_analysis=gate(stub.url),
            blue_green_post_switch_analysis=gate(stub.url),
            blue_green_preview_service="web-preview",
        )
        proc, report, meter, settled = run_metered(kube, url, "blue_green", extra, tmp_path)

    assert proc.returncode == 0, proc.stdout
    s = meter.summary
    assert s["sent"] > 100 and s["failed"] == 0, (s["failed_by_kind"], s["failure_samples"])
    assert set(meter.versions_after(settled)) == {"2"}
    assert _selector(kube, namespace) == {"app": "web", "slot": "green"}
    assert image_of(kube, namespace, "web-green") == image("2")
    assert (_replicas(kube, namespace, "web-green"), _replicas(kube, namespace, "web-blue")) == (3, 0)
    assert kube.core.read_namespaced_service("web-preview", namespace).spec.selector == {"app": "web", "slot": "green"}
    assert report["outcome"] == "complete"
    assert (report["from_version"], report["to_version"]) == (image("1"), image("2"))
    steps = [step["step"] for step in report["steps"]]
    assert steps == [
        "deploy green",
        "pre-switch analysis",
        "switch to green",
        "post-switch analysis",
        "scale blue to 0",
    ], steps


@pytest.mark.timeout(300)
@pytest.mark.parametrize("new_image", [NEVER_READY_IMAGE, BAD_IMAGE], ids=["never-ready", "bad-image"])
def test_a_new_colour_that_never_gets_ready_is_removed_and_blue_keeps_serving(
    kube, namespace, deploy, tmp_path, new_image
):
    url = _blue(deploy)

    proc, report, meter, settled = run_metered(kube, url, "blue_green", _vars(namespace, new_image), tmp_path)

    assert proc.returncode != 0
    assert meter.summary["failed"] == 0, (meter.summary["failed_by_kind"], meter.summary["failure_samples"])
    assert set(meter.versions_after(settled)) == {"1"}
    assert _selector(kube, namespace) == {"app": "web", "slot": "blue"}
    assert (_replicas(kube, namespace, "web-green"), _replicas(kube, namespace, "web-blue")) == (0, 3)
    assert report["outcome"] == "rolled_back", report
    assert "blue/green release of" in proc.stdout and "rolled_back" in proc.stdout


def _replicas_once(kube, namespace, name, want, timeout=90):
    """Deployment name's replicas once they are want, or as they are after timeout (the HPA controller syncs
    every 2 s here)."""
    try:
        found = workloads.wait_for(
            kube.apps.list_namespaced_deployment,
            name,
            lambda d: d.spec.replicas == want,
            timeout,
            f"{name} at {want} replicas",
            namespace=namespace,
        )
    except TimeoutError:
        return _replicas(kube, namespace, name)
    return found.spec.replicas


# The HPA owns blue's 3 pods; mid-release (once green exists) its minReplicas goes to 5. A release that
# completes leaves the HPA on green at its 5; one switched back by its analysis leaves it on blue at 5.
@pytest.mark.timeout(400)
@pytest.mark.parametrize(
    ("error_rate", "outcome", "serving", "retired"),
    [
        pytest.param(0.0, "complete", "web-green", "web-blue", id="hpa-follows-the-switch"),
        pytest.param(0.3, "switched_back", "web-blue", "web-green", id="hpa-follows-the-switch-back"),
    ],
)
def test_an_hpa_raising_min_replicas_mid_release_ends_with_the_hpa_count(
    kube, namespace, deploy, tmp_path, error_rate, outcome, serving, retired
):
    url = _blue(deploy)
    autoscaler(kube, namespace, "web-blue", low=3, high=6)
    raised = raise_min_once(kube, namespace, "web-green", lambda _green: True, 5)
    with MetricsStub({"error_rate": error_rate}) as stub:
        extra = _vars(namespace, image("2"), blue_green_post_switch_analysis=gate(stub.url))
        proc, report, meter, _settled = run_metered(kube, url, "blue_green", extra, tmp_path)

    assert raised.join(5), "web-green was never created"
    assert (proc.returncode == 0) is (outcome == "complete"), proc.stdout
    s = meter.summary
    assert s["sent"] > 100 and s["failed"] == 0, (s["failed_by_kind"], s["failure_samples"])
    assert report["outcome"] == outcome, report
    hpa = read_autoscaler(kube, namespace)
    # The HPA scales the colour that serves, and is otherwise as its owner left it.
    assert hpa.spec.scale_target_ref.name == serving
    assert (hpa.spec.min_replicas, hpa.spec.max_replicas) == (5, 6)
    # The HPA's count, not ours: the release planned green at blue's 3.
    assert _replicas_once(kube, namespace, serving, 5) == 5
    assert _replicas(kube, namespace, retired) == 0


@pytest.mark.timeout(300)
def test_a_failing_post_switch_analysis_switches_back_at_once(kube, namespace, deploy, tmp_path):
    url = _blue(deploy)
    with MetricsStub({"error_rate": 0.3}) as stub:
        extra = _vars(namespace, image("2"), blue_green_post_switch_analysis=gate(stub.url))
        proc, report, meter, settled = run_metered(kube, url, "blue_green", extra, tmp_path)

    assert proc.returncode != 0
    assert meter.summary["failed"] == 0, (meter.summary["failed_by_kind"], meter.summary["failure_samples"])
    assert set(meter.versions_after(settled)) == {"1"}
    assert _selector(kube, namespace) == {"app": "web", "slot": "blue"}
    assert (_replicas(kube, namespace, "web-green"), _replicas(kube, namespace, "web-blue")) == (0, 3)
    assert report["outcome"] == "switched_back"
    assert "error_rate < `0.01`" in report["rollback_cause"], report
    assert [s["step"] for s in report["steps"]][-4:] == [
        "Analysis: post-switch analysis",
        "Analysis: post-switch analysis: rollback",  # the analysis task switched back itself, right after its verdict
        "switch back to blue",
        "scale green to 0",
    ]
    # ...so the rescue's own switch back found it done.
    assert task_status(proc.stdout, "Switch the Service back to the old colour") == "ok", proc.stdout


@pytest.mark.timeout(300)
def test_negative_control_without_probes_and_prestop_the_meter_sees_failures(kube, namespace, deploy, tmp_path):
    # Green counts as ready before it listens, and blue goes at once without a preStop sleep. Green's
    # start-up outlasts the steps up to the switch by far, even on a loaded machine.
    url = _blue(deploy, safeguards=False, startup_seconds=30)
    proc, _report, meter, _settled = run_metered(
        kube, url, "blue_green", _vars(namespace, image("2"), blue_green_scale_down_delay_seconds=0), tmp_path
    )

    assert proc.returncode == 0, proc.stdout
    assert meter.summary["failed"] > 0, meter.summary


# The new colour fails at once, although the progress deadline is far off; turned off, it waits for the deadline.
@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    ("more", "reason"),
    [
        pytest.param(
            {"blue_green_progress_deadline_seconds": 600, "blue_green_wait_timeout": 240},
            "Unschedulable",
            id="unschedulable-fails-fast",
        ),
        pytest.param(
            {"blue_green_fail_on_unschedulable": False}, "ProgressDeadlineExceeded", id="opted-out-waits-the-deadline"
        ),
    ],
)
def test_too_little_capacity_for_both_colours_warns_then_aborts_cleanly(
    kube, namespace, deploy, tmp_path, more, reason
):
    # Blue's CPU requests take 90% of the node's allocatable, so green's pods stay Pending
    # (PodScheduled False, Unschedulable). The demo app's other tests request no CPU, so the
    # shared node keeps scheduling them.
    node = kube.core.read_node("local-node")
    per_pod = f"{int(parse_quantity(node.status.allocatable['cpu']) * 1000 * 3 // 10)}m"  # 600m of a 2-core node
    app = container("1")
    app["resources"] = {"requests": {"cpu": per_pod}}
    url = deploy(workloads.deployment("web-blue", app, replicas=3, labels={"app": "web", "slot": "blue"}))

    proc, report, meter, settled = run_metered(
        kube, url, "blue_green", _vars(namespace, image("2"), **more), tmp_path, warns=["only 0 of 3 more pods fit"]
    )

    assert proc.returncode != 0
    assert "[WARNING]" in proc.stdout and "only 0 of 3 more pods fit" in proc.stdout, proc.stdout
    green_pods = kube.core.list_namespaced_pod(namespace, label_selector="app=web,slot=green").items
    assert all(p.metadata.deletion_timestamp for p in green_pods), "green pods left running"
    assert meter.summary["failed"] == 0, (meter.summary["failed_by_kind"], meter.summary["failure_samples"])
    assert set(meter.versions_after(settled)) == {"1"}
    assert _selector(kube, namespace) == {"app": "web", "slot": "blue"}
    assert (_replicas(kube, namespace, "web-green"), _replicas(kube, namespace, "web-blue")) == (0, 3)
    assert report["outcome"] == "rolled_back", report
    assert report["rollback_cause"].startswith(f"{reason}: "), report["rollback_cause"]
    if reason == "Unschedulable":
        # The scheduler's words, then the shortfall: what green's pods request against what the node has free.
        assert "Insufficient cpu" in report["rollback_cause"], report["rollback_cause"]
        assert "pods are pending, and only 0 of" in report["rollback_cause"], report["rollback_cause"]
        assert "free allocatable is cpu" in report["rollback_cause"], report["rollback_cause"]
        deploy = next(step for step in report["steps"] if step["step"].startswith("Roll out the new colour"))
        assert float(deploy["seconds"]) < 60, deploy  # the progress deadline is 600 s
