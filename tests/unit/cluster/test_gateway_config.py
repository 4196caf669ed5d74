"""The gateway's configuration: Traefik's flags, its RBAC, the Gateway, and where the cluster publishes it."""

import re
import sys

import pytest
from clusterhelpers import CLUSTER_INFO

from localcluster import __main__ as cli
from localcluster import cluster, gateway, hostports

INFO = CLUSTER_INFO


def _info(**settings):
    return dict(INFO, settings=dict(cluster.DEFAULT_SETTINGS, **settings))


def _flag(argv, name):
    return next(a.split("=", 1)[1] for a in argv if a.startswith(name + "="))


def test_traefik_runs_only_the_gateway_provider_and_dials_nothing_outside():
    argv, env = cluster.command(gateway.NAME, _info())
    assert argv[:4] == ["nsenter", "--net=/run/netns/nodowntime-abcd1234", "--", "/cache/traefik"]
    flags = argv[4:]
    providers = {f.split("=")[0] for f in flags if f.startswith("--providers.") and "throttle" not in f}
    assert {p.split(".")[1] for p in providers} == {"kubernetesgateway"}
    assert _flag(flags, "--global.checknewversion") == "false"
    assert _flag(flags, "--global.sendanonymoususage") == "false"
    # Every address Traefik listens on is the node IP or the namespace's loopback.
    listens = {f.split("=", 1)[1] for f in flags if re.fullmatch(r"--entrypoints\.\w+\.address=.*", f)}
    assert listens == {f"10.250.0.1:{gateway.LISTENER_PORT}", f"127.0.0.1:{gateway.PING_PORT}"}
    assert _flag(flags, "--providers.providersthrottleduration") == gateway.THROTTLE
    assert env == {"KUBECONFIG": cluster._kubeconfig_for(gateway.NAME)}


def test_the_gateway_listener_is_the_windows_last_port_which_no_service_gets():
    info = _info()
    assert cluster.gateway_url(info) == "http://127.0.0.1:30399/"
    apiserver, _env = cluster.command("kube-apiserver", info)
    assert "--service-node-port-range=30000-30398" in apiserver
    forwarder, _env = cluster.command("hostports", info)
    assert forwarder[forwarder.index("--gateway-port") + 1] == f"30399:{gateway.LISTENER_PORT}"


@pytest.mark.parametrize(
    ("gateway_setting", "components"),
    [
        pytest.param(True, ("kube-proxy", "gateway"), id="on-last-after-the-node"),
        pytest.param(False, ("kube-proxy",), id="off-not-started"),
    ],
)
def test_the_gateway_setting_decides_whether_it_starts(gateway_setting, components):
    order = cluster.order(dict(cluster.DEFAULT_SETTINGS, gateway=gateway_setting))
    assert order[-len(components) :] == components and order.count("gateway") == gateway_setting


def test_a_cluster_without_gateway_has_no_gateway_url():
    with pytest.raises(RuntimeError, match="without a gateway"):
        cluster.gateway_url(_info(gateway=False))


@pytest.mark.parametrize(
    ("argv", "settings"),
    [
        pytest.param(["--no-gateway"], {"gateway": False}, id="no-gateway"),
        pytest.param(["--gateway"], {"gateway": True}, id="gateway"),
        pytest.param([], {}, id="unsaid-keeps-the-default"),
    ],
)
def test_the_command_line_gateway_flag(monkeypatch, argv, settings):
    seen = {}
    monkeypatch.setattr(cluster, "up", lambda components, settings: seen.update(settings=settings))
    monkeypatch.setattr(sys, "argv", ["localcluster", "up", *argv])
    cli.main()
    assert seen["settings"] == settings


def test_the_gateway_takes_routes_from_every_namespace_of_its_class():
    _ns, gateway_class, gw = gateway.gateway_objects()
    assert gateway_class["spec"] == {"controllerName": "traefik.io/gateway-controller"}
    assert gw["spec"]["gatewayClassName"] == gateway_class["metadata"]["name"]
    (listener,) = gw["spec"]["listeners"]
    assert (listener["name"], listener["port"], listener["allowedRoutes"]) == (
        gateway.LISTENER,
        gateway.LISTENER_PORT,
        {"namespaces": {"from": "All"}},
    )
    ref = gateway.parent_ref()
    assert (ref["namespace"], ref["name"]) == (gw["metadata"]["namespace"], gw["metadata"]["name"])


def test_the_gateway_may_read_what_it_routes_and_write_only_status():
    role, binding = gateway.rbac()
    assert binding["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": gateway.USER}]
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    writes = [r for r in role["rules"] if set(r["verbs"]) - {"get", "list", "watch"}]
    assert all(res.endswith("/status") for r in writes for res in r["resources"])
    reads = {(g, res) for r in role["rules"] for g in r["apiGroups"] for res in r["resources"] if "list" in r["verbs"]}
    assert {("discovery.k8s.io", "endpointslices"), ("gateway.networking.k8s.io", "httproutes")} <= reads


@pytest.mark.parametrize(
    ("gateway_ports", "expected"),
    [
        pytest.param(
            None,
            {6443: ("127.0.0.1", 6443), 30000: ("10.250.0.1", 30000), 30001: ("10.250.0.1", 30001)},
            id="no-gateway",
        ),
        pytest.param(
            (30001, 80),
            {6443: ("127.0.0.1", 6443), 30000: ("10.250.0.1", 30000), 30001: ("10.250.0.1", 80)},
            id="gateway",
        ),
    ],
)
def test_the_forwarders_targets(gateway_ports, expected):
    assert hostports.targets(6443, (30000, 30001), gateway_ports) == expected


def _with_status(generation, observed, accepted="True", resolved="True", parent_name=gateway.GATEWAY):
    route = gateway.http_route("web", "shop", [{"name": "web", "port": 80}])
    route["metadata"]["generation"] = generation
    conditions = [
        {"type": "Accepted", "status": accepted, "observedGeneration": observed},
        {"type": "ResolvedRefs", "status": resolved, "observedGeneration": observed},
    ]
    parent = {"parentRef": dict(gateway.parent_ref(), name=parent_name), "conditions": conditions}
    route["status"] = {"parents": [parent]}
    return route


@pytest.mark.parametrize(
    ("route", "accepted"),
    [
        pytest.param(_with_status(2, 2), True, id="current-generation-accepted"),
        pytest.param(_with_status(3, 2), False, id="stale-generation"),
        pytest.param(_with_status(2, 2, resolved="False"), False, id="refs-not-resolved"),
        pytest.param(_with_status(2, 2, parent_name="other"), False, id="another-gateways-status"),
        pytest.param(gateway.http_route("web", "shop", []), False, id="no-status-yet"),
    ],
)
def test_a_route_counts_as_accepted_only_by_our_gateway_at_its_generation(route, accepted):
    route["metadata"].setdefault("generation", 1)
    assert gateway.route_accepted(route) is accepted


def test_a_route_sends_its_own_path_to_the_app_root():
    route = gateway.http_route("store", "store", [{"name": "store", "port": 80}], annotations={"team": "shop"})
    (rule,) = route["spec"]["rules"]
    assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/store"}}]
    assert rule["filters"][0]["urlRewrite"]["path"]["replacePrefixMatch"] == "/"
    assert route["metadata"] == {"name": "store", "annotations": {"team": "shop"}}
