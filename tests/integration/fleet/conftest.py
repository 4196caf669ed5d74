"""The fleet's three clusters, each its own (network namespace, node, ports, NodePort window): the session's
cluster (Kubernetes v1.37.2, the newest the collection supports) and two private ones started side by side
once per module, one on the oldest supported release (v1.34.4).  Each test
gets a namespace of one name on all three, deleted after it, so the tests share the clusters."""

import os
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from private_cluster import PrivateCluster

from localcluster import paths

# The strategy tests' helpers (the demo app's image and container, the quick progress deadline).
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "roles"))

OLDEST = "v1.34.4"
# The flags of each private cluster's `localcluster up`, in the fleet's order after the session's cluster.
# A test here needs two NodePorts at most: small windows leave the machine's range to other clusters.
SMALL = ("--node-ports", "20")
PRIVATE = (("--kubernetes-version", OLDEST, *SMALL), SMALL)


def _each(clusters, method, flags):
    """method on every cluster at once, with its flags; the errors, by cluster, once every call has ended."""
    with ThreadPoolExecutor(max_workers=len(clusters)) as pool:
        calls = {c.dir: pool.submit(getattr(c, method), *f) for c, f in zip(clusters, flags, strict=True)}
    return {where: call.exception() for where, call in calls.items() if call.exception()}


@pytest.fixture(scope="module")
def fleet_clusters(kube, tmp_path_factory):
    session = PrivateCluster(paths.STATE_DIR)
    session.attach()
    # Not under private_cluster.LOCK: the fault tests' worker holds it for its whole session, and these
    # tests, on another worker, timed out behind it. Claims keep the clusters' ports apart.
    private = [PrivateCluster(str(tmp_path_factory.mktemp(f"fleet-c{n}"))) for n in range(2, 2 + len(PRIVATE))]
    try:
        errors = _each(private, "up", PRIVATE)
        assert not errors, f"clusters that did not start: {errors}"
        yield [session, *private]
    finally:
        errors = _each(private, "down", [()] * len(private))
        assert not errors, f"clusters that did not stop: {errors}"


@pytest.fixture
def fleet_namespace(fleet_clusters, request):
    """A namespace of one name on every cluster of the fleet, deleted from each after the test."""
    name = f"fleet-{request.node.name.removeprefix('test_')[:20].replace('_', '-').strip('-')}-{uuid.uuid4().hex[:5]}"
    for c in fleet_clusters:
        c.core.create_namespace({"metadata": {"name": name, "labels": {"nodowntime-test": "true"}}})
    yield name
    for c in fleet_clusters:
        c.core.delete_namespace(name)
