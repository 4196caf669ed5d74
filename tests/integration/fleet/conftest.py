"""Three private clusters at once, each its own (network namespace, node, ports, NodePort window), for
the fleet tests; started together once per module and stopped at its end, under the private-cluster lock."""

import fcntl
import os
import sys
import threading

import pytest
from private_cluster import LOCK, PrivateCluster

# The strategy tests' helpers (the demo app's image and container, the quick progress deadline).
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "roles"))

CLUSTERS = 3


def _each(clusters, method):
    """method on every cluster at once; the errors, by cluster."""
    errors = {}

    def call(cluster):
        try:
            getattr(cluster, method)()
        except Exception as e:  # noqa: BLE001 - every cluster is tried; the errors are reported together
            errors[cluster.dir] = e

    threads = [threading.Thread(target=call, args=(c,)) for c in clusters]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.fixture(scope="module")
def fleet_clusters(tmp_path_factory):
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        clusters = [PrivateCluster(str(tmp_path_factory.mktemp(f"fleet-c{n}"))) for n in range(1, CLUSTERS + 1)]
        try:
            errors = _each(clusters, "up")
            assert not errors, f"clusters that did not start: {errors}"
            yield clusters
        finally:
            errors = _each(clusters, "down")
            assert not errors, f"clusters that did not stop: {errors}"
