"""Fixtures for tests on the local cluster: the cluster once per session, a namespace per test."""

import fcntl
import os
import re
import sys
import time
import uuid

import pytest
from kubernetes import client, config

from localcluster import cluster, logtrail, paths

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "security"))
import kubeaccess  # from the security directory, put on the path above


class Kube:
    """Typed API clients on the admin kubeconfig, plus the running cluster's record."""

    def __init__(self, info):
        self.info = info
        self.kubeconfig = paths.ADMIN_KUBECONFIG
        self.api = config.new_client_from_config(self.kubeconfig)
        self.core = client.CoreV1Api(self.api)
        self.apps = client.AppsV1Api(self.api)
        self.discovery = client.DiscoveryV1Api(self.api)
        self.coordination = client.CoordinationV1Api(self.api)

    @property
    def settle(self):
        """Seconds after a change until the proxy has certainly applied it."""
        return self.info["settings"]["proxy_sync_delay"] + 1.0

    def settle_after(self, meter, after=0.0):
        """Right after a run: keeps meter's traffic on 2 s past the moment the proxy has certainly applied the
        run's last change (after seconds later still), and returns that moment; the versions served from then
        on count (meter.versions_after)."""
        settled = meter.elapsed() + self.settle + after
        time.sleep(self.settle + after + 2)
        return settled


@pytest.fixture(scope="session")
def kube():
    os.makedirs(paths.STATE_DIR, exist_ok=True)
    # pytest-xdist workers share one cluster: the first to take the lock starts it.
    with open(paths.state(".up.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        info = cluster.running()
        started_here = info is None
        if started_here:
            info = cluster.up()
    yield Kube(info)
    # Under xdist other workers may still be using it; `localcluster with` stops it then.
    if started_here and "PYTEST_XDIST_WORKER" not in os.environ:
        cluster.down()


@pytest.fixture
def namespace(kube, request):
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40].strip("-")
    name = f"{slug}-{uuid.uuid4().hex[:5]}"
    kube.core.create_namespace({"metadata": {"name": name, "labels": {"nodowntime-test": "true"}}})
    yield name
    kube.core.delete_namespace(name)


@pytest.fixture
def deploy(kube, namespace):
    """Create a Deployment (and optionally a NodePort Service) and wait until it is rolled out."""
    from localcluster import workloads

    def _deploy(manifest, service=True, timeout=90):
        name = manifest["metadata"]["name"]
        kube.apps.create_namespaced_deployment(namespace, manifest)
        workloads.wait_for(
            kube.apps.list_namespaced_deployment,
            name,
            workloads.deployment_complete,
            timeout,
            f"deployment {namespace}/{name} to roll out",
            namespace=namespace,
        )
        if not service:
            return None
        svc = kube.core.create_namespaced_service(
            namespace, workloads.node_port_service(name, manifest["spec"]["selector"]["matchLabels"])
        )
        url = f"http://127.0.0.1:{svc.spec.ports[0].node_port}/"
        workloads.wait_serving(url, timeout=timeout)
        return url

    return _deploy


# NODOWNTIME_TEST_KUBECONFIG_MODE: "least-privilege" (the default, and what `make test` runs) or "admin".
# least-privilege: in every test that has a namespace, the collection's modules and playbooks (ansible_run,
# faults/interrupt.py, security/test_bad_input.py's run_direct) run with a token of the ServiceAccount that
# docs/rbac.yml binds in that namespace, instead of the admin kubeconfig: the `namespace` fixture's, the
# security tests' module namespace (`app`), and the fault tests' private cluster (faults/conftest.py). The
# tests' own setup and checks (the kube fixture) stay admin. Tests that pass a kubeconfig of their own keep
# it; tests without a namespace (the second cluster's lifecycle, the benchmark smoke runs, which create
# namespaces of their own) stay admin, and so do the tests of the local cluster itself (tests/integration/
# cluster/), which never run the collection. Each switched test is recorded, and the summary counts them.
MODES = ("least-privilege", "admin")
KUBECONFIG_MODE = os.environ.get("NODOWNTIME_TEST_KUBECONFIG_MODE", "least-privilege")
LEAST_PRIVILEGE = KUBECONFIG_MODE == "least-privilege"
NOT_THE_COLLECTION = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cluster")


def pytest_configure(config):
    if KUBECONFIG_MODE not in MODES:
        raise pytest.UsageError(f"NODOWNTIME_TEST_KUBECONFIG_MODE={KUBECONFIG_MODE!r}: expected one of {MODES}")


@pytest.fixture(scope="session")
def least_privilege_mode():
    """True when the collection's tasks must run with docs/rbac.yml's Role only."""
    return LEAST_PRIVILEGE


@pytest.fixture(autouse=True)
def kubeconfig_mode(request, monkeypatch, tmp_path):
    if not LEAST_PRIVILEGE or str(request.node.path).startswith(NOT_THE_COLLECTION + os.sep):
        yield
        return
    if "namespace" not in request.fixturenames:
        if "app" in request.fixturenames:  # the security tests' namespace, with docs/rbac.yml bound once
            monkeypatch.setattr(paths, "ADMIN_KUBECONFIG", request.getfixturevalue("least_privilege")["kubeconfig"])
            kubeaccess.record_role_only(request, "security module namespace")
        yield
        return
    kube, namespace = request.getfixturevalue("kube"), request.getfixturevalue("namespace")
    _token, path = kubeaccess.bound_kubeconfig(
        kube, kube.info["server"], namespace, tmp_path / "least-privilege.kubeconfig"
    )
    monkeypatch.setattr(paths, "ADMIN_KUBECONFIG", path)
    kubeaccess.record_role_only(request, "namespace")
    yield
    kubeaccess.unbind_cluster(kube, namespace)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report says what the node and the proxy saw in its namespaces."""
    report = yield
    if report.when == "call" and report.failed:
        for namespace, log_dir in _watched(item.funcargs):
            lines = logtrail.about(namespace, log_dir)
            report.sections.append((f"kubelet log about {namespace}", "\n".join(lines) or "(nothing telling)"))
    return report


def _watched(funcargs):
    """(namespace, cluster log directory) of each namespace the test ran in."""
    namespace = funcargs.get("namespace")
    if isinstance(namespace, str):
        yield namespace, paths.LOG_DIR
    private = funcargs.get("private_cluster")  # the fault tests' own cluster
    for namespace in getattr(private, "namespaces", ()):
        yield namespace, os.path.join(private.dir, "logs")


def pytest_terminal_summary(terminalreporter):
    """How many tests ran the collection with docs/rbac.yml's Role only, and how they ended."""
    outcomes = {}  # nodeid: outcome of its call, or of the setup or teardown that failed
    for reports in terminalreporter.stats.values():
        for report in reports:
            if not any(name == kubeaccess.ROLE_ONLY_PROPERTY for name, _how in getattr(report, "user_properties", ())):
                continue
            if report.when == "call" or report.failed:
                failed = outcomes.get(report.nodeid) == "failed"
                outcomes[report.nodeid] = "failed" if failed or report.failed else report.outcome
    counts = {}
    for outcome in outcomes.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    detail = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "none"
    terminalreporter.write_line(
        f"kubeconfig mode {KUBECONFIG_MODE}: {len(outcomes)} tests ran the collection's tasks "
        f"with docs/rbac.yml's Role only ({detail})"
    )
