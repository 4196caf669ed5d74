"""Pump bytes both ways between two connected sockets, as a NAT'd TCP flow would carry them.

An EOF is passed on as a half-close (the other direction keeps flowing); a reset or
error on either side becomes a reset on both.
"""

import contextlib
import socket
import struct
import threading

BUFFER = 65536
_RST_ON_CLOSE = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST


def reset(sock):
    """Close sock with a TCP reset rather than a FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RST_ON_CLOSE)
    sock.close()


def splice(a, b):
    """Carry bytes between a and b until both directions have ended; closes both."""
    flow = _Flow(a, b)
    other = threading.Thread(target=flow.pump, args=(b, a), name="splice", daemon=True)
    other.start()
    flow.pump(a, b)
    other.join()
    a.close()
    b.close()


class _Flow:
    def __init__(self, a, b):
        self.socks = (a, b)
        self.aborted = False

    def pump(self, src, dst):
        try:
            while True:
                data = src.recv(BUFFER)
                if not data:
                    break
                dst.sendall(data)
            if not self.aborted:
                dst.shutdown(socket.SHUT_WR)
        except OSError:
            self.abort()

    def abort(self):
        # SHUT_RD wakes the other pump's recv without sending anything; the final
        # close() then sends RST on both sides, because linger is 0.
        self.aborted = True
        for sock in self.socks:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RST_ON_CLOSE)
                sock.shutdown(socket.SHUT_RD)
            except OSError:
                pass
