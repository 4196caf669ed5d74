"""Probe and preStop handlers: httpGet, tcpSocket, exec and sleep, run against the loopback twin.

Every connect goes through netguard: only 127.0.0.0/8 is ever dialled.
"""

import contextlib
import http.client
import os
import signal
import subprocess
import time

from .. import netguard
from .prober import ERROR, FAILURE, SUCCESS

USER_AGENT = "kube-probe/1.37"
MAX_BODY = 10 * 1024


class Target:
    """Where a pod's handlers go: its twin address, its pod IP (for Host headers), its env."""

    def __init__(self, twin, pod_ip, container, env):
        self.twin = twin
        self.pod_ip = pod_ip
        self.container = container
        self.env = env

    def port(self, value):
        """A port number from a number or a containerPort name; ValueError if unknown."""
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.isdigit():
            return int(value)
        for p in self.container.get("ports") or []:
            if p.get("name") == value:
                return int(p["containerPort"])
        raise ValueError(f"port {value!r} not found in container {self.container.get('name')!r}")

    def host(self, requested):
        """The address to dial: the twin, or an explicit host that must be loopback."""
        return netguard.check_loopback(requested) if requested else self.twin


class _GuardedConnection(http.client.HTTPConnection):
    def connect(self):
        self.sock = netguard.connect(self.host, self.port, self.timeout)


def http_get(action, target, timeout):
    try:
        port = target.port(action.get("port"))
        host = target.host(action.get("host"))
    except (ValueError, netguard.ForbiddenAddress) as e:
        return ERROR, str(e)
    scheme = (action.get("scheme") or "HTTP").upper()
    if scheme != "HTTP":
        return FAILURE, f"scheme {scheme} is not supported on this node"
    path = action.get("path") or "/"
    if not path.startswith("/"):
        path = "/" + path
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": "*/*",
        "Host": f"{action.get('host') or target.pod_ip or host}:{port}",
    }
    for h in action.get("httpHeaders") or []:
        if h.get("name"):
            headers[h["name"]] = h.get("value", "")
    conn = _GuardedConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = resp.read(MAX_BODY)
    except netguard.ForbiddenAddress as e:
        return ERROR, str(e)
    except (OSError, http.client.HTTPException) as e:
        return FAILURE, f'Get "http://{host}:{port}{path}": {type(e).__name__}: {e}'
    finally:
        conn.close()
    if 200 <= resp.status < 400:
        return SUCCESS, ""
    return FAILURE, f"HTTP probe failed with statuscode: {resp.status}: {body[:200]!r}"


def tcp_socket(action, target, timeout):
    try:
        port = target.port(action.get("port"))
        host = target.host(action.get("host"))
    except (ValueError, netguard.ForbiddenAddress) as e:
        return ERROR, str(e)
    try:
        netguard.connect(host, port, timeout).close()
    except OSError as e:
        return FAILURE, f"dial tcp {host}:{port}: {e}"
    return SUCCESS, ""


def exec_command(action, target, timeout):
    """Run the command locally, with the container's environment; exit 0 is success."""
    command = action.get("command") or []
    if not command:
        return FAILURE, "exec: no command"
    try:
        proc = subprocess.Popen(
            command,
            env=target.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd="/",
        )
    except OSError as e:
        return FAILURE, f"exec {command[0]}: {e}"
    try:
        out, _err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # not yet reaped: the pid is still ours
        proc.communicate()
        return FAILURE, f"command timed out after {timeout}s"
    if proc.returncode == 0:
        return SUCCESS, ""
    return FAILURE, f"command exited {proc.returncode}: {out[-200:].decode(errors='replace')}"


def run_probe(handler, target, timeout):
    """Run one probe handler dict; returns (SUCCESS|FAILURE|ERROR, message)."""
    if "httpGet" in handler:
        return http_get(handler["httpGet"], target, timeout)
    if "tcpSocket" in handler:
        return tcp_socket(handler["tcpSocket"], target, timeout)
    if "exec" in handler:
        return exec_command(handler["exec"], target, timeout)
    return ERROR, f"unsupported probe handler {sorted(handler)}"


def run_lifecycle_handler(handler, target, budget):
    """Run a preStop hook (exec, httpGet, tcpSocket, sleep), bounded by budget seconds."""
    budget = max(budget, 0.0)
    if "sleep" in handler:
        time.sleep(min(float(handler["sleep"].get("seconds") or 0), budget))
        return SUCCESS, ""
    if "httpGet" in handler:
        return http_get(handler["httpGet"], target, budget)
    if "exec" in handler:
        return exec_command(handler["exec"], target, budget)
    if "tcpSocket" in handler:
        return tcp_socket(handler["tcpSocket"], target, budget)
    return ERROR, f"unsupported lifecycle handler {sorted(handler)}"
