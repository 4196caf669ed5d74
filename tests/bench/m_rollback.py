"""(5) Rollback speed: from the decision to roll back until the old version serves all traffic.

Three ways back, each from a release of the demo app's v2 over v1 (4 pods by default, readiness probe
every 1 s, a preStop sleep that outlasts kube-proxy's sync delay), on the real node, each behind a NodePort Service
under the traffic meter (50 requests/s, each on a new connection):
  blue/green - the Service selects green (v2); `nodowntime.k8s.switch_selector` back to blue (v1);
  rolling    - the Deployment was rolled to v2; `nodowntime.k8s.rollout state=rolled_back` (undo),
               with the role's defaults maxSurge 25%, maxUnavailable 0;
  canary     - 3 stable (v1) + 1 canary (v2) pods (N-1 + 1) behind one Service; `nodowntime.k8s.canary_scale
               weight=0` (stable scales back up first, then the canary goes).
The decision is the moment the harness starts the tool (so the tool's own start-up counts).
Where the time goes, from the independent observer: `first_change` (decision until the tool's
first change reached the API), `endpoints_old` (decision until the Service's EndpointSlices
listed only v1 pods as ready); the rest is kube-proxy's rule sync and the meter's resolution.
"All traffic" is the start of the first metered request after which every request was answered
by v1: the resolution is the meter's interval (20 ms).  kube-proxy applies endpoint changes no sooner
than its minSyncPeriod (settings.proxy_sync_delay) after its last sync.  Failed requests are counted too.
"""

import time

import stats
import tools
from observer import Observer

from localcluster import workloads
from localcluster.meter import Meter

REPLICAS = 4
PRE_STOP = 3
RPS = 50


def container(version):
    return workloads.demo_container(str(version), readiness=True, pre_stop_seconds=PRE_STOP)


def measure(kube, reps, replicas=REPLICAS, log=print):
    out = {
        "workload": {
            "image": workloads.DEMO_IMAGE,
            "replicas": replicas,
            "pre_stop_seconds": PRE_STOP,
            "meter_rps": RPS,
            "proxy_sync_delay": kube.info["settings"]["proxy_sync_delay"],
        },
        "strategies": {},
    }
    for name, fn in (("blue/green", _bluegreen), ("rolling", _rolling), ("canary", _canary)):
        ns = kube.namespace("rollback")
        try:
            samples = fn(kube, ns, reps, replicas, log)
        finally:
            kube.delete_namespace(ns)
        out["strategies"][name] = {
            key: stats.summary([s.get(key) for s in samples])
            for key in ("to_all_old", "first_change", "endpoints_old", "tool_wall")
        }
        out["strategies"][name]["failed_requests"] = sum(s["failed"] for s in samples)
        out["strategies"][name]["never_settled"] = sum(1 for s in samples if s["to_all_old"] is None)
    med = {k: v["to_all_old"] for k, v in out["strategies"].items()}
    out["ratios"] = {
        "rolling/blue-green": stats.ratio(med["rolling"], med["blue/green"]),
        "canary/blue-green": stats.ratio(med["canary"], med["blue/green"]),
    }
    return out


def service(kube, ns, selector):
    svc = kube.core.create_namespaced_service(ns, workloads.node_port_service("web", selector))
    url = f"http://127.0.0.1:{svc.spec.ports[0].node_port}/"
    workloads.wait_serving(url, timeout=30)
    return url


def settle(kube):
    return kube.info["settings"]["proxy_sync_delay"] + 1.0


def _metered(kube, ns, url, action, old="1"):
    """Run action() under the meter and the observer; returns the sample's figures."""
    image = f"{workloads.DEMO_IMAGE}:{old}"
    with (
        Observer(kube, ns, kinds=("deployments", "pods", "services", "endpointslices")) as obs,
        Meter(url, rps=RPS, max_duration=300) as meter,
    ):
        time.sleep(1.0)
        run = action()
        time.sleep(settle(kube) + 2.0)
        first = obs.first_change(run.started)
        only_old = obs.endpoints_at(
            "web", lambda names: bool(names) and all(obs.pod_image(n) == image for n in names), after=run.started
        )
    to_all_old, failed = all_old_since(meter, run.started, old)
    return {
        "to_all_old": to_all_old,
        "tool_wall": run.wall,
        "failed": failed,
        "first_change": first and first - run.started,
        "endpoints_old": only_old and only_old - run.started,
    }


def all_old_since(meter, decided, old="1"):
    """(seconds from `decided` (monotonic) until every request was answered by version `old`, failed requests
    since): the start of the first metered request after which all were; 0.0 when all were from the start, None
    when the meter stopped first."""
    decided -= meter._t0
    records = [r for r in meter.sorted_records() if r.start >= decided]
    last_bad = max((i for i, r in enumerate(records) if not (r.ok and r.version == old)), default=None)
    if last_bad is None:
        to_all_old = 0.0
    elif last_bad + 1 < len(records):
        to_all_old = records[last_bad + 1].start - decided
    else:
        to_all_old = None  # still not all old when the meter stopped
    return to_all_old, sum(1 for r in records if not r.ok)


def wait_answers(url, done, what, timeout=60):
    """GETs until done(answers) holds, answers being every GET's version so far (None when it failed)."""
    from urllib.parse import urlsplit

    from localcluster import httpget

    parts, answers = urlsplit(url), []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _outcome, status, (version, _pod), _error = httpget.get(parts.hostname, parts.port, "/", 1.0)
        answers.append(version if status == 200 else None)
        if done(answers):
            return
        time.sleep(0.05)
    raise TimeoutError(f"{url}: {what} after {timeout}s")


def wait_versions(url, want, timeout=60):
    """Until 20 GETs in a row are answered by version `want` (kube-proxy has caught up)."""
    wait_answers(url, lambda answers: answers[-20:] == [want] * 20, f"not serving only version {want}", timeout)


def _sample(name, rep, reps, sample, log):
    t = sample["to_all_old"]
    log(
        f"rollback {name:10s} rep {rep + 1}/{reps}: all traffic old after {'never' if t is None else f'{t:.2f}s'} "
        f"(first change {sample['first_change'] or float('nan'):.2f}s, "
        f"endpoints {sample['endpoints_old'] or float('nan'):.2f}s, "
        f"tool {sample['tool_wall']:.2f}s), {sample['failed']} failed requests"
    )
    return sample


def _bluegreen(kube, ns, reps, replicas, log):
    blue, green = {"app": "web", "slot": "blue"}, {"app": "web", "slot": "green"}
    for name, labels, version in (("blue", blue, 1), ("green", green, 2)):
        kube.create_deployment(ns, workloads.deployment(name, container(version), replicas=replicas, labels=labels))
    url = service(kube, ns, green)
    samples = []
    for rep in range(reps):
        if rep:
            kube.core.patch_namespaced_service("web", ns, {"spec": {"selector": green}})
        wait_versions(url, "2")
        sample = _metered(
            kube,
            ns,
            url,
            lambda: tools.ansible_module(
                "nodowntime.k8s.switch_selector", {"service": "web", "namespace": ns, "selector": blue}, kube
            ).check("switch_selector back to blue"),
        )
        samples.append(_sample("blue/green", rep, reps, sample, log))
    return samples


def _rolling(kube, ns, reps, replicas, log):
    manifest = workloads.deployment("web", container(1), replicas=replicas, max_surge="25%", max_unavailable=0)
    kube.create_deployment(ns, manifest)
    url = service(kube, ns, {"app": "web"})
    samples = []
    for rep in range(reps):
        kube.set_image(ns, "web", f"{workloads.DEMO_IMAGE}:2")
        kube.wait_complete(ns, "web", 120)
        wait_versions(url, "2")
        sample = _metered(
            kube,
            ns,
            url,
            lambda: tools.ansible_module(
                "nodowntime.k8s.rollout", {"name": "web", "namespace": ns, "state": "rolled_back"}, kube
            ).check("rollout state=rolled_back"),
        )
        samples.append(_sample("rolling", rep, reps, sample, log))
    return samples


def _canary(kube, ns, reps, replicas, log):
    kube.create_deployment(
        ns, workloads.deployment("web", container(1), replicas=replicas, labels={"app": "web", "track": "stable"})
    )
    kube.create_deployment(
        ns, workloads.deployment("web-canary", container(2), replicas=0, labels={"app": "web", "track": "canary"})
    )
    url = service(kube, ns, {"app": "web"})
    samples = []
    for rep in range(reps):
        # The release under way: 25% of the pods are the canary (what canary_scale weight=25 leaves).
        kube.apps.patch_namespaced_deployment_scale("web-canary", ns, {"spec": {"replicas": 1}})
        kube.wait_complete(ns, "web-canary", 120)
        kube.apps.patch_namespaced_deployment_scale("web", ns, {"spec": {"replicas": replicas - 1}})
        kube.wait_complete(ns, "web", 120)
        time.sleep(settle(kube))
        sample = _metered(
            kube,
            ns,
            url,
            lambda: tools.ansible_module(
                "nodowntime.k8s.canary_scale",
                {"namespace": ns, "stable": "web", "canary": "web-canary", "weight": 0, "total_replicas": replicas},
                kube,
            ).check("canary_scale weight=0"),
        )
        samples.append(_sample("canary", rep, reps, sample, log))
    return samples
