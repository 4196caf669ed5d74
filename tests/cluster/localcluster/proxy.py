"""The service proxy (plays kube-proxy): python -m localcluster.proxy --kubeconfig PATH [--sync-delay 1.0]

For every Service port with a nodePort it listens on 127.0.0.1:<nodePort> and forwards
each new connection, round robin, to a ready endpoint's loopback twin.  Endpoint
changes take effect --sync-delay seconds after they are observed.  See proxyrules
(what goes where), proxysync (the delay), proxyforward (listeners, refusing),
proxywatch (the API).
"""

import argparse
import logging
import signal
import sys
from urllib.parse import urlsplit

from kubernetes import config

from . import netguard
from .proxyforward import Forwarder
from .proxysync import SyncedProxy
from .proxywatch import Watcher, api_lists

STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}
log = logging.getLogger("proxy")


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m localcluster.proxy", description=__doc__.split("\n", maxsplit=1)[0]
    )
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--sync-delay", type=float, default=1.0, help="seconds from an observed change to its effect")
    parser.add_argument("--connect-timeout", type=float, default=2.0, help="seconds to reach a backend")
    args = parser.parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s.%(msecs)03d proxy: %(message)s",
        datefmt="%Y-%m-%dT%H:%M:%S",
    )
    logging.getLogger("urllib3").setLevel(logging.ERROR)  # the watch loop logs its own retries, once each

    # Blocked before any thread starts, so they all inherit the mask and sigwait below gets the signal.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    api_client = config.new_client_from_config(config_file=args.kubeconfig)
    netguard.check_loopback(urlsplit(api_client.configuration.host).hostname)  # the API is a connect too
    forwarder = Forwarder(connect_timeout=args.connect_timeout)
    proxy = SyncedProxy(forwarder, args.sync_delay)
    watcher = Watcher(api_lists(api_client), proxy)
    watcher.start()
    log.info("started; sync delay %.2fs", args.sync_delay)

    signum = signal.sigwait(STOP_SIGNALS)
    log.info("%s: closing listeners and exiting", signal.Signals(signum).name)
    watcher.stop()
    proxy.close()
    forwarder.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
