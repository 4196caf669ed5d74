"""rollout on the local cluster: the guide's recipe with no failed request, rollback by itself,
fail-fast, to_revision across a gap, check mode and idempotence."""

import json
import textwrap
import time

import pytest
from ansible_run import run_module, run_playbook

from localcluster import workloads
from localcluster.meter import Meter

GUIDE_LIVENESS = {
    "failureThreshold": 1,
    "httpGet": {"path": "/health", "port": 8080, "scheme": "HTTP"},
    "initialDelaySeconds": 120,
    "periodSeconds": 10,
    "successThreshold": 1,
    "timeoutSeconds": 2,
}
GUIDE_READINESS = dict(GUIDE_LIVENESS, initialDelaySeconds=15)


def _image(kube, namespace, name="web"):
    return kube.apps.read_namespaced_deployment(name, namespace).spec.template.spec.containers[0].image


def _playbook(tmp_path, tasks):
    path = tmp_path / f"play{len(list(tmp_path.iterdir()))}.yml"
    path.write_text(
        textwrap.dedent("""\
        - hosts: localhost
          gather_facts: false
          tasks:
        """)
        + textwrap.indent(tasks, "    ")
    )
    return str(path)


@pytest.mark.timeout(420)
def test_the_guides_settings_roll_out_a_new_image_with_no_failed_request(kube, namespace, deploy, tmp_path):
    url = deploy(workloads.deployment("web", workloads.demo_container("1", readiness=False), replicas=2))
    # The guide's strategy and probes, verbatim. The preStop sleep is ours: the guide has none, and
    # without it old pods stop while the proxy still sends them traffic.
    probes = _playbook(
        tmp_path,
        f"""\
        - name: The guide's probes
          nodowntime.k8s.probe_config:
            name: web
            namespace: {namespace}
            liveness: {json.dumps(GUIDE_LIVENESS)}
            readiness: {json.dumps(GUIDE_READINESS)}
            pre_stop: 3
            wait_timeout: 180
        """,
    )
    proc = run_playbook(probes)
    assert proc.returncode == 0, proc.stdout
    assert "livenessProbe.failureThreshold is 1" in proc.stdout  # the guide's risky setting is called out
    # The first pods had no preStop hook: the proxy forgets them one sync delay after they are gone.
    time.sleep(kube.settle)
    release = _playbook(
        tmp_path,
        f"""\
        - name: The guide's strategy, then the new image
          nodowntime.k8s.rollout:
            name: web
            namespace: {namespace}
            max_surge: 25%
            max_unavailable: 25%
            images:
              app: localhost:5000/nodowntime/demo-app:2
            wait_timeout: 180
          register: release
        - ansible.builtin.assert:
            that:
              - release.outcome == 'complete'
              - release.revision == release.previous_revision + 1
              - release.replicas.available == 2 and release.replicas.updated == 2
              - release.timeline | length >= 2
        """,
    )
    with Meter(url, rps=50, max_duration=300) as m:
        proc = run_playbook(release)
        settled = kube.settle_after(m)
    assert proc.returncode == 0, proc.stdout
    s = m.summary
    assert s["failed"] == 0, (s["failed_by_kind"], s["failure_samples"])
    assert s["sent"] > 200 and set(m.versions_after(settled)) == {"2"}
    probe = kube.apps.read_namespaced_deployment("web", namespace).spec.template.spec.containers[0].readiness_probe
    assert (probe.initial_delay_seconds, probe.period_seconds, probe.failure_threshold) == (15, 10, 1)


@pytest.mark.timeout(300)
def test_a_release_that_never_becomes_ready_is_rolled_back_with_no_failed_request(kube, namespace, deploy, tmp_path):
    url = deploy(workloads.deployment("web", workloads.demo_container("1", pre_stop_seconds=3), replicas=3))
    play = _playbook(
        tmp_path,
        f"""\
        - block:
            - nodowntime.k8s.rollout:
                name: web
                namespace: {namespace}
                template_patch:
                  spec:
                    containers:
                      - name: app
                        image: localhost:5000/nodowntime/demo-app:2
                        env: [{{name: FAIL_READINESS, value: "1"}}]
                progress_deadline_seconds: 10
                wait_timeout: 120
            - ansible.builtin.fail:
                msg: the broken release was reported as a success
          rescue:
            - ansible.builtin.assert:
                that:
                  - ansible_failed_result.outcome == 'rolled_back'
                  - ansible_failed_result.reason == 'ProgressDeadlineExceeded'
                  - ansible_failed_result.revision == 3
                  - ansible_failed_result.previous_revision == 1
                  - "'rolled back: revision 1 serves again as revision 3' in ansible_failed_result.msg"
                  - "'exceeded its progress deadline' in ansible_failed_result.msg"
        """,
    )
    with Meter(url, rps=50, max_duration=250) as m:
        proc = run_playbook(play)
        done = m.elapsed()
        time.sleep(kube.settle + 1)
    assert proc.returncode == 0, proc.stdout
    s = m.summary
    assert s["failed"] == 0, (s["failed_by_kind"], s["failure_samples"])
    assert set(s["versions"]) == {"1"} and set(m.versions_after(done)) == {"1"}
    assert _image(kube, namespace) == "localhost:5000/nodowntime/demo-app:1"


@pytest.mark.timeout(240)
@pytest.mark.parametrize(
    "change, reasons",
    [
        (
            {
                "template_patch": {
                    "spec": {
                        "containers": [
                            {"name": "app", "env": workloads.demo_container("1", workloads.CRASH_LOOP)["env"]}
                        ]
                    }
                }
            },
            {"CrashLoopBackOff", "TooManyRestarts"},
        ),
        ({"images": {"app": "registry.invalid/web:2"}}, {"ErrImagePull", "ImagePullBackOff"}),
    ],
    ids=["crash-loop", "bad-image"],
)
def test_a_broken_release_fails_fast_and_names_the_pod(kube, namespace, deploy, change, reasons):
    deploy(workloads.deployment("web", workloads.demo_container("1"), replicas=2), service=False)
    deadline = 120
    started = time.monotonic()
    result, out = run_module(
        "rollout",
        dict(change, name="web", namespace=namespace, progress_deadline_seconds=deadline, wait_timeout=deadline + 60),
    )
    took = time.monotonic() - started
    assert "Task failed" in out and result.get("outcome") == "rolled_back", out
    assert result["reason"] in reasons, out
    assert took < deadline / 3 and result["duration_seconds"] < deadline / 3, out
    pod = result["failing_pods"][0]
    assert pod["pod"].startswith("web-") and pod["container"] == "app" and pod["reason"] in reasons
    assert f"pod {pod['pod']}, container app: {pod['reason']}" in result["msg"]
    assert _image(kube, namespace) == "localhost:5000/nodowntime/demo-app:1"
    assert not (kube.apps.read_namespaced_deployment("web", namespace).spec.template.spec.containers[0].env or [])


@pytest.mark.timeout(300)
def test_to_revision_works_after_an_undo_left_a_gap(kube, namespace, deploy):
    deploy(workloads.deployment("web", workloads.demo_container("1"), replicas=1), service=False)
    common = {"name": "web", "namespace": namespace, "wait_timeout": 90}
    for version in ("2", "3"):
        result, out = run_module(
            "rollout", dict(common, images={"app": f"localhost:5000/nodowntime/demo-app:{version}"})
        )
        assert result["outcome"] == "complete", out
    assert result["revision"] == 3

    # A plain undo goes to revision 2, which becomes 4: the history is now 1, 3, 4.
    result, out = run_module("rollout", dict(common, state="rolled_back"))
    assert (result["outcome"], result["revision"], result["changed"]) == ("rolled_back", 4, True), out
    assert _image(kube, namespace) == "localhost:5000/nodowntime/demo-app:2"

    result, out = run_module("rollout", dict(common, state="rolled_back", to_revision=2))
    assert "Task failed" in out and "revisions kept: 1, 3, 4" in result["msg"], out

    result, out = run_module("rollout", dict(common, state="rolled_back", to_revision=1))
    assert (result["outcome"], result["revision"]) == ("rolled_back", 5), out
    assert _image(kube, namespace) == "localhost:5000/nodowntime/demo-app:1"

    # Going back to the template that already serves changes nothing.
    result, out = run_module("rollout", dict(common, state="rolled_back", to_revision=5))
    assert (result["outcome"], result["changed"]) == ("unchanged", False), out


@pytest.mark.timeout(240)
def test_check_mode_changes_nothing_and_a_second_run_is_unchanged(kube, namespace, deploy):
    deploy(workloads.deployment("web", workloads.demo_container("1"), replicas=1), service=False)
    args = {
        "name": "web",
        "namespace": namespace,
        "images": {"app": "localhost:5000/nodowntime/demo-app:2"},
        "max_surge": "50%",
        "max_unavailable": 0,
        "wait_timeout": 90,
    }
    before = kube.apps.read_namespaced_deployment("web", namespace).metadata.resource_version

    result, out = run_module("rollout", args, check=True, diff=True)
    assert result["changed"] is True and result["outcome"] == "complete", out
    assert "localhost:5000/nodowntime/demo-app:2" in out and '"maxSurge": "50%"' in out  # the diff
    assert kube.apps.read_namespaced_deployment("web", namespace).metadata.resource_version == before

    result, out = run_module("rollout", args)
    assert (result["changed"], result["outcome"]) == (True, "complete"), out
    result, out = run_module("rollout", args)
    assert (result["changed"], result["outcome"]) == (False, "unchanged"), out


@pytest.mark.timeout(120)
def test_bad_input_is_refused_before_anything_changes(kube, namespace, deploy):
    deploy(workloads.deployment("web", workloads.demo_container("1"), replicas=1), service=False)
    before = kube.apps.read_namespaced_deployment("web", namespace).metadata.resource_version
    for args, message in (
        ({"max_surge": 0, "max_unavailable": "0%"}, "may not be 0 when `maxSurge` is 0"),
        ({"max_unavailable": "150%"}, "must not be greater than 100%"),
        ({"images": {"sidecar": "x:1"}}, "no container 'sidecar'"),
    ):
        result, out = run_module("rollout", dict(args, name="web", namespace=namespace))
        assert "Task failed" in out and message in result["msg"] and result["changed"] is False, out
    result, out = run_module("rollout", {"name": "nope", "namespace": namespace, "state": "status"})
    assert f"Deployment 'nope' not found in namespace '{namespace}'" in result["msg"], out
    assert kube.apps.read_namespaced_deployment("web", namespace).metadata.resource_version == before


@pytest.mark.timeout(180)
def test_status_pause_resume_restart(kube, namespace, deploy):
    deploy(workloads.deployment("web", workloads.demo_container("1"), replicas=1), service=False)
    common = {"name": "web", "namespace": namespace, "wait_timeout": 90}
    result, out = run_module("rollout", dict(common, state="status"))
    assert (result["outcome"], result["message"]) == ("unchanged", 'deployment "web" successfully rolled out'), out
    result, _output = run_module("rollout", dict(common, state="paused"))
    assert result["changed"] and kube.apps.read_namespaced_deployment("web", namespace).spec.paused
    result, out = run_module("rollout", dict(common, images={"app": "localhost:5000/nodowntime/demo-app:2"}))
    assert "Task failed" in out and result["reason"] == "Refused" and "is paused" in result["msg"], out
    result, out = run_module("rollout", dict(common, state="resumed"))
    assert (result["changed"], result["outcome"]) == (True, "complete"), out
    result, out = run_module("rollout", dict(common, state="restarted"))
    assert (result["outcome"], result["revision"]) == ("complete", 2), out


def _lease(kube, namespace):
    return kube.coordination.read_namespaced_lease("nodowntime-web", namespace)


@pytest.mark.timeout(300)
def test_the_lock_is_held_for_the_rollout_and_a_held_lock_changes_nothing(kube, namespace, deploy):
    deploy(workloads.deployment("web", workloads.demo_container("1"), replicas=1), service=False)
    lock = {"name": "nodowntime-web", "holder": "tester"}
    common = {"name": "web", "namespace": namespace, "wait_timeout": 90, "lock": lock}

    result, out = run_module("rollout", dict(common, images={"app": "localhost:5000/nodowntime/demo-app:2"}))
    assert result["outcome"] == "complete" and result["lock"]["released"] is True, out
    assert result["lock"]["action"] == "create"
    messages = [entry["message"] for entry in result["timeline"]]
    taken, changed = (
        messages.index(f"{namespace}/nodowntime-web: acquired for tester"),
        messages.index("deployment 'web' updated"),
    )
    released = messages.index(f"{namespace}/nodowntime-web: released by tester")
    assert taken < changed < released == len(messages) - 1, messages
    assert not _lease(kube, namespace).spec.holder_identity

    # A rollout that fails is rolled back, and the lock released all the same.
    result, out = run_module("rollout", dict(common, images={"app": "registry.invalid/web:3"}))
    assert result["outcome"] == "rolled_back" and result["lock"]["released"] is True, out
    assert not _lease(kube, namespace).spec.holder_identity

    # Bad lock options and another holder: refused before anything changes, the Lease included.
    deployment = kube.apps.read_namespaced_deployment("web", namespace).metadata.resource_version
    lease = _lease(kube, namespace).metadata.resource_version
    result, out = run_module(
        "rollout", dict(common, images={"app": "localhost:5000/nodowntime/demo-app:4"}, lock=dict(lock, ttl_seconds=0))
    )
    assert result["reason"] == "Invalid" and result["msg"] == "lock: ttl_seconds must be >= 1, got 0", out
    assert _lease(kube, namespace).metadata.resource_version == lease
    held, _out = run_module("lock", {"name": "nodowntime-web", "namespace": namespace, "holder": "AWX job 4711"})
    assert held["action"] == "take"
    lease = _lease(kube, namespace).metadata.resource_version
    result, out = run_module("rollout", dict(common, images={"app": "localhost:5000/nodowntime/demo-app:4"}))
    assert (result["reason"], result["changed"], result["lock"]["released"]) == ("Locked", False, False), out
    assert f"{namespace}/nodowntime-web is locked: held by AWX job 4711 since" in result["msg"]
    assert kube.apps.read_namespaced_deployment("web", namespace).metadata.resource_version == deployment
    assert _lease(kube, namespace).metadata.resource_version == lease

    # Check mode decides as a real run would and writes nothing.
    run_module(
        "lock", {"name": "nodowntime-web", "namespace": namespace, "holder": "AWX job 4711", "state": "released"}
    )
    lease = _lease(kube, namespace).metadata.resource_version
    result, out = run_module(
        "rollout", dict(common, images={"app": "localhost:5000/nodowntime/demo-app:4"}), check=True
    )
    assert (result["changed"], result["lock"]["action"], result["lock"]["released"]) == (True, "take", True), out
    assert kube.apps.read_namespaced_deployment("web", namespace).metadata.resource_version == deployment
    assert _lease(kube, namespace).metadata.resource_version == lease
