"""kubectl rollout status's verdicts, one row per branch of polymorphichelpers/rollout_status.go.

Each row: a short name, the object, the verdict's state and message.  No pods and no
ReplicaSets, so none of our additions (fail fast, old pods gone) has anything to act on
and the answer is kubectl's own; the paused rows are the one extra, marked so.
kubectl reads the object into Go structs, so a missing or null field reads as its zero
value and a missing spec.replicas skips the checks that use it: the "no ..." rows.
"""

import pytest
from rollout_objects import daemonset, deployment, nulled, statefulset, without

from ansible_collections.nodowntime.k8s.plugins.module_utils._status import verdict as v
from ansible_collections.nodowntime.k8s.plugins.module_utils._status.rollout_status import (
    ONLY_ROLLING_UPDATE,
    UNSUPPORTED_STRATEGY,
    daemonset_status,
    deployment_status,
    refusal,
    statefulset_status,
)

TIMED_OUT = {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}
PROGRESSING = {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"}
VERDICT = {
    "Deployment": lambda obj: deployment_status(obj, [], []),
    "StatefulSet": lambda obj: statefulset_status(obj, []),
    "DaemonSet": lambda obj: daemonset_status(obj, []),
}


def row(name, obj, state, message):
    return pytest.param(obj, state, message, id=f"{obj['kind']}-{name}")


def recreate(dep):
    dep["spec"]["strategy"] = {"type": "Recreate"}
    return dep


def rolling(message):
    return f'Waiting for deployment "web" rollout to finish: {message}'


def daemon(message):
    return f'Waiting for daemon set "agent" rollout to finish: {message}'


OBSERVE_DEPLOYMENT = "Waiting for deployment spec update to be observed..."
OBSERVE_STATEFULSET = "Waiting for statefulset spec update to be observed..."
OBSERVE_DAEMONSET = "Waiting for daemon set spec update to be observed..."
WEB_DONE = 'deployment "web" successfully rolled out'
DB_DONE = "statefulset rolling update complete 3 pods at revision db-2..."
AGENT_DONE = 'daemon set "agent" successfully rolled out'

DEPLOYMENT_ROWS = [
    row("not-observed", deployment(generation=3, observed=2), v.WAITING, OBSERVE_DEPLOYMENT),
    row(
        "deadline-read-once-observed",
        deployment(generation=3, observed=2, conditions=[TIMED_OUT]),
        v.WAITING,
        OBSERVE_DEPLOYMENT,
    ),
    row(
        "deadline-exceeded",
        deployment(updated=1, conditions=[TIMED_OUT]),
        v.FAILED,
        'deployment "web" exceeded its progress deadline',
    ),
    row(
        "deadline-exceeded-with-every-count-done",
        deployment(conditions=[TIMED_OUT]),
        v.FAILED,
        'deployment "web" exceeded its progress deadline',
    ),
    row(
        "replicas-not-updated",
        deployment(updated=1, total=4, available=3, conditions=[PROGRESSING]),
        v.WAITING,
        rolling("1 out of 3 new replicas have been updated..."),
    ),
    row(
        "old-replicas-left",
        deployment(updated=3, total=4, available=3),
        v.WAITING,
        rolling("1 old replicas are pending termination..."),
    ),
    row(
        "updated-not-available", deployment(available=2), v.WAITING, rolling("2 of 3 updated replicas are available...")
    ),
    row("done", deployment(), v.DONE, WEB_DONE),
    row("scaled-to-zero", deployment(replicas=0, updated=0, total=0, available=0), v.DONE, WEB_DONE),
    row(
        "recreate-judged-alike",
        recreate(deployment(updated=1)),
        v.WAITING,
        rolling("1 out of 3 new replicas have been updated..."),
    ),
    # ours: a paused Deployment never progresses, so waiting on it would only end at the timeout
    row(
        "paused-with-work-left",
        deployment(paused=True, updated=0),
        v.FAILED,
        'deployment "web" is paused with its rollout unfinished (0 out of 3 new replicas have been updated); '
        "resume it to continue",
    ),
    row("paused-and-finished", deployment(paused=True), v.DONE, WEB_DONE),
    row("no-status", without(deployment(), "status"), v.WAITING, OBSERVE_DEPLOYMENT),
    row("null-status", nulled(deployment(), "status"), v.WAITING, OBSERVE_DEPLOYMENT),
    row(
        "no-status-no-generation",
        without(deployment(), "status", "metadata.generation"),
        v.WAITING,
        rolling("0 out of 3 new replicas have been updated..."),
    ),
    row(
        "no-availableReplicas",
        without(deployment(), "status.availableReplicas"),
        v.WAITING,
        rolling("0 of 3 updated replicas are available..."),
    ),
    row("null-conditions", nulled(deployment(), "status.conditions"), v.DONE, WEB_DONE),
    # kubectl skips the check against spec.replicas when it is nil; it does not default it to 1
    row("no-spec-replicas", without(deployment(updated=0, total=0, available=0), "spec.replicas"), v.DONE, WEB_DONE),
    row(
        "null-spec-replicas-old-left",
        nulled(deployment(updated=1, available=1), "spec.replicas"),
        v.WAITING,
        rolling("2 old replicas are pending termination..."),
    ),
    row("no-spec", without(deployment(), "spec"), v.DONE, WEB_DONE),
    row("no-uid", without(deployment(), "metadata.uid"), v.DONE, WEB_DONE),
    row("no-name", without(deployment(), "metadata.name"), v.DONE, 'deployment "" successfully rolled out'),
]

STATEFULSET_ROWS = [
    row("on-delete-refused", statefulset("OnDelete"), v.FAILED, ONLY_ROLLING_UPDATE),
    row(
        "on-delete-refused-before-observed",
        statefulset("OnDelete", observedGeneration=1),
        v.FAILED,
        ONLY_ROLLING_UPDATE,
    ),
    row("unknown-strategy-refused", statefulset("Partitioned"), v.FAILED, ONLY_ROLLING_UPDATE),
    row("no-strategy-type-refused", without(statefulset(), "spec.updateStrategy.type"), v.FAILED, ONLY_ROLLING_UPDATE),
    row("no-update-strategy-refused", without(statefulset(), "spec.updateStrategy"), v.FAILED, ONLY_ROLLING_UPDATE),
    row("not-observed", statefulset(observedGeneration=1), v.WAITING, OBSERVE_STATEFULSET),
    row("never-observed", statefulset(generation=0, observedGeneration=0), v.WAITING, OBSERVE_STATEFULSET),
    row("pods-not-ready", statefulset(readyReplicas=1), v.WAITING, "Waiting for 2 pods to be ready..."),
    # without spec.updateStrategy.rollingUpdate: the revisions decide
    row(
        "revision-pending",
        statefulset(updatedReplicas=1, currentRevision="db-1"),
        v.WAITING,
        "waiting for statefulset rolling update to complete 1 pods at revision db-2...",
    ),
    row("revision-done", statefulset(), v.DONE, DB_DONE),
    # with it (the API server defaults it to partition 0): the partition decides
    row(
        "partition-0-updating",
        statefulset(rolling_update={"partition": 0}, updatedReplicas=1),
        v.WAITING,
        "Waiting for partitioned roll out to finish: 1 out of 3 new pods have been updated...",
    ),
    row(
        "partition-0-done",
        statefulset(rolling_update={"partition": 0}),
        v.DONE,
        "partitioned roll out complete: 3 new pods have been updated...",
    ),
    row(
        "partition-1-updating",
        statefulset(rolling_update={"partition": 1}, updatedReplicas=1),
        v.WAITING,
        "Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...",
    ),
    row(
        "partition-1-done",
        statefulset(rolling_update={"partition": 1}, updatedReplicas=2, currentRevision="db-1"),
        v.DONE,
        "partitioned roll out complete: 2 new pods have been updated...",
    ),
    row(
        "partition-above-replicas",
        statefulset(rolling_update={"partition": 5}, updatedReplicas=0),
        v.DONE,
        "partitioned roll out complete: 0 new pods have been updated...",
    ),
    row(
        "rolling-update-without-partition",
        statefulset(rolling_update={}, updatedReplicas=1, currentRevision="db-1"),
        v.DONE,
        "partitioned roll out complete: 1 new pods have been updated...",
    ),
    row(
        "null-rolling-update",
        nulled(statefulset(rolling_update={"partition": 1}), "spec.updateStrategy.rollingUpdate"),
        v.DONE,
        DB_DONE,
    ),
    row("no-status", without(statefulset(), "status"), v.WAITING, OBSERVE_STATEFULSET),
    row("no-generation", without(statefulset(), "metadata.generation"), v.DONE, DB_DONE),
    row(
        "no-readyReplicas",
        without(statefulset(), "status.readyReplicas"),
        v.WAITING,
        "Waiting for 3 pods to be ready...",
    ),
    row(
        "no-spec-replicas",
        without(statefulset(rolling_update={"partition": 1}, readyReplicas=0, updatedReplicas=0), "spec.replicas"),
        v.DONE,
        "partitioned roll out complete: 0 new pods have been updated...",
    ),
    row("null-spec-replicas", nulled(statefulset(readyReplicas=0), "spec.replicas"), v.DONE, DB_DONE),
    row(
        "no-revisions",
        without(statefulset(), "status.updateRevision", "status.currentRevision"),
        v.DONE,
        "statefulset rolling update complete 3 pods at revision ...",
    ),
    row(
        "no-currentRevision",
        without(statefulset(updatedReplicas=1), "status.currentRevision"),
        v.WAITING,
        "waiting for statefulset rolling update to complete 1 pods at revision db-2...",
    ),
    row(
        "no-updateRevision",
        without(statefulset(), "status.updateRevision"),
        v.WAITING,
        "waiting for statefulset rolling update to complete 3 pods at revision ...",
    ),
    row(
        "no-currentReplicas",
        without(statefulset(), "status.currentReplicas"),
        v.DONE,
        "statefulset rolling update complete 0 pods at revision db-2...",
    ),
    row("no-uid-no-name", without(statefulset(), "metadata.uid", "metadata.name"), v.DONE, DB_DONE),
]

DAEMONSET_ROWS = [
    row("on-delete-refused", daemonset("OnDelete"), v.FAILED, ONLY_ROLLING_UPDATE),
    row("unknown-strategy-refused", daemonset("Surge"), v.FAILED, ONLY_ROLLING_UPDATE),
    row("no-strategy-type-refused", without(daemonset(), "spec.updateStrategy.type"), v.FAILED, ONLY_ROLLING_UPDATE),
    row("no-spec-refused", without(daemonset(), "spec"), v.FAILED, ONLY_ROLLING_UPDATE),
    row("not-observed", daemonset(observedGeneration=3), v.WAITING, OBSERVE_DAEMONSET),
    row(
        "pods-not-updated",
        daemonset(updatedNumberScheduled=1),
        v.WAITING,
        daemon("1 out of 2 new pods have been updated..."),
    ),
    row("pods-not-available", daemonset(numberAvailable=1), v.WAITING, daemon("1 of 2 updated pods are available...")),
    row("done", daemonset(), v.DONE, AGENT_DONE),
    row(
        "no-nodes", daemonset(desiredNumberScheduled=0, updatedNumberScheduled=0, numberAvailable=0), v.DONE, AGENT_DONE
    ),
    row("no-status", without(daemonset(), "status"), v.WAITING, OBSERVE_DAEMONSET),
    row("no-status-no-generation", without(daemonset(), "status", "metadata.generation"), v.DONE, AGENT_DONE),
    row(
        "no-updatedNumberScheduled",
        without(daemonset(), "status.updatedNumberScheduled"),
        v.WAITING,
        daemon("0 out of 2 new pods have been updated..."),
    ),
    row(
        "null-numberAvailable",
        nulled(daemonset(), "status.numberAvailable"),
        v.WAITING,
        daemon("0 of 2 updated pods are available..."),
    ),
    row(
        "no-uid-no-name",
        without(daemonset(), "metadata.uid", "metadata.name"),
        v.DONE,
        'daemon set "" successfully rolled out',
    ),
]


@pytest.mark.parametrize("obj, state, message", DEPLOYMENT_ROWS + STATEFULSET_ROWS + DAEMONSET_ROWS)
def test_kubectl_verdict(obj, state, message):
    verdict = VERDICT[obj["kind"]](obj)
    assert (verdict.state, verdict.message) == (state, message)
    if message == ONLY_ROLLING_UPDATE:
        assert verdict.reason == UNSUPPORTED_STRATEGY


@pytest.mark.parametrize(
    "kind, obj, message",
    [
        (
            "StatefulSet",
            statefulset("OnDelete"),
            f"StatefulSet 'db' has updateStrategy type OnDelete: {ONLY_ROLLING_UPDATE}",
        ),
        (
            "DaemonSet",
            without(daemonset(), "spec"),
            f"DaemonSet 'agent' has updateStrategy type unset: {ONLY_ROLLING_UPDATE}",
        ),
        ("StatefulSet", statefulset(), None),
        ("DaemonSet", daemonset(), None),
        ("Deployment", recreate(deployment()), None),
    ],
)
def test_refusal_names_kind_and_strategy_for_callers_to_ask_first(kind, obj, message):
    assert refusal(kind, obj) == message
