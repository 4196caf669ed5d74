"""A real-node cluster's API and NodePorts, published on the host's loopback.

Inside the cluster's network namespace the kube-apiserver listens on 127.0.0.1:P and kube-proxy
serves NodePorts on the node IP. Tests, the demo and ansible-playbook run outside it, where only
127.0.0.0/8 may be dialled. This program listens on 127.0.0.1:P and on 127.0.0.1 at every port of
the cluster's NodePort window (claims.py keeps windows of clusters side by side apart), and carries
each connection, bytes untouched, to the same port in there: the API's on its loopback, a NodePort's
on the node IP, through kube-proxy's rules like any client's. kind publishes a node's ports the same
way, with a proxy in front of the node's network.

What the client sees stays what the cluster did: a connection refused or reset inside resets the
connection outside (the meter counts both as failed), a silence inside is a silence outside.

    python -m localcluster.hostports --netns NAME --api-port P --node-ports 30000-30399
"""

import argparse
import datetime
import resource
import selectors
import socket
import subprocess
import sys
import threading
import time

from . import netguard, netns, splice

LOOPBACK = "127.0.0.1"
CONNECT_TIMEOUT = 5.0


class Forwarder:
    def __init__(self, namespace, targets):
        """targets: {port: the address inside namespace that connections to 127.0.0.1:port go to}."""
        self.namespace = namespace
        self.targets = dict(targets)
        self.selector = selectors.DefaultSelector()
        for port in self.targets:
            listener = socket.socket()
            # A restarted forwarder must bind at once, while the last one's connections sit in TIME_WAIT.
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((LOOPBACK, port))
            # Clients reconnect all at once after a restart inside; a short backlog drops their SYNs.
            listener.listen(socket.SOMAXCONN)
            listener.setblocking(False)
            self.selector.register(listener, selectors.EVENT_READ, port)
        self._inner_up = {}  # port -> whether its last inner connect worked; logged when it changes

    def serve_forever(self):
        while True:
            for key, _events in self.selector.select():
                try:
                    outer, _peer = key.fileobj.accept()
                except BlockingIOError:
                    continue
                except OSError as e:  # EMFILE and the like: let connections drain, then go on
                    self._say(f"accept failed: {e}")
                    time.sleep(0.1)
                    continue
                outer.setblocking(True)
                threading.Thread(target=self._carry, args=(outer, key.data), name="hostports", daemon=True).start()

    def _carry(self, outer, port):
        host = self.targets[port]
        try:
            inner = self._dial(host, port)
        except OSError as e:
            # Nothing serves there (now): the client sees a failed connection, as it would inside.
            self._state(port, False, f"{host}:{port}: inner connect failed: {e}")
            splice.reset(outer)
            return
        self._state(port, True, f"{host}:{port}: inner connect works again")
        # Watches stay open for as long as they like: no timeout on either side.
        inner.settimeout(None)
        outer.settimeout(None)
        splice.splice(outer, inner)

    def _dial(self, host, port):
        sock = netns.socket_in(self.namespace)
        try:
            sock.settimeout(CONNECT_TIMEOUT)
            sock.connect((netguard.check_inside(host, self.namespace), port))
        except ConnectionRefusedError:
            source = sock.getsockname()
            sock.close()
            self._forget_refusal(source, (host, port))
            raise
        except BaseException:
            sock.close()
            raise
        return sock

    def _forget_refusal(self, source, destination):
        """Delete the conntrack entry a refused connection left, as it would not exist for a client outside.

        kube-proxy rejects a connection to a Service with no ready endpoint in INPUT. A client on another
        machine leaves nothing behind: its SYN is dropped before conntrack confirms it. Ours starts on the
        node, and its SYN is confirmed on the way out, so the entry stays (SYN_SENT, no NAT) for 120 s. A
        later connection from the same source port would match it, skip the DNAT to the endpoints that
        exist by then and be reset by the node itself: waits for a new Service send many such SYNs, and
        the traffic measured next met them. Only this one entry goes, by its exact tuple."""
        (src, sport), (dst, dport) = source, destination
        command = ["conntrack", "-D", "-p", "tcp", "--orig-src", src, "--orig-dst", dst]
        command += ["--orig-port-src", str(sport), "--orig-port-dst", str(dport)]
        done = subprocess.run(netns.argv(self.namespace, command), capture_output=True, text=True, check=False)
        # Exit 1 and "0 flow entries" when the refusal left none (a reset rather than a REJECT, say): fine.
        if done.returncode != 0 and "0 flow entries" not in done.stderr:
            self._say(f"conntrack entry of {src}:{sport} -> {dst}:{dport} not deleted: {done.stderr.strip()}")

    def _state(self, port, up, message):
        last = self._inner_up.get(port)
        if last is not up and (last is not None or not up):
            self._say(message)
        self._inner_up[port] = up

    @staticmethod
    def _say(message):
        print(f"{datetime.datetime.now(datetime.UTC):%H:%M:%S.%f} hostports: {message}", flush=True)


def targets(api_port, node_ports):
    """{port: inner address}: the API's port to the namespace's loopback, every NodePort to the node IP."""
    first, last = node_ports
    return {api_port: LOOPBACK, **dict.fromkeys(range(first, last + 1), netns.NODE_IP)}


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m localcluster.hostports", description=__doc__.split("\n", maxsplit=1)[0]
    )
    parser.add_argument("--netns", required=True, help="the cluster's network namespace")
    parser.add_argument("--api-port", required=True, type=int, help="the API server's port, the same on both sides")
    parser.add_argument("--node-ports", required=True, help="the cluster's NodePort window, FIRST-LAST")
    args = parser.parse_args(argv)
    first, last = (int(p) for p in args.node_ports.split("-"))
    # 401 listeners and the connections carried: more than the usual 1024 files.
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    forwarder = Forwarder(args.netns, targets(args.api_port, (first, last)))
    print(
        f"hostports: {LOOPBACK}:{args.api_port} -> {args.netns} {LOOPBACK}:{args.api_port}; "
        f"{LOOPBACK}:{first}-{last} -> {args.netns} {netns.NODE_IP}:{first}-{last}",
        flush=True,
    )
    forwarder.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
