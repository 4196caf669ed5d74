"""The cluster's Gateway API gateway: Traefik's Kubernetes Gateway provider, run like a node component.

Traefik v3 (pure Go, built by build.build_gateway) watches GatewayClasses, Gateways, HTTPRoutes and
EndpointSlices with its own identity, and sends each request straight to a ready pod IP. It listens
on the node IP inside the cluster's namespace; hostports publishes that listener on the host's
loopback at the last port of the cluster's NodePort window, which the API server keeps out of its
NodePort range. The configuration below is pure; install() applies it.
"""

import os
import subprocess

import yaml

from . import netns

NAME = "gateway"  # the component, its client certificate and kubeconfig
USER = "nodowntime:gateway"  # the certificate's common name, bound by RBAC below
CLASS = "nodowntime"
CONTROLLER = "traefik.io/gateway-controller"  # what Traefik's provider answers for
NAMESPACE = "gateway-system"
GATEWAY = "nodowntime"
LISTENER = "http"
LISTENER_PORT = 80  # the listener's port is the entrypoint's port, on the node IP inside the namespace
ENTRYPOINT = "web"
PING_PORT = 10280  # Traefik's own entrypoint for /ping, on the namespace's loopback
# How long Traefik lets provider events gather before it applies a configuration (default 2 s): a
# release's weight step counts once the route's status says Accepted, and tests measure right after;
# a short delay keeps the data plane a fraction of a second behind the route, not seconds.
THROTTLE = "0.2s"

_READ = ("get", "list", "watch")
# What Traefik's Gateway provider reads and the status it writes (its informers never sync without
# list and watch on every kind they cover, Secrets and ConfigMaps included).
RULES = (
    {"apiGroups": [""], "resources": ["namespaces", "services", "secrets", "configmaps"], "verbs": list(_READ)},
    {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": list(_READ)},
    {
        "apiGroups": ["gateway.networking.k8s.io"],
        "resources": [
            "gatewayclasses",
            "gateways",
            "httproutes",
            "grpcroutes",
            "referencegrants",
            "backendtlspolicies",
            "tcproutes",
            "tlsroutes",
        ],
        "verbs": list(_READ),
    },
    {
        "apiGroups": ["gateway.networking.k8s.io"],
        "resources": [
            "gatewayclasses/status",
            "gateways/status",
            "httproutes/status",
            "grpcroutes/status",
            "backendtlspolicies/status",
            "tcproutes/status",
            "tlsroutes/status",
        ],
        "verbs": ["update", "patch"],
    },
)


def traefik_args(ping_port=PING_PORT, node_ip=netns.NODE_IP):
    """Traefik's static configuration as flags: the Gateway provider only, nothing that dials out."""
    return [
        # No version check and no usage statistics: both would dial the internet.
        "--global.checknewversion=false",
        "--global.sendanonymoususage=false",
        f"--entrypoints.{ENTRYPOINT}.address={node_ip}:{LISTENER_PORT}",
        f"--entrypoints.traefik.address=127.0.0.1:{ping_port}",
        "--ping=true",
        "--ping.entrypoint=traefik",
        "--providers.kubernetesgateway=true",
        # The Gateway's status.addresses: where its listener is, inside the namespace.
        f"--providers.kubernetesgateway.statusaddress.ip={node_ip}",
        f"--providers.providersthrottleduration={THROTTLE}",
        "--log.level=INFO",
    ]


def rbac():
    """The ClusterRole and its binding to the gateway's certificate user."""
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": USER},
            "rules": list(RULES),
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": USER},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": USER},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": USER}],
        },
    ]


def gateway_objects():
    """The namespace, the GatewayClass and the one Gateway every test's HTTPRoute attaches to."""
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "GatewayClass",
            "metadata": {"name": CLASS},
            "spec": {"controllerName": CONTROLLER},
        },
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "Gateway",
            "metadata": {"name": GATEWAY, "namespace": NAMESPACE},
            "spec": {
                "gatewayClassName": CLASS,
                # Routes from every namespace attach: each test works in a namespace of its own.
                "listeners": [
                    {
                        "name": LISTENER,
                        "protocol": "HTTP",
                        "port": LISTENER_PORT,
                        "allowedRoutes": {"namespaces": {"from": "All"}},
                    }
                ],
            },
        },
    ]


def parent_ref():
    """The parentRefs entry of an HTTPRoute served by the cluster's gateway."""
    return {"group": "gateway.networking.k8s.io", "kind": "Gateway", "namespace": NAMESPACE, "name": GATEWAY}


def http_route(name, path, backend_refs, annotations=None):
    """An HTTPRoute on the cluster's gateway sending /<path> (rewritten to /, the demo app's page) to
    backend_refs; a path of its own keeps apps side by side on the one listener apart."""
    rewrite = {"type": "URLRewrite", "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}}}
    rule = {
        "matches": [{"path": {"type": "PathPrefix", "value": f"/{path}"}}],
        "filters": [rewrite],
        "backendRefs": list(backend_refs),
    }
    metadata = {"name": name, **({"annotations": dict(annotations)} if annotations else {})}
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": metadata,
        "spec": {"parentRefs": [{**parent_ref(), "sectionName": LISTENER}], "rules": [rule]},
    }


def route_conditions(route):
    """{type: condition} of an HTTPRoute's status for the cluster's Gateway, current generation only."""
    for parent in (route.get("status") or {}).get("parents") or []:
        got = parent["parentRef"]
        if (got.get("namespace"), got["name"]) == (NAMESPACE, GATEWAY):
            generation = route["metadata"]["generation"]
            return {c["type"]: c for c in parent["conditions"] if c.get("observedGeneration") == generation}
    return {}


def route_accepted(route):
    """Whether the gateway took the route as it is now: Accepted and ResolvedRefs True."""
    conditions = route_conditions(route)
    return all(conditions.get(t, {}).get("status") == "True" for t in ("Accepted", "ResolvedRefs"))


def command(traefik, kubeconfig):
    # Traefik's provider reads KUBECONFIG (client certificate auth); its own flags take a token only.
    return [traefik, *traefik_args()], {"KUBECONFIG": kubeconfig}


def crd_names(crds_dir):
    """The CustomResourceDefinitions of the standard channel's files (which also hold an admission policy)."""
    names = []
    for entry in sorted(os.listdir(crds_dir)):
        with open(os.path.join(crds_dir, entry)) as f:
            names += [
                d["metadata"]["name"] for d in yaml.safe_load_all(f) if d and d["kind"] == "CustomResourceDefinition"
            ]
    return names


def install(info, kubeconfig, crds_dir, state_dir):
    """Apply the standard-channel CRDs, wait until they are Established, then the RBAC and the Gateway.

    kubectl (the control plane binary's) applies server-side: the CRDs are too large for the
    last-applied annotation of a client-side apply, and `kubectl wait` watches.
    """
    kubectl = [info["binary"], "kubectl", f"--kubeconfig={kubeconfig}"]
    _run([*kubectl, "apply", "--server-side", "-f", crds_dir])
    crds = [f"crd/{name}" for name in crd_names(crds_dir)]
    _run([*kubectl, "wait", "--for=condition=Established", "--timeout=60s", *crds])
    path = os.path.join(state_dir, "gateway.yaml")
    with open(path, "w") as f:
        yaml.safe_dump_all([*rbac(), *gateway_objects()], f, sort_keys=False)
    _run([*kubectl, "apply", "--server-side", "-f", path])


def _run(argv):
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[1:4])}... failed: {done.stderr.strip()[-2000:]}")
