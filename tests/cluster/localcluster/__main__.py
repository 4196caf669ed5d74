"""`python -m localcluster up|down|status|restart NAME|build|with -- CMD`.

up and with take the cluster's settings, e.g. `up --hollow-pods 1600 --hollow-nodes 4 --controller-qps 100`
or `up --no-gateway`
(defaults: cluster.DEFAULT_SETTINGS); they are recorded in cluster.json, where the bench reads them.
"""

import argparse
import os
import subprocess
import sys

from . import build, cluster, paths, realnode


def main():
    ap = argparse.ArgumentParser(prog="localcluster")
    sub = ap.add_subparsers(dest="cmd", required=True)
    u = sub.add_parser("up", help="build if needed, start every component, wait until healthy")
    u.add_argument("--only", help="comma-separated components to start (development of the others)")
    _settings_arguments(u)
    sub.add_parser("down", help="stop exactly what up started")
    sub.add_parser("status", help="say whether the cluster is up")
    sub.add_parser("build", help="build the Kubernetes binaries (every release) and the node's tools and images")
    w = sub.add_parser("with", help="run a command against the cluster, starting and stopping it if it was down")
    _settings_arguments(w)
    w.add_argument("argv", nargs=argparse.REMAINDER)
    r = sub.add_parser("restart", help="restart one component with the same ports and data")
    r.add_argument("name", choices=cluster.ALL_COMPONENTS)
    r.add_argument("--kill", action="store_true", help="SIGKILL it (kill -9, as a crash would) instead of SIGTERM")
    args = ap.parse_args()
    if args.cmd == "up":
        cluster.up(components=args.only.split(",") if args.only else None, settings=_settings(args))
        print(f"export KUBECONFIG={paths.ADMIN_KUBECONFIG}")
    elif args.cmd == "down":
        stopped = cluster.down()
        print("stopped: " + (", ".join(stopped) or "nothing was running"))
    elif args.cmd == "status":
        info = cluster.running()
        print(f"up: {info['server']}" if info else "down")
        sys.exit(0 if info else 1)
    elif args.cmd == "build":
        # Every release there is a go.mod for: the fleet tests start a cluster at each, and a build
        # inside a test would outlast its timeout.
        for version in build.kubernetes_versions():
            print(build.build(version=version))
        print(realnode.binaries())
    elif args.cmd == "with":
        sys.exit(run_with(args.argv[1:] if args.argv[:1] == ["--"] else args.argv, _settings(args)))
    elif args.cmd == "restart":
        cluster.restart(args.name, kill=args.kill)


SETTINGS = (
    # (flag, settings key, type, what it sets)
    ("--kubernetes-version", "kubernetes_version", str, "the Kubernetes release every component runs"),
    ("--node-ports", "node_ports", int, "NodePorts in the cluster's window on the host's loopback"),
    ("--proxy-mode", "proxy_mode", str, "kube-proxy's mode: iptables or nftables"),
    ("--pods", "node_pods", int, "pods the real node's kubelet takes (maxPods)"),
    (
        "--hollow-pods",
        "hollow_pods",
        int,
        "pods of each kubemark hollow node (not a real node), for the bench; 0: none",
    ),
    ("--hollow-nodes", "hollow_nodes", int, "how many hollow nodes (with --hollow-pods)"),
    ("--controller-qps", "controller_qps", float, "kube-controller-manager's --kube-api-qps"),
    ("--controller-burst", "controller_burst", int, "kube-controller-manager's --kube-api-burst"),
    ("--hpa-sync-period", "hpa_sync_period", float, "kube-controller-manager's HPA sync period in seconds"),
    ("--scheduler-qps", "scheduler_qps", float, "kube-scheduler's --kube-api-qps"),
    ("--scheduler-burst", "scheduler_burst", int, "kube-scheduler's --kube-api-burst"),
    ("--proxy-sync-delay", "proxy_sync_delay", float, "kube-proxy's minSyncPeriod in seconds"),
    ("--gateway", "gateway", bool, "the Gateway API gateway (Traefik), its CRDs and Gateway; --no-gateway: none"),
)


def _settings_arguments(parser):
    for flag, key, kind, what in SETTINGS:
        default = f"{what} (default {cluster.DEFAULT_SETTINGS[key]})"
        if kind is bool:
            parser.add_argument(flag, dest=key, action=argparse.BooleanOptionalAction, help=default)
        else:
            parser.add_argument(flag, dest=key, type=kind, help=default)


def _settings(args):
    return {key: getattr(args, key) for _flag, key, _kind, _what in SETTINGS if getattr(args, key) is not None}


def run_with(argv, settings=None):
    started_here = not cluster.running()
    try:
        cluster.up(settings=settings)
        return subprocess.run(argv, env=dict(os.environ, KUBECONFIG=paths.ADMIN_KUBECONFIG), check=False).returncode
    finally:
        if started_here:
            print("stopped: " + ", ".join(cluster.down()), file=sys.stderr)


if __name__ == "__main__":
    main()
