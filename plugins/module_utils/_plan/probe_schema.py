# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Probes in Kubernetes' own schema: validated before anything is sent, compared as the
API stores them, and checked for settings that hurt zero-downtime releases.

    validate(field, probe, container) -> [error strings]       field: readinessProbe, ...
    normalized(probe)  -> the probe as the API would store it (defaults filled in)
    pre_stop_handler(value) -> a lifecycle handler: int -> sleep, list/str -> exec
    risks(container, pod_spec, rolling_update) -> [warning strings]

The API's defaults (k8s.io/kubernetes pkg/apis/core/v1/defaults.go, SetDefaults_Probe):
periodSeconds 10, timeoutSeconds 1, successThreshold 1, failureThreshold 3, and no upper
bound on failureThreshold -- not "periodSeconds defaults to 1, failureThreshold max 3"
as the guide this project started from says.
"""

from __future__ import annotations

import copy
import math
import re

DEFAULTS = {"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}
HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
TIMINGS = (
    "initialDelaySeconds",
    "timeoutSeconds",
    "periodSeconds",
    "successThreshold",
    "failureThreshold",
    "terminationGracePeriodSeconds",
)
FIELDS = HANDLERS + TIMINGS
# A liveness probe that waits this long usually stands in for a startup probe.
LONG_INITIAL_DELAY = 30
_PORT_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _port(value):
    """A digits-only string is a port number: Ansible templating turns 8080 into "8080"."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def _port_errors(path, port, container, named_ok=True):
    port = _port(port)
    if _is_int(port):
        return [] if 1 <= port <= 65535 else [f"{path}: Invalid value: {port}: must be between 1 and 65535, inclusive"]
    if not named_ok or not isinstance(port, str):
        return [f"{path}: Invalid value: {port!r}: must be a port number between 1 and 65535"]
    names = [p.get("name") for p in container.get("ports") or [] if p.get("name")]
    if not (len(port) <= 15 and _PORT_NAME.match(port) and re.search("[a-z]", port)):
        return [f"{path}: Invalid value: {port!r}: must be a port number or an IANA_SVC_NAME"]
    if port not in names:
        known = ", ".join(names) or "none"
        return [
            (
                f"{path}: Invalid value: {port!r}: container {container.get('name')!r} has no port named "
                f"{port!r} (named ports: {known})"
            )
        ]
    return []


def _handler_errors(path, probe, container):
    present = [h for h in HANDLERS if probe.get(h) is not None]
    if not present:
        return [f"{path}: Required value: must specify a handler type (one of {', '.join(HANDLERS)})"]
    if len(present) > 1:
        return [
            f"{path}.{present[1]}: Forbidden: may not specify more than 1 handler type (found {', '.join(present)})"
        ]
    handler, spec = present[0], probe[present[0]]
    where = f"{path}.{handler}"
    if not isinstance(spec, dict):
        return [f"{where}: must be a mapping"]
    if handler == "exec":
        command = spec.get("command")
        ok = isinstance(command, list) and command and all(isinstance(c, str) for c in command)
        return [] if ok else [f"{where}.command: Required value: a non-empty list of strings"]
    if "port" not in spec:
        return [f"{where}.port: Required value"]
    errors = _port_errors(f"{where}.port", spec["port"], container, named_ok=handler != "grpc")
    if handler == "httpGet" and spec.get("scheme", "HTTP") not in ("HTTP", "HTTPS"):
        errors.append(f'{where}.scheme: Unsupported value: "{spec["scheme"]}": supported values: "HTTP", "HTTPS"')
    return errors


def validate(field, probe, container):
    """field is readinessProbe, livenessProbe or startupProbe; container the one it goes in."""
    if not isinstance(probe, dict):
        return [f"{field}: must be a mapping in Kubernetes' probe schema (camelCase), got {type(probe).__name__}"]
    errors = [f"{field}.{k}: unknown field (expected one of {', '.join(FIELDS)})" for k in probe if k not in FIELDS]
    errors += _handler_errors(field, probe, container)
    for key in TIMINGS:
        if key not in probe:
            continue
        value, minimum = probe[key], 0 if key == "initialDelaySeconds" else 1
        if not _is_int(value):
            errors.append(f"{field}.{key}: Invalid value: {value!r}: must be an integer")
        elif value < minimum:
            errors.append(f"{field}.{key}: Invalid value: {value}: must be greater than or equal to {minimum}")
    if field != "readinessProbe" and probe.get("successThreshold", 1) != 1 and _is_int(probe.get("successThreshold")):
        errors.append(f"{field}.successThreshold: Invalid value: {probe['successThreshold']}: must be 1")
    if field == "readinessProbe" and "terminationGracePeriodSeconds" in probe:
        errors.append(
            f"{field}.terminationGracePeriodSeconds: Invalid value: "
            f"{probe['terminationGracePeriodSeconds']}: must not be set for readinessProbes"
        )
    return errors


def normalized(probe):
    """What the API stores for probe: defaults filled in, zero initialDelaySeconds omitted."""
    if probe is None:
        return None
    probe = copy.deepcopy(probe)
    for key, value in DEFAULTS.items():
        if not probe.get(key):
            probe[key] = value
    if not probe.get("initialDelaySeconds"):
        probe.pop("initialDelaySeconds", None)
    for handler in ("httpGet", "tcpSocket"):
        if probe.get(handler) is not None:
            probe[handler]["port"] = _port(probe[handler].get("port"))
    if probe.get("httpGet") is not None:
        probe["httpGet"].setdefault("path", "/")
        probe["httpGet"].setdefault("scheme", "HTTP")
    if probe.get("grpc") is not None:
        probe["grpc"].setdefault("service", "")
    return probe


def pre_stop_handler(value):
    if _is_int(value) or (isinstance(value, str) and value.isdigit()):
        return {"sleep": {"seconds": int(value)}}
    if isinstance(value, str):
        return {"exec": {"command": ["/bin/sh", "-c", value]}}
    if isinstance(value, list) and value and all(isinstance(c, str) for c in value):
        return {"exec": {"command": list(value)}}
    raise ValueError(
        f"pre_stop: expected seconds to sleep (an integer) or a command (a list or a string), got {value!r}"
    )


def risks(container, pod_spec, rolling_update):
    """Warnings about container as it will run in pod_spec; rolling_update: a RollingUpdate Deployment."""
    name = container.get("name")
    readiness, liveness = container.get("readinessProbe"), container.get("livenessProbe")
    found = []
    if liveness and readiness and normalized(liveness) == normalized(readiness):
        found.append(
            f"container {name!r}: livenessProbe is identical to readinessProbe, so a slow moment "
            "restarts the container instead of only taking it out of rotation; give liveness a "
            "cheaper check or a larger failureThreshold"
        )
    if liveness and normalized(liveness)["failureThreshold"] == 1:
        found.append(
            f"container {name!r}: livenessProbe.failureThreshold is 1, so one failed or slow check "
            "restarts the container; 3 (the default) or more rides out a hiccup"
        )
    if (
        liveness
        and (liveness.get("initialDelaySeconds") or 0) >= LONG_INITIAL_DELAY
        and not container.get("startupProbe")
    ):
        delay, period = liveness["initialDelaySeconds"], 10
        found.append(
            f"container {name!r}: livenessProbe waits initialDelaySeconds {delay} with no startupProbe; "
            f"a startupProbe with the same check, periodSeconds {period} and failureThreshold "
            f"{math.ceil(delay / period)} allows the same start-up time and lets liveness act at once after"
        )
    if rolling_update and not readiness:
        found.append(
            f"container {name!r} has no readinessProbe in a RollingUpdate Deployment: new pods get "
            "traffic before they can serve it and old pods are removed too early"
        )
    sleep = (((container.get("lifecycle") or {}).get("preStop") or {}).get("sleep") or {}).get("seconds")
    grace = pod_spec.get("terminationGracePeriodSeconds", 30)
    if sleep is not None and sleep >= grace:
        found.append(
            f"container {name!r}: preStop sleeps {sleep}s but terminationGracePeriodSeconds is {grace}, "
            "so the container is killed before it can shut down on its own; make the grace period "
            "longer than the sleep plus the app's shutdown time"
        )
    return found
