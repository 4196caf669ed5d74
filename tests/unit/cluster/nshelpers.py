"""Helpers for tests that need a real, throwaway network namespace (these machines run tests as root)."""

import contextlib
import json
import os
import socket
import threading

from clusterhelpers import TcpServer

from localcluster import netns


@contextlib.contextmanager
def throwaway():
    """A sealed namespace of the tests' own, deleted afterwards whatever happens."""
    name = f"nodowntime-unittest-{os.getpid()}"
    try:
        netns.create(name)
        yield name
    finally:
        netns.delete(name)


class InsideServer(TcpServer):
    """TcpServer listening inside namespace ns; its threads run outside, as the socket needs no more."""

    def __init__(self, ns, handle, host="127.0.0.1", port=0):
        # TcpServer.__init__ would open its socket here, in the host's namespace.
        self.sock = netns.socket_in(ns)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restarted on its old port
        self.sock.bind((host, port))
        self.sock.listen(64)
        self.host, self.port = self.sock.getsockname()
        self.handle = handle
        threading.Thread(target=self._accept, daemon=True).start()


def echo(conn):
    while data := conn.recv(65536):
        conn.sendall(data)


def answer_json(doc):
    """A handler that reads one request and answers 200 with doc as JSON, as the demo app would."""
    body = json.dumps(doc).encode()

    def handle(conn):
        request = b""
        while b"\r\n\r\n" not in request and (chunk := conn.recv(4096)):
            request += chunk
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        conn.sendall(head.encode() + body)
        conn.shutdown(socket.SHUT_WR)

    return handle


def thread_netns():
    """The inode of the calling thread's network namespace."""
    return os.stat("/proc/thread-self/ns/net").st_ino
