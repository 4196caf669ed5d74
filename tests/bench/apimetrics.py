"""kube-apiserver's own request counters, read from GET /metrics with the admin cert.

apiserver_request_total                        by verb and resource, every client together;
apiserver_flowcontrol_dispatched_requests_total by API Priority and Fairness flow schema, i.e. by
                                               who asks: the admin identity (system:masters) that
                                               the tools and the harness use lands in "exempt",
                                               the controllers, scheduler and node in others.
"""

import re
from collections import Counter

from localcluster import health, paths

_LINE = re.compile(
    r"^(?P<name>apiserver_request_total|apiserver_flowcontrol_dispatched_requests_total)"
    r"\{(?P<labels>[^}]*)\}\s+(?P<value>\S+)"
)
FLOW = "flow"  # key prefix of the per-flow-schema counts
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def scrape(kube):
    """Counter {(verb, resource, subresource): requests} summed over codes, plus {("flow", schema, ""): requests}."""
    tls = health.client_tls(
        paths.state("pki", "ca.crt"), paths.state("pki", "admin.crt"), paths.state("pki", "admin.key")
    )
    status, body = health.get("127.0.0.1", kube.info["ports"]["apiserver"], "/metrics", tls, timeout=10)
    if status != 200:
        raise RuntimeError(f"GET /metrics: {status}: {body[:300]}")
    return parse(body)


def parse(text):
    counts = Counter()
    for line in text.splitlines():
        m = _LINE.match(line)
        if m:
            labels = dict(_LABEL.findall(m.group("labels")))
            if m.group("name") == "apiserver_flowcontrol_dispatched_requests_total":
                key = (FLOW, labels.get("flow_schema", ""), "")
            else:
                key = (labels.get("verb", ""), labels.get("resource", ""), labels.get("subresource", ""))
            counts[key] += int(float(m.group("value")))
    return counts


def requests(counts):
    """Only the apiserver_request_total part."""
    return {k: v for k, v in counts.items() if k[0] != FLOW}


def flow(counts, schema):
    return counts.get((FLOW, schema, ""), 0)


def delta(before, after):
    out = Counter(after)
    out.subtract(before)
    return Counter({k: v for k, v in out.items() if v})


def label(key):
    verb, resource, sub = key
    return f"{verb} {resource or '(non-resource)'}{'/' + sub if sub else ''}"
