"""Manifests and watch-based waits that the tests, the demo and the benchmarks share."""

import time

from kubernetes import watch

DEMO_IMAGE = "localhost:5000/nodowntime/demo-app"
# The demo app's env for a crash loop: it exits as soon as it listens, while /readyz still answers 503, so no
# readiness probe passes first. Without READY_AFTER_SECONDS a probe that fell between listening and the exit
# (a late timer on a busy machine) made a pod ready once: an endpoint that died, a rollout seen complete.
CRASH_LOOP = {"CRASH_AFTER_SECONDS": "0", "READY_AFTER_SECONDS": "10"}


def demo_container(version, env=None, readiness=True, liveness=False, pre_stop_seconds=0, period=1):
    container = {
        "name": "app",
        "image": f"{DEMO_IMAGE}:{version}",
        "ports": [{"name": "http", "containerPort": 8080}],
        "env": [{"name": k, "value": str(v)} for k, v in (env or {}).items()],
    }
    if readiness:
        container["readinessProbe"] = {
            "httpGet": {"path": "/readyz", "port": "http"},
            "periodSeconds": period,
            # One late answer must not take a pod out of its Service: on a starved test machine
            # every pod's probe can time out in the same second, and a whole Service went dark
            # (kube-proxy then rejects every connection). The kubelet's 1 s timeout is short at a
            # load average of 10, the suite's on 2 cores.
            "timeoutSeconds": 3,
            "failureThreshold": 2,
        }
    if liveness:
        container["livenessProbe"] = {
            "httpGet": {"path": "/healthz", "port": "http"},
            "periodSeconds": period,
            "timeoutSeconds": 3,
            "failureThreshold": 2,
        }
    if pre_stop_seconds:
        # Outlasts the proxy's sync delay, so the endpoint is gone before the app stops.
        container["lifecycle"] = {"preStop": {"sleep": {"seconds": pre_stop_seconds}}}
    return container


def deployment(name, container, replicas=3, labels=None, max_surge=1, max_unavailable=0, min_ready_seconds=0, grace=30):
    labels = labels or {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": dict(labels)},
        "spec": {
            "replicas": replicas,
            "minReadySeconds": min_ready_seconds,
            "selector": {"matchLabels": dict(labels)},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": max_surge, "maxUnavailable": max_unavailable},
            },
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {"containers": [container], "terminationGracePeriodSeconds": grace},
            },
        },
    }


def node_port_service(name, selector):
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {
            "type": "NodePort",
            "selector": dict(selector),
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    }


def wait_for(list_fn, name, predicate, timeout, what, **list_kwargs):
    """Watch one object until predicate(obj) is true; return it.  Raises TimeoutError naming what."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}; last seen: {_brief(last)}")
        # Each stream starts with the current state (list + watch), so nothing is missed.
        stream = watch.Watch().stream(
            list_fn, field_selector=f"metadata.name={name}", timeout_seconds=max(1, int(remaining)), **list_kwargs
        )
        for event in stream:
            last = event["object"]
            if event["type"] != "DELETED" and predicate(last):
                return last


def wait_gone(list_fn, name, timeout, what, **list_kwargs):
    """Watch until the named object is deleted; at once when it is already absent."""
    deadline = time.monotonic() + timeout
    selector = f"metadata.name={name}"
    while True:
        # A watch of an absent object sends nothing: list first, then watch from that list's version.
        found = list_fn(field_selector=selector, **list_kwargs)
        if not found.items:
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        stream = watch.Watch().stream(
            list_fn,
            field_selector=selector,
            resource_version=found.metadata.resource_version,
            timeout_seconds=max(1, int(remaining)),
            **list_kwargs,
        )
        if any(event["type"] == "DELETED" for event in stream):
            return


def writes_since(list_fn, name, resource_version, **list_kwargs):
    """How many times the named object was modified after resource_version (the API's own count of writes)."""
    stream = watch.Watch().stream(
        list_fn,
        field_selector=f"metadata.name={name}",
        resource_version=resource_version,
        timeout_seconds=1,
        **list_kwargs,
    )
    return sum(1 for event in stream if event["type"] == "MODIFIED")


def deployment_complete(d):
    """kubectl's 'successfully rolled out': every replica updated and available."""
    s, want = d.status, d.spec.replicas
    return (
        (s.observed_generation or 0) >= d.metadata.generation
        and (s.updated_replicas or 0) == want
        and (s.replicas or 0) == want
        and (s.available_replicas or 0) == want
    )


def _brief(obj):
    if obj is None:
        return "nothing"
    status = getattr(obj, "status", None)
    return str(status.to_dict() if hasattr(status, "to_dict") else status)[:600]


def wait_serving(url, timeout):
    """Until one GET through the proxy answers 200: the proxy learns new Services after its sync delay."""
    from urllib.parse import urlsplit

    from . import httpget

    parts = urlsplit(url)
    deadline = time.monotonic() + timeout
    outcome = None
    while time.monotonic() < deadline:
        outcome = httpget.get(parts.hostname, parts.port, parts.path or "/", timeout=1.0)[0]
        if outcome == "ok":
            return
        time.sleep(0.2)
    raise TimeoutError(f"{url} not serving after {timeout}s (last outcome: {outcome})")
