"""`make demo`: the collection's playbooks release the demo app under live traffic, and say what happened.

One app, `shop`, behind one NodePort Service that selects {app: shop, slot: <colour>}:
a rolling update of shop-blue to :2, blue/green to :3 (shop-green), a canary of :4 on
shop-green with an analysis gate, and a bad release :10, a tag the registry does not have, that
the kubelet cannot pull and that is rolled back by itself. The traffic meter runs through every
step and the report counts what it saw during each. Progress is printed as it happens.

A second app, `store`, sits behind the cluster's Gateway API gateway (Traefik): an HTTPRoute sends
/store to its stable Service, and a canary of :5 takes exactly 1 %, 10 % and 50 % of the route's
traffic (backendRefs weights) before promotion. A second meter sends its requests through the gateway.
"""

import functools
import json
import os
import re
import subprocess
import sys
import threading
import time

from kubernetes import client, config

from . import ansiblecli, cluster, demoreport, gateway, paths, workloads
from .meter import Meter
from .podtimeline import PodTimeline

NAMESPACE = "demo"
BAD_IMAGE = "localhost:5000/nodowntime/demo-app:10"
OUT_DIR = os.path.join(paths.REPO_ROOT, "build")
PLAYBOOKS = os.path.join(paths.REPO_ROOT, "playbooks")


def say(msg):
    print(f"\n=== {msg}", flush=True)


def run_playbook(name, extra_vars, report_path):
    """Run one playbook with its output on the console; return (rc, the role's report or None)."""
    argv = ansiblecli.playbook_argv(os.path.join(PLAYBOOKS, name), dict(extra_vars, nodowntime_report_path=report_path))
    env = ansiblecli.env(paths.ADMIN_KUBECONFIG)
    rc = subprocess.run(argv, env=env, check=False).returncode
    try:
        with open(report_path + ".json") as f:
            return rc, json.load(f)
    except FileNotFoundError:
        return rc, None


def step(meter, label, release, playbook, extra_vars, expect, offset=0.0):
    """One release under meter; offset: where the meter's second 0 lies on the report's time axis."""
    say(f"{label}: release {release} ({playbook}), expecting {expect}")
    start = meter.elapsed()
    rc, report = run_playbook(playbook, extra_vars, os.path.join(OUT_DIR, "demo", re.sub(r"\W+", "-", label)))
    end = meter.elapsed()
    records = [r for r in meter.sorted_records() if start <= r.start < end]
    failed = [r for r in records if not r.ok]
    outcome = (report or {}).get("outcome") or ("complete" if rc == 0 else "failed")
    result = {
        "strategy": label,
        "release": release,
        "outcome": outcome,
        "expected": expect,
        "duration_s": round(end - start, 1),
        "requests": len(records),
        "failed": len(failed),
        "failed_by_kind": _count(r.outcome for r in failed),
        "versions": _count(r.version for r in records if r.ok),
        "start_s": round(offset + start, 2),
        "end_s": round(offset + end, 2),
        "playbook_rc": rc,
        "message": _message(report, rc),
    }
    print(
        f"--- {label}: {outcome} in {result['duration_s']}s; meter: {len(records)} requests, "
        f"{len(failed)} failed, versions served {result['versions']}",
        flush=True,
    )
    return result


def _report_progress(meter, timeline, stop):
    """Every 5 s a line of live figures, so the wait inside a playbook task is never silent."""
    while not stop.wait(5):
        records = meter.sorted_records()
        recent = [r for r in records if r.start > meter.elapsed() - 5]
        ready = timeline.samples[-1][1] if timeline.samples else {}
        print(
            f"[meter {meter.elapsed():6.1f}s] sent {len(records)}, failed {sum(not r.ok for r in records)}; "
            f"last 5 s served by {_count(r.version for r in recent if r.ok)}; ready pods by version {ready}",
            flush=True,
        )


def _message(report, rc):
    if not report:
        return f"ansible-playbook exited {rc} without a report"
    if report.get("rollback_cause"):
        return (
            f"rolled back: {report['rollback_cause']}"
            if report["outcome"] == "rolled_back"
            else report["rollback_cause"]
        )
    steps = report.get("steps") or []
    return steps[-1]["message"] if steps else report["outcome"]


def _count(values):
    out = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def _failures_per_second(records, offset=0.0):
    buckets = {}
    for r in records:
        if not r.ok:
            second = int(offset + r.start)
            buckets[second] = buckets.get(second, 0) + 1
    return sorted(buckets.items())


def _node(core):
    """The node as the kubelet reports it: the versions that decide whether a release drops requests."""
    n = core.read_node("local-node")
    info = n.status.node_info
    proxy_mode = cluster.load()["settings"]["proxy_mode"]
    return (
        f"{n.metadata.name}: kubelet {info.kubelet_version}, {info.container_runtime_version}, "
        f"kube-proxy {info.kubelet_version} ({proxy_mode} mode), kernel {info.kernel_version}"
    )


def _fresh_namespace(core):
    """Create the demo namespace, after deleting one left by an earlier demo on a running cluster."""
    try:
        core.delete_namespace(NAMESPACE)
        say(f"deleting namespace {NAMESPACE} left by an earlier demo")
        workloads.wait_gone(core.list_namespace, NAMESPACE, 120, f"namespace {NAMESPACE} to be deleted")
    except client.ApiException as e:
        if e.status != 404:
            raise
    core.create_namespace({"metadata": {"name": NAMESPACE}})


ROUTES = ("gateway.networking.k8s.io", "v1", NAMESPACE, "httproutes")


def _deploy_first(name, labels, pre_stop_seconds):
    """Deployment name at :1, 3 pods with readiness and liveness probes, by rolling_update.yml."""
    app = workloads.demo_container("1", liveness=True, pre_stop_seconds=pre_stop_seconds)
    definition = workloads.deployment(name, app, replicas=3, labels=labels)
    rc, _report = run_playbook(
        "rolling_update.yml",
        {"app_name": name, "app_namespace": NAMESPACE, "rolling_update_definition": definition, "images": {}},
        os.path.join(OUT_DIR, "demo", f"initial-{name}"),
    )
    if rc:
        sys.exit(f"the first deployment of {name} failed")


def _gateway_app(api, core):
    """store :1 (track: stable, 3 pods) behind Service store and the HTTPRoute store; returns its gateway URL."""
    say("namespace demo: store :1 behind the Gateway API gateway (HTTPRoute store, /store)")
    labels = {"app": "store", "track": "stable"}
    # A gateway learns that a pod is going a beat later than kube-proxy (EndpointSlice, then its own watch
    # and its 0.2 s throttle), and on a loaded machine 2 s was not always enough: 5 s, as ingress guides advise.
    _deploy_first("store", labels, pre_stop_seconds=5)
    svc = workloads.node_port_service("store", labels)
    svc["spec"]["type"] = "ClusterIP"
    core.create_namespaced_service(NAMESPACE, svc)
    custom = client.CustomObjectsApi(api)
    group, version, namespace, plural = ROUTES
    custom.create_namespaced_custom_object(
        group, version, namespace, plural, gateway.http_route("store", "store", [{"name": "store", "port": 80}])
    )
    listing = functools.partial(custom.list_namespaced_custom_object, group, version, namespace, plural)
    workloads.wait_for(listing, "store", gateway.route_accepted, 60, "HTTPRoute demo/store accepted by the gateway")
    url = cluster.gateway_url() + "store"
    workloads.wait_serving(url, timeout=30)
    return url


def main():
    api = config.new_client_from_config(paths.ADMIN_KUBECONFIG)
    core = client.CoreV1Api(api)
    _fresh_namespace(core)
    node = _node(core)
    say(f"node {node}")
    say(f"namespace {NAMESPACE}: deploying localhost:5000/nodowntime/demo-app:1 with probes")
    os.makedirs(os.path.join(OUT_DIR, "demo"), exist_ok=True)
    labels = {"app": "shop", "slot": "blue"}
    # A preStop sleep that outlasts the proxy's sync delay.
    _deploy_first("shop-blue", labels, pre_stop_seconds=2)
    svc = core.create_namespaced_service(NAMESPACE, workloads.node_port_service("shop", labels))
    url = f"http://127.0.0.1:{svc.spec.ports[0].node_port}/"
    workloads.wait_serving(url, timeout=30)

    t0 = time.monotonic()
    timeline = PodTimeline(core, NAMESPACE, t0).start()
    steps = []
    gate = {"url": url + "metrics", "count": 3, "interval": 1, "success_condition": "error_rate < `0.01`"}
    with Meter(url, rps=50, max_duration=1800) as meter:
        stop_progress = threading.Event()
        threading.Thread(target=_report_progress, args=(meter, timeline, stop_progress), daemon=True).start()
        steps.append(
            step(
                meter,
                "rolling update",
                ":2",
                "rolling_update.yml",
                {
                    "app_name": "shop-blue",
                    "app_namespace": NAMESPACE,
                    "images": {"app": "localhost:5000/nodowntime/demo-app:2"},
                },
                "complete",
            )
        )
        steps.append(
            step(
                meter,
                "blue/green",
                ":3",
                "blue_green.yml",
                {
                    "app_name": "shop",
                    "app_namespace": NAMESPACE,
                    "images": {"app": "localhost:5000/nodowntime/demo-app:3"},
                    "blue_green_post_switch_analysis": gate,
                    "blue_green_scale_down_delay_seconds": 5,
                },
                "complete",
            )
        )
        steps.append(
            step(
                meter,
                "canary",
                ":4",
                "canary.yml",
                {
                    "app_name": "shop-green",
                    "app_namespace": NAMESPACE,
                    "images": {"app": "localhost:5000/nodowntime/demo-app:4"},
                    "canary_steps": [{"weight": 34}, {"analysis": gate}, {"weight": 67}, {"pause": 2}],
                },
                "complete",
            )
        )
        steps.append(
            step(
                meter,
                "bad release",
                ":10",
                "rolling_update.yml",
                {
                    "app_name": "shop-green",
                    "app_namespace": NAMESPACE,
                    # Not in the registry: the kubelet says ErrImagePull within a second, and the rollout
                    # fails fast on it instead of waiting for the progress deadline.
                    "images": {"app": BAD_IMAGE},
                    "rolling_update_progress_deadline_seconds": 60,
                },
                "rolled_back",
            )
        )
        time.sleep(2)  # a little traffic after the last step, to show the old version still serving
        stop_progress.set()
    store_url = _gateway_app(api, core)
    # 3 s at each weight: at 100 rps, 300 requests, of which 1 %, 10 %, 50 % for the canary.
    weights = [{"weight": 1}, {"pause": 3}, {"weight": 10}, {"pause": 3}, {"weight": 50}, {"pause": 3}]
    with Meter(store_url, rps=100, max_duration=600) as gateway_meter:
        offset = time.monotonic() - t0
        stop_progress = threading.Event()
        threading.Thread(target=_report_progress, args=(gateway_meter, timeline, stop_progress), daemon=True).start()
        steps.append(
            step(
                gateway_meter,
                "gateway canary",
                ":5",
                "canary.yml",
                {
                    "app_name": "store",
                    "app_namespace": NAMESPACE,
                    "images": {"app": "localhost:5000/nodowntime/demo-app:5"},
                    "canary_traffic_router": "gateway_api",
                    "canary_route": {"name": "store"},
                    "canary_steps": weights,
                },
                "complete",
                offset=offset,
            )
        )
        time.sleep(2)
        stop_progress.set()
    timeline.stop()
    summary = meter.summary
    through_gateway = gateway_meter.summary
    failures = sorted(_failures_per_second(meter.records) + _failures_per_second(gateway_meter.records, offset))
    meters = {"shop, NodePort, 50 rps": summary, "store, gateway, 100 rps": through_gateway}
    demoreport.write(OUT_DIR, node, steps, meters, timeline.samples, failures)
    say("summary")
    print(demoreport.table(steps))
    print(
        f"\nmeter: {summary['sent']} requests at 50 rps to shop's NodePort, {summary['failed']} failed; "
        f"{through_gateway['sent']} at 100 rps through the gateway to store, {through_gateway['failed']} failed; "
        f"report: {OUT_DIR}/demo-report.md and demo-report.json"
    )
    wrong = [s["strategy"] for s in steps if s["outcome"] != s["expected"] or s["failed"]]
    if wrong:
        sys.exit(f"demo: not as expected: {', '.join(wrong)}")


if __name__ == "__main__":
    main()
