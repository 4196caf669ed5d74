"""The rolling_update playbook under 50 rps: a good release completes, bad ones roll back, all with 0 failed.

Without readiness probe and preStop (the negative control) the meter catches the outage the same
change causes.  The release lock refuses a second concurrent run, naming the first.
"""

import threading
import time

import pytest
from ansible_run import run_module
from kubernetes import watch
from kubernetes.client.exceptions import ApiException
from strategy_helpers import (
    PROGRESS_DEADLINE,
    autoscaler,
    container,
    image,
    image_of,
    in_background,
    raise_min_once,
    run,
    run_metered,
)

from localcluster import workloads

FAST = {
    "rolling_update_max_surge": 1,
    "rolling_update_max_unavailable": 0,
    "rolling_update_progress_deadline_seconds": PROGRESS_DEADLINE,
    "rolling_update_wait_timeout": 120,
}


def _web(deploy, safeguards=True):
    return deploy(workloads.deployment("web", container("1", safeguards), replicas=3))


def _vars(namespace, version="2", env=None, safeguards=True, **more):
    extra = dict(FAST, app_name="web", app_namespace=namespace, images={"app": image(version)}, **more)
    if env:
        # The image goes into the same container patch: rollout drops a template_patch's fields of a
        # container that images also names (reported to the rollout module's author).
        extra["images"] = {}
        extra["rolling_update_template_patch"] = {
            "spec": {
                "containers": [
                    {
                        "name": "app",
                        "image": image(version),
                        "env": [{"name": k, "value": str(v)} for k, v in env.items()],
                    }
                ]
            }
        }
    return extra


def _replicas_seen(kube, namespace, stop):
    """web's spec.replicas in every version the watch delivers, until stop is set: a sample could miss a dip."""
    seen, version = [], None
    while not stop.is_set():
        # Short streams so stop is noticed; each goes on from the last version seen, so none is skipped.
        try:
            for event in watch.Watch().stream(
                kube.apps.list_namespaced_deployment,
                namespace,
                field_selector="metadata.name=web",
                resource_version=version,
                timeout_seconds=1,
            ):
                version = event["object"].metadata.resource_version
                seen.append(event["object"].spec.replicas)
        except ApiException as e:
            if e.status != 410:  # the API server's watch cache has moved past version: start over from now
                raise
            version = None
    return seen


# An HPA owns web's 3 pods; the definition asks for 2. Once the new template is in, minReplicas goes to 5.
@pytest.mark.timeout(300)
def test_a_definition_never_overwrites_the_replicas_an_hpa_owns(kube, namespace, deploy, tmp_path):
    url = _web(deploy)
    autoscaler(kube, namespace, "web", low=3, high=6)
    definition = workloads.deployment("web", container("2"), replicas=2)
    stop = threading.Event()
    sampled = in_background(_replicas_seen, kube, namespace, stop)
    raised = raise_min_once(
        kube, namespace, "web", lambda web: web.spec.template.spec.containers[0].image == image("2"), 5
    )

    extra = _vars(namespace, rolling_update_definition=definition)
    # The meter and the sampler run on past the rollout until the HPA (2 s sync here) has raised web to 5.
    proc, report, meter, _settled = run_metered(
        kube, url, "rolling_update", extra, tmp_path, after=6, warns=["owns the replicas of deployment 'web'"]
    )
    stop.set()

    assert raised.join(5), "the new template never came in"
    assert proc.returncode == 0, proc.stdout
    s = meter.summary
    assert s["sent"] > 100 and s["failed"] == 0, (s["failed_by_kind"], s["failure_samples"])
    assert "HorizontalPodAutoscaler 'web' owns the replicas of deployment 'web': kept its 3" in proc.stdout
    seen = sampled.join(5)
    assert min(seen) == 3 and seen[-1] == 5, seen  # never ours (2), and at the end the HPA's
    assert image_of(kube, namespace, "web") == image("2")
    assert report["outcome"] == "complete"


@pytest.mark.timeout(300)
def test_rolling_update_reaches_the_new_version_with_no_failed_request(kube, namespace, deploy, tmp_path):
    url = _web(deploy)

    proc, report, meter, settled = run_metered(kube, url, "rolling_update", _vars(namespace), tmp_path)

    assert proc.returncode == 0, proc.stdout
    s = meter.summary
    assert s["sent"] > 100 and s["failed"] == 0, (s["failed_by_kind"], s["failure_samples"])
    assert set(meter.versions_after(settled)) == {"2"}
    assert image_of(kube, namespace, "web") == image("2")
    d = kube.apps.read_namespaced_deployment("web", namespace)
    assert (d.status.ready_replicas, d.status.updated_replicas) == (3, 3)
    assert report["outcome"] == "complete" and report["strategy"] == "rolling_update"
    assert (report["from_version"], report["to_version"]) == (image("1"), image("2"))
    assert [s["step"] for s in report["steps"]] == ["rollout"] and report["rollback_cause"] is None
    assert (
        (tmp_path / next(p.name for p in tmp_path.iterdir() if p.suffix == ".md"))
        .read_text()
        .startswith("# rolling_update of")
    )


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    "change, reason",
    [
        ({"env": {"FAIL_READINESS": 1}}, "ProgressDeadlineExceeded"),
        # Never ready before it crashes: a pod that passed its readiness probe once is an endpoint, and
        # kube-proxy keeps sending it new connections for a moment after it dies, whatever the rollout does.
        # Its own progress deadline: the kubelet reported CrashLoopBackOff within 6.4 s of the release's
        # start on an idle machine, but on a busy CI run not before the 10 s back-off after the second exit
        # ended, about 15 s in, after the shared 12 s deadline had passed.
        (
            {
                "env": workloads.CRASH_LOOP,
                "vars": {"rolling_update_progress_deadline_seconds": 60},
            },
            ("CrashLoopBackOff", "TooManyRestarts"),  # whichever comes first
        ),
        ({"version": "nonexistent-tag", "image": "registry.invalid/web:2"}, None),
    ],
    ids=["never-ready", "crash-loop", "bad-image"],
)
def test_a_bad_release_rolls_back_by_itself_with_no_failed_request(kube, namespace, deploy, tmp_path, change, reason):
    url = _web(deploy)
    extra = _vars(namespace, env=change.get("env"), **change.get("vars", {}))
    if "image" in change:
        extra["images"] = {"app": change["image"]}

    proc, report, meter, _settled = run_metered(kube, url, "rolling_update", extra, tmp_path)

    assert proc.returncode != 0
    assert "rolled_back" in proc.stdout, proc.stdout
    s = meter.summary
    assert s["failed"] == 0, (s["failed_by_kind"], s["failure_samples"])
    assert set(meter.versions_after(0)) == {"1"}  # the bad release never served: it never became ready
    assert image_of(kube, namespace, "web") == image("1")
    assert report["outcome"] == "rolled_back"
    if reason:
        assert report["rollback_cause"].startswith(reason), report
    assert report["steps"][-1]["ok"] is False


PROBES = {"readiness": {"httpGet": {"path": "/readyz", "port": "http"}, "periodSeconds": 1}, "pre_stop": 3}


@pytest.mark.timeout(300)
def test_probes_are_applied_first_then_the_new_version_rolls_out(kube, namespace, deploy, tmp_path):
    _web(deploy, safeguards=False)

    proc, report = run("rolling_update", _vars(namespace, probes=PROBES), tmp_path)

    assert proc.returncode == 0, proc.stdout
    app = kube.apps.read_namespaced_deployment("web", namespace).spec.template.spec.containers[0]
    assert app.image == image("2") and app.readiness_probe.http_get.path == "/readyz"
    assert app.lifecycle.pre_stop.sleep.seconds == 3
    assert [s["step"] for s in report["steps"]] == ["probes", "rollout"] and report["outcome"] == "complete"
    assert (report["from_version"], report["to_version"]) == (image("1"), image("2"))


@pytest.mark.timeout(300)
def test_probes_refused_before_any_change_still_report_both_versions(kube, namespace, deploy, tmp_path):
    _web(deploy, safeguards=False)
    bad = {"readiness": {"httpGet": {"path": "/readyz", "port": "no-such-port"}}}

    proc, report = run("rolling_update", _vars(namespace, probes=bad), tmp_path)

    assert proc.returncode != 0 and "no-such-port" in proc.stdout, proc.stdout
    assert image_of(kube, namespace, "web") == image("1")
    assert report["outcome"] == "failed" and report["steps"][-1]["ok"] is False
    assert (report["from_version"], report["to_version"]) == (image("1"), image("2"))


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    "bad, said",
    [
        ({"images": {"no-such-container": image("2")}}, ["images: no container 'no-such-container'"]),
        # The role variable feeds the module's option max_unavailable, which the message names with its field
        # (the output is JSON: the value's own quotes come escaped).
        (
            {"rolling_update_max_unavailable": "150%"},
            ["max_unavailable (spec.strategy.rollingUpdate.maxUnavailable): Invalid value: ", "greater than 100%"],
        ),
    ],
    ids=["images", "max_unavailable"],
)
def test_options_the_rollout_module_refuses_take_no_lock_and_release_none(kube, namespace, deploy, tmp_path, bad, said):
    # Without probes the rollout module holds the lock, and it checks the options before it takes it.
    _web(deploy)

    proc, report = run("rolling_update", dict(_vars(namespace), **bad), tmp_path)

    assert proc.returncode != 0 and all(s in proc.stdout for s in said), proc.stdout
    assert image_of(kube, namespace, "web") == image("1")
    assert report["outcome"] == "failed"
    with pytest.raises(ApiException) as read:
        kube.coordination.read_namespaced_lease("nodowntime-web", namespace)
    assert read.value.status == 404
    release = proc.stdout.split("TASK [nodowntime.k8s.release_run : Release the lock]")[1].split("TASK [")[0]
    assert "skipping: [localhost]" in release, release


@pytest.mark.timeout(300)
def test_negative_control_without_probes_and_prestop_the_meter_sees_failures(kube, namespace, deploy, tmp_path):
    url = _web(deploy, safeguards=False)
    # STARTUP_SECONDS: the new pod is "running" but not listening yet, which only readiness would notice.
    proc, _report, meter, _settled = run_metered(
        kube, url, "rolling_update", _vars(namespace, env={"STARTUP_SECONDS": 2}), tmp_path
    )

    assert proc.returncode == 0, proc.stdout
    assert meter.summary["failed"] > 0, meter.summary


@pytest.mark.timeout(300)
def test_a_second_concurrent_run_is_refused_naming_the_holder(kube, namespace, deploy, tmp_path):
    _web(deploy)
    # The first run takes a while: each new pod needs 3 s before it listens.
    first = in_background(
        run, "rolling_update", _vars(namespace, env={"STARTUP_SECONDS": 3}), tmp_path, env={"JOB_ID": "4711"}
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        leases = kube.coordination.list_namespaced_lease(namespace, field_selector="metadata.name=nodowntime-web")
        if any(lease.spec.holder_identity == "AWX job 4711" for lease in leases.items):
            break
        time.sleep(0.2)
    else:
        pytest.fail("the first run never took the lock")

    second, report = run("rolling_update", _vars(namespace, version="3"), tmp_path, env={"JOB_ID": "4712"})
    assert second.returncode != 0
    assert "is locked: held by AWX job 4711" in second.stdout, second.stdout
    assert report is None  # refused before anything started

    first_proc, first_report = first.join(300)
    assert first_proc.returncode == 0, first_proc.stdout
    assert first_report["holder"] == "AWX job 4711"
    assert image_of(kube, namespace, "web") == image("2")
    assert kube.coordination.read_namespaced_lease("nodowntime-web", namespace).spec.holder_identity is None


@pytest.mark.timeout(300)
def test_rollback_playbook_goes_back_to_the_previous_version_with_no_failed_request(kube, namespace, deploy, tmp_path):
    url = _web(deploy)
    proc, _report = run("rolling_update", _vars(namespace), tmp_path)
    assert proc.returncode == 0, proc.stdout

    proc, report, meter, settled = run_metered(
        kube, url, "rollback", {"app_name": "web", "app_namespace": namespace}, tmp_path
    )

    assert proc.returncode == 0, proc.stdout
    assert meter.summary["failed"] == 0, (meter.summary["failed_by_kind"], meter.summary["failure_samples"])
    assert set(meter.versions_after(settled)) == {"1"}
    assert image_of(kube, namespace, "web") == image("1")
    assert (report["strategy"], report["outcome"]) == ("rollback", "rolled_back")
    # The rollout module took the lock in its own call and released it: the role's own lock task was skipped.
    lock_task = proc.stdout.split("TASK [nodowntime.k8s.release_run : Lock the application", 1)[1]
    assert lock_task.split("\n\n", 1)[0].endswith("skipping: [localhost]"), proc.stdout
    assert kube.coordination.read_namespaced_lease("nodowntime-web", namespace).spec.holder_identity is None


@pytest.mark.timeout(300)
def test_rollback_playbook_is_refused_while_another_run_holds_the_lock(kube, namespace, deploy, tmp_path):
    _web(deploy)
    proc, _report = run("rolling_update", _vars(namespace), tmp_path)
    assert proc.returncode == 0, proc.stdout
    taken, out = run_module("lock", {"name": "nodowntime-web", "namespace": namespace, "holder": "AWX job 4711"})
    assert taken["changed"], out

    proc, report = run("rollback", {"app_name": "web", "app_namespace": namespace}, tmp_path)

    assert proc.returncode != 0 and "is locked: held by AWX job 4711" in proc.stdout, proc.stdout
    assert report is None  # the report at that path is the holder's to write
    assert image_of(kube, namespace, "web") == image("2")
    assert kube.coordination.read_namespaced_lease("nodowntime-web", namespace).spec.holder_identity == "AWX job 4711"
