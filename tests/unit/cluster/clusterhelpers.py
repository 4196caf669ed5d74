"""Helpers for the local cluster's unit tests: demo apps in subprocesses, loopback sockets."""

import contextlib
import os
import random
import re
import signal
import socket
import subprocess
import threading
import time

from localcluster import imagebuild

# A cluster record as cluster.py writes it, for rendering commands without a cluster (settings added by each test).
CLUSTER_INFO = {
    "binary": "/cp",
    "ports": {"apiserver": 6443, "etcd": 2379, "kube-controller-manager": 1, "kube-scheduler": 2},
    "node_port_range": [30000, 30399],
    "netns": "nodowntime-abcd1234",
    "node_binaries": {"tools": "/tools", "images": {}},
    "gateway_binaries": {"traefik": "/cache/traefik", "crds": "/cache/crds"},
}


def free_port(host):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def random_loopback():
    # A host of its own per app: ports picked by free_port cannot collide across apps.
    return f"127.0.{random.randint(1, 254)}.{random.randint(2, 254)}"


def http_get(host, port, path="/", timeout=2.0):
    """(status, body text) over a fresh connection; raises OSError as the socket does."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        raw = b""
        while chunk := s.recv(65536):
            raw += chunk
    head, _blank_line, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode()


class DemoApp:
    def __init__(self, env):
        self.host = random_loopback()
        self.port = free_port(self.host)
        full_env = {**os.environ, "HOST": self.host, "PORT": str(self.port), **{k: str(v) for k, v in env.items()}}
        # The image's own binary (static, cached by imagebuild), run on the host's loopback.
        binary = imagebuild.build()["demo-app"]
        self.proc = subprocess.Popen([binary], env=full_env, stderr=subprocess.PIPE, text=True)
        self.lines = []
        self._cond = threading.Condition()
        threading.Thread(target=self._read_log, daemon=True).start()

    @property
    def url(self):
        return f"http://{self.host}:{self.port}/"

    def _read_log(self):
        for line in self.proc.stderr:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()

    def wait_log(self, pattern, timeout=10.0):
        """The first log line matching pattern; fails the test if none comes in time."""
        with self._cond:
            found = self._cond.wait_for(
                lambda: next((line for line in self.lines if re.search(pattern, line)), None), timeout
            )
        assert found, f"no log line matching {pattern!r} within {timeout}s; log: {self.lines}"
        return found

    def get(self, path="/"):
        return http_get(self.host, self.port, path)

    def terminate(self):
        self.proc.send_signal(signal.SIGTERM)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(5)


class TcpServer:
    """Listens on host:port (port 0 picks one) and runs handle(conn) in a thread per connection."""

    def __init__(self, handle, host=None, port=0):
        self.sock = socket.socket()
        self.sock.bind((host or random_loopback(), port))
        self.sock.listen(64)
        self.host, self.port = self.sock.getsockname()
        self.handle = handle
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _address = self.sock.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        with conn:
            self.handle(conn)

    def close(self):
        # shutdown wakes the blocked accept(); close alone may not.
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


def eventually(check, timeout=5.0, interval=0.05):
    """Poll check() until it returns a truthy value; that value, or a failed assertion."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"{check} still false after {timeout}s"
        time.sleep(interval)
