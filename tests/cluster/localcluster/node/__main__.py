"""python -m localcluster.node --kubeconfig PATH --state-dir DIR [--node-name N] [--cpu N] [--memory Q] [--pods N]"""

import argparse
import logging
import os
import signal
import sys
import threading

from .agent import Agent
from .kube import Kube


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m localcluster.node", description=__doc__)
    p.add_argument("--kubeconfig", required=True)
    p.add_argument("--state-dir", required=True)
    p.add_argument("--node-name", default="local-node")
    p.add_argument("--cpu", default="1000")
    p.add_argument("--memory", default="1000Gi")
    p.add_argument("--pods", type=int, default=1100)
    p.add_argument("--probe-threads", type=int, default=32)
    p.add_argument(
        "--pod-ip-skip",
        type=int,
        default=0,
        help="skip this many pod IPs (a second dev agent must not share addresses)",
    )
    p.add_argument("--pod-ip-count", type=int, help="hand out only this many pod IPs after the skipped ones")
    p.add_argument(
        "--register-with-taints",
        action="append",
        default=[],
        metavar="KEY[=VALUE]:EFFECT",
        help="taints the Node is created with (keeps other tests' pods off a dev node)",
    )
    p.add_argument("--verbose", action="store_true")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s.%(msecs)03d %(levelname)s %(name)s: %(message)s",
        datefmt="%Y-%m-%dT%H:%M:%S",
    )
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    threading.stack_size(512 * 1024)  # one thread per pod: keep them small
    os.makedirs(args.state_dir, exist_ok=True)
    agent = Agent(
        Kube(args.kubeconfig),
        args.node_name,
        os.path.abspath(args.state_dir),
        {"cpu": args.cpu, "memory": args.memory, "pods": args.pods},
        probe_threads=args.probe_threads,
        pod_ip_skip=args.pod_ip_skip,
        pod_ip_count=args.pod_ip_count,
        taints=args.register_with_taints,
    )
    done = threading.Event()

    def on_signal(signum, frame):
        logging.getLogger("agent").info("got signal %d", signum)
        agent.stop()
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    failed = []

    def run():
        try:
            agent.run()
        except Exception:
            logging.getLogger("agent").exception("agent crashed")
            failed.append(True)
        finally:
            done.set()

    threading.Thread(target=run, name="agent", daemon=True).start()
    done.wait()
    logging.getLogger("agent").info("stopped")
    logging.shutdown()
    # Daemon threads (watch, workers) are abandoned; pods' processes run on in their own sessions.
    os._exit(1 if failed else 0)


if __name__ == "__main__":
    main()
