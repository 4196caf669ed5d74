"""Every API request one rollout makes, counted by verb and kind: the success path stays at its floor.

A rollout of an image (wait, fail_fast) on a cluster whose Deployments count their terminating pods
(KEP-3973): read the Deployment, patch it, watch it from the patch's version, watch the pods made after
the patch.  Without that count the pods and ReplicaSets are listed and watched.  The ReplicaSets are
read only when a pod is sick or has exited.  The lock adds a read and a write to take the Lease and one write to
release it."""

import threading

import pytest
from rollout_objects import deployment, options, pod, replica_set, with_image

from ansible_collections.nodowntime.k8s.plugins.module_utils._backends import rollout
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.errors import ApiError
from ansible_collections.nodowntime.k8s.plugins.module_utils._release.timeline import Timeline

NEW_TEMPLATE = with_image("demo:2")
LOCK = {"name": "nodowntime-web", "holder": "alice@ci pid 42", "ttl_seconds": 900}


class Cluster:
    """The API as one rollout sees it; requests holds (verb, kind) in the order they were sent.

    The Deployment's watch sends its events once every other watch is open (so each is counted),
    then every watch stays open until close_streams, as a quiet server's would."""

    def __init__(self, terminating, deployment_events, pod_events=(), replica_sets=(), pods=()):
        self.terminating = terminating
        self.events = {"Deployment": deployment_events, "Pod": pod_events, "ReplicaSet": ()}
        self.items = {"Pod": list(pods), "ReplicaSet": list(replica_sets), "Deployment": [self._live()]}
        self.requests, self.patches = [], []
        self.lease = None
        self.watching = {"Pod": threading.Event(), "ReplicaSet": threading.Event()}
        self.closed = threading.Event()

    def _live(self, **status):
        return deployment(terminating=self.terminating, **status)

    def _note(self, verb, kind):
        self.requests.append((verb, kind))

    def get(self, kind, namespace, name):
        self._note("get", kind)
        if kind == "Lease":
            if self.lease is None:
                raise ApiError(404, "NotFound", "not found")
            return self.lease
        return self._live()

    def list(self, kind, namespace, label_selector=None, field_selector=None, keep=None):
        self._note("list", kind)
        return [keep(obj) if keep else obj for obj in self.items[kind]], "150"

    def create(self, kind, namespace, body, dry_run=False):
        self._note("create", kind)
        self.lease = dict(body, metadata=dict(body["metadata"], resourceVersion="10"))
        return self.lease

    def patch(self, kind, namespace, name, patch, patch_type="strategic", dry_run=False):
        self._note("patch", kind)
        self.patches.append(patch)
        if kind == "Lease":
            assert patch["metadata"]["resourceVersion"] == self.lease["metadata"]["resourceVersion"]
            self.lease = dict(
                self.lease, spec=patch["spec"], metadata=dict(self.lease["metadata"], resourceVersion="11")
            )
            return self.lease
        return self._live(generation=3, observed=2, template=NEW_TEMPLATE)

    def watch(self, kind, namespace, resource_version, label_selector=None, field_selector=None, timeout_seconds=60):
        self._note("watch", kind)
        if kind in self.watching:
            self.watching[kind].set()
        else:
            for kind_watched in self.expected_watches:
                self.watching[kind_watched].wait(5)
        yield from self.events[kind]
        self.closed.wait(5)

    def close_streams(self):
        self.closed.set()

    def ready(self):
        return True

    @property
    def expected_watches(self):
        if self.terminating is None:
            return ("Pod", "ReplicaSet")
        return ("Pod",)


def rolled_out(terminating):
    done = deployment(generation=3, observed=3, template=NEW_TEMPLATE, terminating=terminating)
    return [("MODIFIED", done)]


def run(cluster, **extra):
    return rollout.task(
        cluster, options(**{"images": {"app": "demo:2"}, "wait_timeout": 5, **extra}), None, False, Timeline(), print
    )


SUCCESS_WITH_THE_COUNT = [("get", "Deployment"), ("patch", "Deployment"), ("watch", "Deployment"), ("watch", "Pod")]
SUCCESS_WITHOUT_THE_COUNT = [
    ("get", "Deployment"),
    ("patch", "Deployment"),
    ("list", "Pod"),
    ("list", "ReplicaSet"),
    ("watch", "Deployment"),
    ("watch", "Pod"),
    ("watch", "ReplicaSet"),
]


@pytest.mark.parametrize(
    ("terminating", "lock", "expected"),
    [
        pytest.param(0, None, SUCCESS_WITH_THE_COUNT, id="four-where-the-deployment-counts-terminating-pods"),
        pytest.param(
            0,
            LOCK,
            [("get", "Lease"), ("create", "Lease"), *SUCCESS_WITH_THE_COUNT, ("patch", "Lease")],
            id="the-lock-adds-a-read-and-two-writes",
        ),
        pytest.param(None, None, SUCCESS_WITHOUT_THE_COUNT, id="seven-without-the-count"),
    ],
)
def test_a_rollout_makes_these_requests_and_no_more(terminating, lock, expected):
    cluster = Cluster(terminating, rolled_out(terminating))
    report = run(cluster, lock=lock)
    assert report["outcome"] == "complete", report
    assert sorted(cluster.requests) == sorted(expected)
    # Nothing read before the change, but the Deployment (and the Lease): the watches begin from the patch.
    first_write = next(i for i, (verb, kind) in enumerate(cluster.requests) if kind == "Deployment" and verb != "get")
    assert cluster.requests[first_write] == ("patch", "Deployment")


# One new pod of three made, the old ones still serving.
ROLLING = deployment(generation=3, observed=3, updated=1, total=4, template=NEW_TEMPLATE, terminating=0)


def mid_rollout(*pod_events):
    """The cluster one pod into the rollout, with these pod events; ReplicaSets web-new (revision 3) and web-old."""
    return Cluster(
        0,
        [("MODIFIED", ROLLING)],
        pod_events=list(pod_events),
        replica_sets=[replica_set("web-new", 3, template=NEW_TEMPLATE), replica_set("web-old", 2)],
    )


def test_the_replica_sets_are_read_once_a_new_pod_is_sick():
    crashing = pod("web-new-a", "web-new", waiting="CrashLoopBackOff", restarts=3)
    cluster = mid_rollout(("ADDED", crashing))
    with pytest.raises(rollout.TaskFailed) as failed:
        run(cluster, rollback_on_failure=False)
    assert failed.value.result["reason"] == "CrashLoopBackOff", failed.value.result
    assert failed.value.result["failing_pods"][0]["pod"] == "web-new-a"
    assert sorted(cluster.requests) == sorted([*SUCCESS_WITH_THE_COUNT, ("list", "ReplicaSet")])


@pytest.mark.parametrize(
    ("restarts", "lists"),
    [pytest.param(0, 0, id="a-healthy-pod-reads-nothing"), pytest.param(1, 1, id="a-first-exit-reads-them-once")],
)
def test_the_replica_sets_are_read_ahead_at_a_new_pods_first_exit(restarts, lists):
    # Before its CrashLoopBackOff: the failure, if it comes, is then judged and undone without a read.
    cluster = mid_rollout(
        ("ADDED", pod("web-new-a", "web-new")), ("MODIFIED", pod("web-new-a", "web-new", restarts=restarts))
    )
    with pytest.raises(rollout.TaskFailed) as failed:
        run(cluster, rollback_on_failure=False, wait_timeout=1)
    assert failed.value.result["reason"] == "WaitTimeout", failed.value.result
    assert cluster.requests.count(("list", "ReplicaSet")) == lists


def test_a_sick_old_pod_is_told_from_a_new_one_and_read_about_once():
    crashing = pod("web-old-a", "web-old", waiting="CrashLoopBackOff", restarts=3)
    cluster = mid_rollout(("ADDED", crashing), ("MODIFIED", crashing))
    with pytest.raises(rollout.TaskFailed) as failed:
        run(cluster, rollback_on_failure=False, wait_timeout=1)
    assert failed.value.result["reason"] == "WaitTimeout", failed.value.result
    assert cluster.requests.count(("list", "ReplicaSet")) == 1


def test_the_undo_decides_on_what_the_wait_last_saw_without_reading_it_again():
    crashing = pod("web-new-a", "web-new", waiting="CrashLoopBackOff", restarts=3)
    cluster = mid_rollout(("ADDED", crashing))
    with pytest.raises(rollout.TaskFailed):
        run(cluster, rollback_on_failure=True, wait_timeout=1)
    # The change, its watches, the sick pod's ReplicaSets; then at once the undo's patch, back to web-old's template.
    assert cluster.requests[:6] == [
        ("get", "Deployment"),
        ("patch", "Deployment"),
        ("watch", "Deployment"),
        ("watch", "Pod"),
        ("list", "ReplicaSet"),
        ("patch", "Deployment"),
    ], cluster.requests[:10]
    template = next(op["value"] for op in cluster.patches[1] if op["path"] == "/spec/template")
    assert template["spec"]["containers"][0]["image"] == "demo:1", template  # web-old's, from the list the wait read
