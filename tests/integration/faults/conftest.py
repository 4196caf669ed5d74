"""A private cluster for fault injection: restarting a component of the shared cluster would break the
tests that run beside these ones, so the fault tests get their own, started once per session and
stopped at its end. One at a time on this machine: a lock file serialises sessions that want one.

In the least-privilege kubeconfig mode (tests/integration/conftest.py) the collection's tasks run there too
with only docs/rbac.yml's rights: the `deployer` fixture binds it in a namespace of the private cluster."""

import fcntl

import kubeaccess  # from the security directory, which tests/integration/conftest.py puts on the path
import pytest
from private_cluster import LOCK, PrivateCluster


@pytest.fixture(scope="session")
def private_cluster(tmp_path_factory):
    state_dir = str(tmp_path_factory.mktemp("private-cluster"))
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cluster = PrivateCluster(state_dir)
        try:
            cluster.up()
            yield cluster
        finally:
            cluster.down()
            print(f"\nprivate cluster faults injected: {cluster.faults}")


@pytest.fixture(autouse=True)
def private_namespaces_per_test(request):
    if "private_cluster" in request.fixturenames:
        request.getfixturevalue("private_cluster").namespaces = []


@pytest.fixture
def deployer(private_cluster, least_privilege_mode, request, tmp_path):
    """deployer(namespace): the kubeconfig the collection's tasks use on the private cluster: only
    docs/rbac.yml's Role in that namespace in the least-privilege mode, else the admin one."""

    def kubeconfig(namespace):
        if not least_privilege_mode:
            return private_cluster.kubeconfig
        kubeaccess.record_role_only(request, "private cluster namespace")
        return private_cluster.deployer_kubeconfig(namespace, tmp_path / f"deployer-{namespace}.kubeconfig")

    return kubeconfig
