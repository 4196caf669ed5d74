"""Zero downtime is visible, and so is downtime: the same rollout with and without its safeguards.

The meter sends 50 rps through the proxy while the image changes from :1 to :2.
With a readiness probe and a preStop sleep longer than the proxy's sync delay, no
request fails. Without them, new pods get traffic before they listen and old pods
stop while the proxy still sends to them, and the meter must see it. With the
readiness probe alone, the second race remains, and the meter must see that too.
"""

import time

import pytest

from localcluster import workloads
from localcluster.meter import Meter


def _roll_to_v2_under_traffic(kube, namespace, deploy, container_v1, container_v2):
    url = deploy(workloads.deployment("web", container_v1, replicas=3, max_surge=1, max_unavailable=0))
    with Meter(url, rps=50, max_duration=120) as m:
        m_start = m.elapsed()
        kube.apps.patch_namespaced_deployment(
            "web", namespace, {"spec": {"template": {"spec": {"containers": [container_v2]}}}}
        )
        workloads.wait_for(
            kube.apps.list_namespaced_deployment,
            "web",
            lambda d: workloads.deployment_complete(d) and d.metadata.generation > 1,
            90,
            "the rollout to :2",
            namespace=namespace,
        )
        completed = m.elapsed()
        # Old pods leave the proxy's table one sync delay after their deletion started.
        settle = kube.settle
        time.sleep(settle + 3)
    assert m_start < completed
    return m, completed + settle


@pytest.mark.timeout(300)
def test_rollout_with_readiness_and_prestop_fails_no_request(kube, namespace, deploy):
    v1 = workloads.demo_container("1", pre_stop_seconds=3)
    v2 = workloads.demo_container("2", env={"STARTUP_SECONDS": 2}, pre_stop_seconds=3)

    m, settled = _roll_to_v2_under_traffic(kube, namespace, deploy, v1, v2)
    completed_at = settled - kube.settle

    s = m.summary
    print("with safeguards:", {k: s[k] for k in ("sent", "ok", "failed", "failed_by_kind", "versions")})
    assert s["sent"] > 100
    assert s["failed"] == 0, (s["failed_by_kind"], s["failure_samples"], completed_at)
    assert set(s["versions"]) == {"1", "2"}
    assert set(m.versions_after(settled)) == {"2"}


@pytest.mark.timeout(300)
def test_same_rollout_without_safeguards_shows_failed_requests(kube, namespace, deploy):
    v1 = workloads.demo_container("1", readiness=False)
    v2 = workloads.demo_container("2", env={"STARTUP_SECONDS": 2}, readiness=False)

    m, _settled_at = _roll_to_v2_under_traffic(kube, namespace, deploy, v1, v2)

    s = m.summary
    print("without safeguards:", {k: s[k] for k in ("sent", "ok", "failed", "failed_by_kind", "versions")})
    assert s["failed"] > 0, s


@pytest.mark.timeout(300)
def test_readiness_alone_without_prestop_still_fails_requests(kube, namespace, deploy):
    # New pods get traffic only once ready, but old pods stop listening at SIGTERM while the
    # proxy still sends them connections for one sync delay: the race a preStop sleep covers.
    # A closed listener resets the connection; a pod already gone (its veth removed) leaves the SYN
    # unanswered until kube-proxy drops the rule, and the request times out.
    v1 = workloads.demo_container("1")
    v2 = workloads.demo_container("2", env={"STARTUP_SECONDS": 2})

    m, _settled = _roll_to_v2_under_traffic(kube, namespace, deploy, v1, v2)

    s = m.summary
    print("readiness only:", {k: s[k] for k in ("sent", "ok", "failed", "failed_by_kind", "versions")})
    assert s["failed"] > 0, s
    assert set(s["failed_by_kind"]) <= {"refused", "reset", "timeout"}, s["failed_by_kind"]
