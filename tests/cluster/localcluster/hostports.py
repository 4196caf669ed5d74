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
import collections
import datetime
import queue
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
HOLD_REFUSED_PORT = 130.0  # s: past nf_conntrack_tcp_timeout_syn_sent (120 s)


class Forwarder:
    def __init__(self, namespace, targets):
        """targets: {port: the (host, port) inside namespace that connections to 127.0.0.1:port go to}."""
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
        self._held = collections.deque()  # (until, socket) of refused connections' source ports
        self._held_lock = threading.Lock()
        self._forget = queue.SimpleQueue()  # (source, destination) of refusals whose port is not held
        threading.Thread(target=self._forget_refusals, name="hostports-conntrack", daemon=True).start()

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
        host, inner_port = self.targets[port]
        try:
            inner = self._dial(host, inner_port)
        except OSError as e:
            # Nothing serves there (now): the client sees a failed connection, as it would inside.
            self._state(port, False, f"{host}:{inner_port}: inner connect failed: {e}")
            splice.reset(outer)
            return
        self._state(port, True, f"{host}:{inner_port}: inner connect works again")
        # Watches stay open for as long as they like: no timeout on either side.
        inner.settimeout(None)
        outer.settimeout(None)
        splice.splice(outer, inner)

    def _dial(self, host, port):
        # No bind() first: connect() picks the source port from the destination's own sequence, so a
        # port recently used for the same NodePort comes back only after thousands of others. bind() to
        # port 0 picks any free port, and picked ports whose last connection to the same NodePort (and
        # its conntrack entry and NAT to a pod since gone) was seconds old: a rare reset.
        sock = netns.socket_in(self.namespace)
        try:
            sock.settimeout(CONNECT_TIMEOUT)
            sock.connect((netguard.check_inside(host, self.namespace), port))
        except ConnectionRefusedError:
            # Refused by kube-proxy's REJECT (an ICMP error), the socket keeps its port until closed: bind
            # the holder after close(), or its bind fails.
            source = sock.getsockname()
            sock.close()
            if not self._hold(source[1]):
                self._forget.put((source, (host, port)))
            raise
        except BaseException:
            sock.close()
            raise
        return sock

    def _hold(self, source_port):
        """Keep a refused connection's source port bound for as long as the kernel remembers the refusal.

        kube-proxy rejects a connection to a Service with no ready endpoint in INPUT. A client on another
        machine leaves nothing behind: its SYN is dropped before conntrack confirms it. Ours starts on the
        node, its SYN is confirmed on the way out, and the entry stays (SYN_SENT, no NAT) for 120 s. A
        later connection given the same source port would match it, skip kube-proxy's DNAT, reach the
        node's own unbound port and be reset, long after the Service got its endpoints: waiting for a new
        Service sends many such SYNs, and the traffic measured next met them. While the port stays bound
        here, connect() gives it to no other connection. False if the port is in use: connect() shares a
        port among connections to different destinations."""
        holder = netns.socket_in(self.namespace)
        try:
            holder.bind(("0.0.0.0", source_port))
        except OSError:
            holder.close()
            return False
        now = time.monotonic()
        with self._held_lock:
            self._held.append((now + HOLD_REFUSED_PORT, holder))
            while self._held[0][0] < now:
                self._held.popleft()[1].close()
        return True

    def _forget_refusals(self):
        """Delete, one at a time, the conntrack entries of refusals whose port could not be held.

        Only those (a few a run): conntrack -D reads the whole table, and one per refusal while a Service
        refused 50 requests a second starved the machine into timeouts."""
        while True:
            (src, sport), (dst, dport) = self._forget.get()
            command = ["conntrack", "-D", "-p", "tcp", "--orig-src", src, "--orig-dst", dst]
            command += ["--orig-port-src", str(sport), "--orig-port-dst", str(dport)]
            done = subprocess.run(netns.argv(self.namespace, command), capture_output=True, text=True, check=False)
            # "0 flow entries" (exit 1): the refusal left none, or it has expired.
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


def targets(api_port, node_ports, gateway=None):
    """{port: (inner host, inner port)}: the API's port to the namespace's loopback, every NodePort to the
    node IP; gateway (outer port, inner port): that port of the window to the gateway's listener instead."""
    first, last = node_ports
    found = {api_port: (LOOPBACK, api_port), **{port: (netns.NODE_IP, port) for port in range(first, last + 1)}}
    if gateway:
        found[gateway[0]] = (netns.NODE_IP, gateway[1])
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m localcluster.hostports", description=__doc__.split("\n", maxsplit=1)[0]
    )
    parser.add_argument("--netns", required=True, help="the cluster's network namespace")
    parser.add_argument("--api-port", required=True, type=int, help="the API server's port, the same on both sides")
    parser.add_argument("--node-ports", required=True, help="the cluster's NodePort window, FIRST-LAST")
    parser.add_argument("--gateway-port", help="OUTER:INNER: the window's port OUTER goes to the gateway's INNER")
    args = parser.parse_args(argv)
    first, last = (int(p) for p in args.node_ports.split("-"))
    gateway = tuple(int(p) for p in args.gateway_port.split(":")) if args.gateway_port else None
    # 401 listeners, the connections carried, and the source ports held: more than the usual 1024 files.
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    forwarder = Forwarder(args.netns, targets(args.api_port, (first, last), gateway))
    print(
        f"hostports: {LOOPBACK}:{args.api_port} -> {args.netns} {LOOPBACK}:{args.api_port}; "
        f"{LOOPBACK}:{first}-{last} -> {args.netns} {netns.NODE_IP}:{first}-{last}"
        + (f"; {LOOPBACK}:{gateway[0]} -> {netns.NODE_IP}:{gateway[1]} (the gateway)" if gateway else ""),
        flush=True,
    )
    forwarder.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
