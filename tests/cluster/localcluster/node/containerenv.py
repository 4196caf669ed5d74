"""A container's environment and argv, as the kubelet builds them (with $(VAR) expansion)."""

import os
import re

_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.\-]*)\)")
BASE_KEYS = ("PATH", "LANG", "LC_ALL", "TZ")


def expand(text, env):
    """Kubernetes $(VAR) expansion: known names are replaced, $$ escapes, unknown stay literal."""

    def sub(m):
        if m.group(0) == "$$":
            return "$"
        name = m.group(1)
        return env[name] if name in env else m.group(0)

    return _REF.sub(sub, text)


def _field_ref(path, pod, pod_ip, host_ip):
    meta = pod.get("metadata") or {}
    simple = {
        "metadata.name": meta.get("name"),
        "metadata.namespace": meta.get("namespace"),
        "metadata.uid": meta.get("uid"),
        "spec.nodeName": (pod.get("spec") or {}).get("nodeName"),
        "spec.serviceAccountName": (pod.get("spec") or {}).get("serviceAccountName"),
        "status.podIP": pod_ip,
        "status.podIPs": pod_ip,
        "status.hostIP": host_ip,
        "status.hostIPs": host_ip,
    }
    if path in simple:
        return simple[path] or ""
    m = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
    if m:
        return (meta.get(m.group(1)) or {}).get(m.group(2), "")
    return ""


def build(pod, container, *, twin, pod_ip, host_ip, version):
    """The environment dict for a container process (and its exec probes and hooks)."""
    meta = pod.get("metadata") or {}
    env = {k: os.environ[k] for k in BASE_KEYS if k in os.environ}
    env.update(
        {
            "PYTHONUNBUFFERED": "1",
            "HOSTNAME": meta.get("name", ""),
            "POD_NAME": meta.get("name", ""),
            "POD_NAMESPACE": meta.get("namespace", ""),
            "POD_IP": pod_ip or "",
            "VERSION": version or "",
        }
    )
    ports = container.get("ports") or []
    if ports:
        env["PORT"] = str(ports[0]["containerPort"])
    for item in container.get("env") or []:
        name = item.get("name")
        if not name:
            continue
        if "value" in item and item.get("value") is not None:
            env[name] = expand(str(item["value"]), env)
        elif (item.get("valueFrom") or {}).get("fieldRef"):
            env[name] = _field_ref(item["valueFrom"]["fieldRef"].get("fieldPath", ""), pod, pod_ip, host_ip)
        elif "value" in item or not item.get("valueFrom"):
            env[name] = ""
        # configMapKeyRef, secretKeyRef, resourceFieldRef: not supported on this node
    env["HOST"] = twin  # always: a process binds only its loopback twin
    return env


def expand_all(items, env):
    return [expand(str(x), env) for x in items or []]
