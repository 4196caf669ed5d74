# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checks around a Service selector switch, on plain API dicts.

Before the patch: the new selector must be non-empty (a Service without a selector
gets no managed endpoints: a blackout), match at least one pod, and enough of the
matched pods must be ready.  After the patch: the Service's EndpointSlices must list
every new pod as ready and none of the old ones, which is as far as the API can
tell that traffic has moved.
"""

import re

# A label value: empty, or up to 63 alphanumerics with - _ . inside (the API's rule).
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
SERVICE_NAME_LABEL = "kubernetes.io/service-name"


class SwitchRefused(ValueError):
    """The switch would black out traffic or the input is wrong; nothing has been changed."""


def show(selector):
    """{app: web, slot: green}: the form the messages use."""
    return "{" + ", ".join(f"{k}: {v}" for k, v in selector.items()) + "}"


def validate(service, selector, min_ready):
    """The selector as {str: str}; SwitchRefused naming the field and rule for bad input."""
    if not selector:
        raise SwitchRefused(
            f"refusing to switch {service}: the selector is empty, and a Service without "
            f"a selector gets no endpoints, so all traffic would stop"
        )
    clean = {}
    for key, value in selector.items():
        value = "" if value is None else str(value)
        prefix, _slash, name = str(key).rpartition("/")
        if (
            (prefix and (len(prefix) > 253 or not DNS_SUBDOMAIN.match(prefix)))
            or len(name) > 63
            or not LABEL_NAME.match(name)
        ):
            raise SwitchRefused(
                f"selector key {key!r} is not a valid label name: an optional DNS-subdomain "
                f"prefix and '/', then up to 63 alphanumerics, '-', '_' or '.', "
                f"starting and ending alphanumeric"
            )
        if len(value) > 63 or not LABEL_VALUE.match(value):
            raise SwitchRefused(
                f"selector value {value!r} for {key} is not a valid label value: up to 63 "
                f"alphanumerics, '-', '_' or '.', starting and ending alphanumeric"
            )
        clean[str(key)] = value
    if min_ready is not None and min_ready < 1:
        raise SwitchRefused(f"min_ready must be >= 1, got {min_ready}")
    return clean


def matches(labels, selector):
    labels = labels or {}
    return all(labels.get(k) == v for k, v in selector.items())


def pod_summary(pod):
    """What a switch reads of a pod, so a list of 1000 pods is not held whole."""
    metadata, status = pod["metadata"], pod.get("status") or {}
    return {
        "metadata": {
            "name": metadata["name"],
            "labels": metadata.get("labels"),
            "deletionTimestamp": metadata.get("deletionTimestamp"),
        },
        "status": {"conditions": [c for c in status.get("conditions") or [] if c.get("type") == "Ready"]},
    }


def pod_ready(pod):
    """Ready and not being deleted: the pods an EndpointSlice lists as ready."""
    if pod["metadata"].get("deletionTimestamp"):
        return False
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def ready_matching(selector, pods):
    """(pods the selector matches, sorted names of the ready ones)."""
    matched = [p for p in pods if matches(p["metadata"].get("labels"), selector)]
    return matched, sorted(p["metadata"]["name"] for p in matched if pod_ready(p))


def check_ready(service, selector, pods, min_ready=None):
    """Sorted names of the ready pods the selector matches; SwitchRefused if too few are ready.

    pods are those the API listed for the selector.  min_ready None
    means every matched pod must be ready (and there must be at least one).
    """
    matched, ready = ready_matching(selector, pods)
    if not matched:
        raise SwitchRefused(f"refusing to switch {service}: no pod matches {show(selector)}")
    needed = len(matched) if min_ready is None else min_ready
    if len(ready) < needed:
        rule = "" if min_ready is None else f" (min_ready is {min_ready})"
        raise SwitchRefused(
            f"refusing to switch {service}: {len(ready)} of {len(matched)} pods matching "
            f"{show(selector)} are ready{rule}"
        )
    return ready


def endpoint_pods(slices):
    """({pod names listed}, {pod names listed as ready}) over a Service's EndpointSlices."""
    listed, ready = set(), set()
    for endpoint_slice in slices:
        for endpoint in endpoint_slice.get("endpoints") or []:
            ref = endpoint.get("targetRef") or {}
            if ref.get("kind") != "Pod":
                continue
            listed.add(ref["name"])
            # The API leaves ready unset for "unknown", which consumers treat as ready.
            if (endpoint.get("conditions") or {}).get("ready", True) is not False:
                ready.add(ref["name"])
    return listed, ready


def traffic_moved(slices, new_pods, old_pods):
    """(done, message): every new pod listed as ready, and no old pod listed at all."""
    listed, ready = endpoint_pods(slices)
    waiting = sorted(set(new_pods) - ready)
    lingering = sorted(set(old_pods) & listed)
    if not waiting and not lingering:
        return True, f"endpoints list the {len(new_pods)} new pods as ready and none of the old ones"
    parts = []
    if waiting:
        parts.append(f"new pods not yet ready in the endpoints: {', '.join(waiting)}")
    if lingering:
        parts.append(f"old pods still in the endpoints: {', '.join(lingering)}")
    return False, "; ".join(parts)
