"""The canary_scale backend, driven with a fake client: where the step's record goes, dry runs, failures."""

from unittest.mock import ANY

import pytest
from rollout_objects import hpa

from ansible_collections.nodowntime.k8s.plugins.module_utils._backends import canary_scale
from ansible_collections.nodowntime.k8s.plugins.module_utils._backends.task_failed import TaskFailed
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.errors import ApiError
from ansible_collections.nodowntime.k8s.plugins.module_utils._plan.canary_replicas import TOTAL_ANNOTATION
from ansible_collections.nodowntime.k8s.plugins.module_utils._release import progress_record
from ansible_collections.nodowntime.k8s.plugins.module_utils._release.timeline import Timeline
from ansible_collections.nodowntime.k8s.plugins.module_utils._status import verdict


class Recorder:
    """Two Deployments, stable at 4 pods and the canary at 0, and the HPAs given; patches are recorded, or refused."""

    def __init__(self, refuse_patch=None, hpas=(), stable=4):
        self.patches, self.refuse_patch, self.hpas, self.stable = [], refuse_patch, list(hpas), stable

    def get(self, kind, namespace, name):
        return {"metadata": {"name": name}, "spec": {"replicas": 0 if name == "web-canary" else self.stable}}

    def list(self, kind, namespace, label_selector=None, field_selector=None, keep=None):
        assert kind == "HorizontalPodAutoscaler"
        return self.hpas, "1"

    def patch(self, kind, namespace, name, body, patch_type, dry_run):
        if self.refuse_patch:
            raise self.refuse_patch
        self.patches.append((name, body))
        return body


class Noop:
    def add(self, message):
        pass


def params(**overrides):
    base = {"namespace": "shop", "stable": "web", "canary": "web-canary", "wait": True, "wait_timeout": 60}
    return {
        **base,
        "weight": 50,
        "total_replicas": None,
        "mode": "keep_total",
        "min_replicas": 1,
        "progress": None,
        **overrides,
    }


def step(client, check_mode=False, **overrides):
    p = params(**overrides)
    return canary_scale.step(client, p, canary_scale.check(p), check_mode, Timeline(), print)


def test_a_step_whose_canary_grows_records_progress_in_the_canary_scale_up():
    client = Recorder()
    record = {progress_record.ANNOTATION: "{}"}
    canary_scale.apply(
        client, params(), {}, {"canary": 0, "stable": 4}, {"canary": 2, "stable": 2}, record, Noop(), True
    )
    assert client.patches[0] == ("web-canary", {"spec": {"replicas": 2}, "metadata": {"annotations": record}})
    assert client.patches[1] == ("web", {"spec": {"replicas": 2}})


def test_a_step_whose_stable_grows_first_records_progress_before_it():
    client = Recorder()
    record = {progress_record.ANNOTATION: "{}"}
    canary_scale.apply(
        client, params(), {}, {"canary": 2, "stable": 2}, {"canary": 0, "stable": 4}, record, Noop(), True
    )
    assert client.patches == [
        ("web-canary", {"metadata": {"annotations": record}}),
        ("web", {"spec": {"replicas": 4}}),
        ("web-canary", {"spec": {"replicas": 0}}),
    ]


def test_check_mode_reports_the_split_and_sends_only_dry_runs():
    result = step(Recorder(), check_mode=True)
    assert (result["changed"], result["canary_replicas"], result["stable_replicas"]) == (True, 2, 2)
    assert result["diff"]["after"]["total_replicas"] == "4" and result["actual_weight"] == 50


def test_a_canary_that_fails_its_verdict_fails_the_step_before_stable_shrinks(monkeypatch):
    failed = verdict.failed("CrashLoopBackOff", "pod web-canary-a: CrashLoopBackOff", ["web-canary-a"])
    monkeypatch.setattr(canary_scale.rollouts, "wait_for_rollout", lambda *args: (failed, {}))
    client = Recorder()
    with pytest.raises(TaskFailed) as e:
        step(client)
    assert [name for name, _body in client.patches] == ["web-canary"]
    result = e.value.result
    assert (e.value.message, result["reason"], result["failing_pods"]) == (
        "pod web-canary-a: CrashLoopBackOff",
        "CrashLoopBackOff",
        ["web-canary-a"],
    )
    assert result["changed"] is True and result["canary_replicas"] == 2


def test_an_api_error_fails_with_its_message_and_what_changed():
    client = Recorder(refuse_patch=ApiError(403, "Forbidden", "cannot patch deployments"))
    with pytest.raises(TaskFailed) as e:
        step(client)
    assert e.value.message == "cannot patch deployments"
    assert set(e.value.result) == {"changed", "timeline"} and e.value.result["changed"] is True


def test_a_total_recorded_by_an_earlier_step_is_split_again():
    client = Recorder()
    client.get = lambda kind, namespace, name: {
        "metadata": {"name": name, "annotations": {TOTAL_ANNOTATION: "10"} if name == "web-canary" else {}},
        "spec": {"replicas": 1 if name == "web-canary" else 9},
    }
    result = step(client, check_mode=True, weight=20)
    assert (result["canary_replicas"], result["stable_replicas"], result["total_replicas"]) == (2, 8, 10)


@pytest.mark.parametrize(
    "overrides, message",
    [
        pytest.param({"canary": "web"}, "stable and canary must be two Deployments, both are 'web'", id="same-name"),
        pytest.param({"total_replicas": 0}, "total_replicas must be >= 1, got 0", id="no-pods-to-split"),
        pytest.param({"wait_timeout": 0}, "wait_timeout must be >= 1 second, got 0", id="wait-timeout-below-one"),
        pytest.param({"progress": {"phase": ""}}, "progress.phase must be a non-empty string", id="progress-no-phase"),
    ],
)
def test_bad_options_are_refused_before_any_request(overrides, message):
    with pytest.raises(ValueError, match=message):
        canary_scale.check(params(**overrides))


@pytest.mark.parametrize(
    "hpas, stable, weight, mode, patches",
    [
        pytest.param([hpa("web")], 4, 50, "keep_total", [("web-canary", 2)], id="hpa-on-stable-never-written"),
        pytest.param([hpa("web")], 6, 50, "keep_total", [("web-canary", 3)], id="math-starts-from-hpa-count-now"),
        pytest.param([hpa("web")], 4, 0, "keep_total", [], id="retire-leaves-stable-to-the-hpa"),
        pytest.param(
            [hpa("other")], 4, 50, "keep_total", [("web-canary", 2), ("web", 2)], id="hpa-elsewhere-keep-total"
        ),
        pytest.param([], 4, 50, "keep_total", [("web-canary", 2), ("web", 2)], id="no-hpa-keep-total"),
    ],
)
def test_a_step_never_writes_the_stable_replicas_an_hpa_owns(hpas, stable, weight, mode, patches):
    client = Recorder(hpas=hpas, stable=stable)
    warnings = []
    p = params(weight=weight, mode=mode)
    result = canary_scale.step(client, p, canary_scale.check(p), True, Timeline(), warnings.append)
    assert [(name, body["spec"]["replicas"]) for name, body in client.patches if "spec" in body] == patches
    assert bool(result["autoscaler"]) is bool(warnings) is (hpas == [hpa("web")])


class Cluster(Recorder):
    """Recorder whose Deployments keep the replicas and annotations patched into them."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.reads = 0
        self.objects = {
            name: {"metadata": {"name": name, "annotations": {}}, "spec": {"replicas": replicas}}
            for name, replicas in (("web", self.stable), ("web-canary", 0))
        }

    def get(self, kind, namespace, name):
        self.reads += 1
        return self.objects[name]

    def patch(self, kind, namespace, name, body, patch_type, dry_run):
        super().patch(kind, namespace, name, body, patch_type, dry_run)
        obj = self.objects[name]
        obj["metadata"]["annotations"].update((body.get("metadata") or {}).get("annotations") or {})
        obj["spec"].update(body.get("spec") or {})
        return obj


CRASH = verdict.failed("CrashLoopBackOff", "pod web-canary-a: CrashLoopBackOff", ["web-canary-a"])


def verdicts(monkeypatch, *results):
    """wait_for_rollout gives results in turn, then done."""
    queue = list(results)
    monkeypatch.setattr(
        canary_scale.rollouts,
        "wait_for_rollout",
        lambda *args: (queue.pop(0) if queue else verdict.done("rolled out"), {}),
    )


@pytest.mark.parametrize(
    "rollback_on_failure, check_mode, fails_again, outcome, patches",
    [
        pytest.param(True, False, False, "rolled_back", [("web-canary", 2), ("web-canary", 0)], id="canary-back-to-0"),
        pytest.param(False, False, False, None, [("web-canary", 2)], id="off-leaves-it-to-the-rescue"),
        pytest.param(True, False, True, "failed", [("web-canary", 2)], id="rollback-refused-says-so"),
    ],
)
def test_a_failing_canary_goes_back_to_0_in_the_same_task(
    monkeypatch, rollback_on_failure, check_mode, fails_again, outcome, patches
):
    verdicts(monkeypatch, CRASH)
    client = Cluster()
    progress = {"phase": "step", "step": 0, "weight": 50}
    p = params(rollback_on_failure=rollback_on_failure, progress=progress)
    checked = canary_scale.check(p)
    if fails_again:
        real_patch = client.patch

        def patch_once(*args, **kwargs):
            patched = real_patch(*args, **kwargs)
            client.refuse_patch = ApiError(409, "Conflict", "changed meanwhile")  # every later patch
            return patched

        client.patch = patch_once
    with pytest.raises(TaskFailed) as e:
        canary_scale.step(client, p, checked, check_mode, Timeline(), print)
    result = e.value.result
    assert e.value.message == "pod web-canary-a: CrashLoopBackOff" and result["reason"] == "CrashLoopBackOff"
    assert result.get("outcome") == outcome
    assert [(name, body["spec"]["replicas"]) for name, body in client.patches if "spec" in body] == patches
    if outcome == "rolled_back":
        cause = "CrashLoopBackOff: pod web-canary-a: CrashLoopBackOff"
        record = {**progress, "phase": "rolling_back", "cause": cause}
        assert result["rollback"]["progress"] == record and result["progress"] == {**record, "at": ANY}
        assert (result["rollback"]["canary_replicas"], result["rollback"]["stable_replicas"]) == (0, 4)
        assert result["rolled_back_at"].endswith("Z") and result["changed"] is True
        # It patches from what the failed step left, without reading the Deployments again first.
        assert client.reads == 2
        # The rescue's own weight 0 with the same record then finds nothing to change.
        again = canary_scale.step(client, params(weight=0, progress=record), record, False, Timeline(), print)
        assert again["changed"] is False
    if outcome == "failed":
        assert "the canary to 0 failed: changed meanwhile" in result["rollback"]["msg"]


@pytest.mark.parametrize(
    "results, asked",
    [
        pytest.param([], ["web-canary", "web-canary", "web", "web-canary"], id="canary-asked-again-after-stable"),
        pytest.param([verdict.done("rolled out")] * 3 + [CRASH], None, id="crash-seen-then"),
    ],
)
def test_the_canary_is_asked_again_after_stables_wait(monkeypatch, results, asked):
    names = []
    queue = list(results)

    def wait_for_rollout(client, kind, workload, *args):
        names.append(workload["metadata"]["name"])
        return queue.pop(0) if queue else verdict.done("rolled out"), {}

    monkeypatch.setattr(canary_scale.rollouts, "wait_for_rollout", wait_for_rollout)
    client = Cluster()
    p = params(rollback_on_failure=True)
    if asked:
        step(client, rollback_on_failure=True)
        assert names == asked  # after the canary's scale-up; at the end the canary, stable, the canary again
        return
    with pytest.raises(TaskFailed) as e:
        canary_scale.step(client, p, canary_scale.check(p), False, Timeline(), print)
    assert e.value.result["reason"] == "CrashLoopBackOff" and e.value.result["outcome"] == "rolled_back"
    replicas = [(name, body["spec"]["replicas"]) for name, body in client.patches if "spec" in body]
    assert replicas == [("web-canary", 2), ("web", 2), ("web", 4), ("web-canary", 0)]


def test_check_mode_never_rolls_back(monkeypatch):
    verdicts(monkeypatch, CRASH)
    client = Cluster()
    p = params(rollback_on_failure=True)
    result = canary_scale.step(client, p, canary_scale.check(p), True, Timeline(), print)
    assert result["changed"] is True and "outcome" not in result


def test_rollback_on_failure_is_refused_behind_a_traffic_router():
    with pytest.raises(ValueError, match="rollback_on_failure needs the pods to split the traffic"):
        canary_scale.check(params(rollback_on_failure=True, mode="capacity"))
