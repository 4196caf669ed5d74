"""The switch_selector backend, driven with a fake client: one patch, refusals, check mode, API errors."""

import json
from datetime import UTC, datetime

import pytest

from ansible_collections.nodowntime.k8s.plugins.module_utils._backends import switch_selector
from ansible_collections.nodowntime.k8s.plugins.module_utils._backends.task_failed import TaskFailed
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.errors import ApiError
from ansible_collections.nodowntime.k8s.plugins.module_utils._release import progress_record
from ansible_collections.nodowntime.k8s.plugins.module_utils._release.timeline import Timeline
from ansible_collections.nodowntime.k8s.plugins.module_utils._status import verdict

NOW = datetime(2025, 1, 31, 12, 0, 3, tzinfo=UTC)
SWITCHED = {"strategy": "blue_green", "phase": "switched", "colour": "green", "previous": "blue", "holder": "me"}
BLUE, GREEN = {"app": "web", "slot": "blue"}, {"app": "web", "slot": "green"}


def carrying(value, resource_version="7"):
    return {
        "metadata": {
            "resourceVersion": resource_version,
            "annotations": {progress_record.ANNOTATION: json.dumps(value)},
        }
    }


def pod(name, labels, ready=True):
    condition = {"type": "Ready", "status": "True" if ready else "False"}
    return {"metadata": {"name": name, "labels": labels}, "status": {"conditions": [condition]}}


class Cluster:
    """A Service selecting blue, and the pods the label selectors list; patches are recorded, or refused."""

    def __init__(self, pods, refuse_patch=None):
        self.pods, self.refuse_patch, self.patched = pods, refuse_patch, []
        self.requests = []  # (verb, what) in the order sent

    def get(self, kind, namespace, name):
        self.requests.append(("get", kind))
        return {"metadata": {"name": name, "resourceVersion": "7"}, "spec": {"selector": dict(BLUE)}}

    def list(self, kind, namespace, label_selector=None, field_selector=None, keep=None):
        self.requests.append(("list", label_selector))
        wanted = dict(pair.split("=") for pair in label_selector.split(","))
        found = [p for p in self.pods if all(p["metadata"]["labels"].get(k) == v for k, v in wanted.items())]
        return [keep(p) for p in found], "1"

    def patch(self, kind, namespace, name, body, patch_type="strategic", dry_run=False):
        self.requests.append(("patch", kind))
        if self.refuse_patch:
            raise self.refuse_patch
        self.patched.append((body, dry_run))
        return body


def params(**overrides):
    base = {"service": "web", "namespace": "shop", "selector": GREEN, "min_ready": None, "wait": False}
    return {**base, "wait_timeout": 120, "progress": None, **overrides}


def switch(client, check_mode=False, **overrides):
    p = params(**overrides)
    return switch_selector.switch(client, p, switch_selector.check(p), check_mode, Timeline(), print)


def test_the_switch_and_its_progress_are_one_patch():
    service = carrying({"phase": "done"})
    patch = switch_selector.patch_for(service, BLUE, GREEN, SWITCHED, NOW)
    assert patch["spec"] == {"selector": GREEN}
    assert patch["metadata"]["resourceVersion"] == "7"
    assert json.loads(patch["metadata"]["annotations"][progress_record.ANNOTATION])["phase"] == "switched"


def test_with_the_selector_unchanged_only_new_progress_is_patched():
    service = carrying(dict(SWITCHED, at="earlier"))
    assert switch_selector.patch_for(service, GREEN, GREEN, SWITCHED, NOW) == {"metadata": {"resourceVersion": "7"}}
    done = switch_selector.patch_for(service, GREEN, GREEN, dict(SWITCHED, phase="done"), NOW)
    assert "spec" not in done and progress_record.ANNOTATION in done["metadata"]["annotations"]


def test_ready_new_pods_are_switched_to_and_the_old_selector_returned():
    client = Cluster([pod("web-green-a", GREEN), pod("web-blue-a", BLUE)])
    result = switch(client)
    assert (result["changed"], result["previous_selector"], result["ready_endpoints"]) == (True, BLUE, ["web-green-a"])
    assert client.patched == [({"metadata": {"resourceVersion": "7"}, "spec": {"selector": GREEN}}, False)]


def test_only_the_service_and_the_new_pods_are_read_before_the_patch_and_the_leaving_pods_after(monkeypatch):
    client = Cluster([pod("web-green-a", GREEN), pod("web-blue-a", BLUE)])
    waited = []

    def wait_for_endpoints(client, params, ready, old, timeline):
        waited.append(old)
        return verdict.done("moved"), ready

    monkeypatch.setattr(switch_selector, "wait_for_endpoints", wait_for_endpoints)
    switch(client, wait=True)
    before_patch = client.requests[: client.requests.index(("patch", "Service"))]
    assert sorted(before_patch) == [("get", "Service"), ("list", "app=web,slot=green")]
    assert client.requests[-1] == ("list", "app=web,slot=blue") and waited == [["web-blue-a"]]


def test_check_mode_sends_the_patch_as_a_dry_run_and_reports_no_switch_time():
    client = Cluster([pod("web-green-a", GREEN)])
    result = switch(client, check_mode=True)
    assert client.patched[0][1] is True and (result["changed"], result["switch_seconds"]) == (True, 0.0)


def test_unready_new_pods_refuse_the_switch_and_change_nothing():
    client = Cluster([pod("web-green-a", GREEN, ready=False)])
    with pytest.raises(TaskFailed) as e:
        switch(client)
    assert e.value.message.startswith("refusing to switch web: 0 of 1 pods matching {app: web, slot: green}")
    assert e.value.result == {"changed": False} and client.patched == []


def test_a_refused_patch_fails_with_the_api_message_and_nothing_changed():
    client = Cluster(
        [pod("web-green-a", GREEN)], refuse_patch=ApiError(409, "Conflict", "the object has been modified")
    )
    with pytest.raises(TaskFailed) as e:
        switch(client)
    assert (e.value.message, e.value.result["changed"]) == ("the object has been modified", False)
    assert e.value.result["previous_selector"] == BLUE


@pytest.mark.parametrize(
    "overrides, message",
    [
        pytest.param({"wait_timeout": 0}, "wait_timeout must be >= 1 second, got 0", id="wait-timeout-below-one"),
        pytest.param({"progress": {"phase": ""}}, "progress.phase must be a non-empty string", id="progress-no-phase"),
        pytest.param({"selector": {}}, "selector", id="empty-selector"),
    ],
)
def test_bad_options_are_refused_before_any_request(overrides, message):
    with pytest.raises(ValueError, match=message):
        switch_selector.check(params(**overrides))
