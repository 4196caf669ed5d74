"""Node-port listeners on 127.0.0.1 that forward each new connection to a backend.

One thread owns every listener (a selector loop); each accepted connection gets its
own thread that connects to the picked backend and splices the two sockets.

Refusing: a node port whose Service has no ready endpoint has no listener, so a
client's SYN is answered with RST and connect() fails with ECONNREFUSED, which is
exactly what kube-proxy's REJECT rule gives.  (Accepting and then resetting would
let connect() succeed and the client would see a reset instead.)  A connection
that was accepted but whose backend cannot be reached is reset.

Connections keep flowing when routes change or a listener closes: only new
connections follow the new routes, like conntrack'd flows under kube-proxy.
"""

import logging
import selectors
import socket
import threading

from . import netguard
from .proxyrules import RoundRobin
from .splice import reset, splice

log = logging.getLogger("proxy")


class Forwarder:
    def __init__(self, bind_host="127.0.0.1", connect_timeout=2.0):
        self.bind_host = netguard.check_loopback(bind_host)
        self.connect_timeout = connect_timeout
        self._routes = {}  # node_port -> Route, as last applied
        self._listeners = {}  # node_port -> listening socket
        self._turns = {}  # node_port -> RoundRobin
        self._pending = None
        self._closing = False
        self._lock = threading.Lock()
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._loop, name="forwarder", daemon=True)
        self._thread.start()

    def apply(self, routes):
        """Make routes ({node_port: Route}) the ones new connections follow."""
        with self._lock:
            self._pending = dict(routes)
        self._wake_w.send(b"x")

    def listening_ports(self):
        with self._lock:
            return set(self._listeners)

    def close(self):
        """Close every listener and stop; connections in flight are left to finish."""
        self._closing = True
        self._wake_w.send(b"x")
        self._thread.join()
        self._wake_r.close()
        self._wake_w.close()
        self._selector.close()

    def _loop(self):
        while not self._closing:
            for key, _mask in self._selector.select():
                if key.fileobj is self._wake_r:
                    self._wake_r.recv(4096)
                    with self._lock:
                        routes, self._pending = self._pending, None
                    if routes is not None:
                        self._reconcile(routes)
                else:
                    self._accept(key.fileobj, key.data)
        for port in list(self._listeners):
            self._unlisten(port)

    def _reconcile(self, routes):
        for port in sorted(set(self._routes) | set(routes)):
            old, new = self._routes.get(port), routes.get(port)
            if old != new:
                self._log_change(port, old, new)
            if new and new.backends:
                if port not in self._listeners:
                    self._listen(port)
            elif port in self._listeners:
                self._unlisten(port)
            if new is None:
                self._turns.pop(port, None)
        self._routes = routes

    def _log_change(self, port, old, new):
        if new is None:
            log.info("%s nodePort %d: service port gone, no longer served", old.service, port)
        elif not new.backends:
            log.info("%s nodePort %d: 0 ready endpoints, refusing connections", new.service, port)
        else:
            endpoints = " ".join(f"{ip}:{p}" for ip, p in new.backends)
            log.info("%s nodePort %d: %d ready endpoints: %s", new.service, port, len(new.backends), endpoints)

    def _listen(self, port):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Reopening a node port right after closing it must not wait for TIME_WAIT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.bind_host, port))
            sock.listen(socket.SOMAXCONN)
        except OSError as e:
            log.error("nodePort %d: cannot listen on %s: %s", port, self.bind_host, e)
            sock.close()
            return
        sock.setblocking(False)
        with self._lock:
            self._listeners[port] = sock
        self._selector.register(sock, selectors.EVENT_READ, data=port)

    def _unlisten(self, port):
        with self._lock:
            sock = self._listeners.pop(port)
        self._selector.unregister(sock)
        sock.close()

    def _accept(self, listener, port):
        if self._listeners.get(port) is not listener:
            return  # closed by a reconcile earlier in this same round of events
        try:
            conn, _address = listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        conn.setblocking(True)  # the listener is non-blocking for the selector; the flow is not
        backend = self._turns.setdefault(port, RoundRobin()).pick(self._routes[port].backends)
        threading.Thread(target=self._forward, args=(conn, backend), name="forward", daemon=True).start()

    def _forward(self, conn, backend):
        host, port = backend
        try:
            upstream = netguard.connect(host, port, self.connect_timeout)
        except (OSError, netguard.ForbiddenAddress) as e:
            log.warning("backend %s:%d: %s; resetting the client", host, port, e)
            reset(conn)
            return
        upstream.settimeout(None)
        splice(conn, upstream)
