"""One GET on a fresh TCP connection, with its outcome classified for the meter.

The connection is on loopback, or inside a cluster's network namespace (netns=NAME).

Outcomes: "ok" (status 200), "status_<code>" for any other status, or an error kind:
  refused  the connection was refused (nothing listening, or a REJECT-like proxy)
  reset    reset, or closed before a complete response arrived
  timeout  no complete response within the timeout (connect included)
  other    anything else (an unparsable response, an unexpected socket error)
"""

import json
import time
from dataclasses import asdict, dataclass

from . import netguard


@dataclass
class Record:
    start: float  # seconds since the meter started (monotonic clock)
    wall: float  # the same moment as a Unix timestamp
    latency: float  # seconds from before connect to the end of the response or error
    outcome: str
    status: int = None
    version: str = None
    pod: str = None  # the pod that answered, as the demo app reports it
    error: str = None  # detail of an error outcome, for the curious

    @property
    def ok(self):
        return self.status == 200

    def to_dict(self):
        return asdict(self)


class _Incomplete(Exception):
    pass


def get(host, port, path, timeout, netns=None):
    """GET path from host:port (from inside netns if given); returns (outcome, status, (version, pod), error)."""
    deadline = time.monotonic() + timeout
    try:
        with netguard.connect(host, port, timeout, netns=netns) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
            raw = _read_all(sock, deadline)
        status, body = _parse(raw)
    except ConnectionRefusedError as e:
        return "refused", None, (None, None), str(e)
    except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError, _Incomplete) as e:
        return "reset", None, (None, None), str(e) or type(e).__name__
    except TimeoutError as e:
        return "timeout", None, (None, None), str(e) or "timed out"
    except (OSError, ValueError) as e:
        return "other", None, (None, None), f"{type(e).__name__}: {e}"
    return ("ok" if status == 200 else f"status_{status}"), status, _served_by(body), None


def _read_all(sock, deadline):
    # Connection: close makes the server's EOF the end of the response.
    chunks = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("timed out reading the response")
        sock.settimeout(remaining)
        data = sock.recv(65536)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


def _parse(raw):
    if not raw:
        raise _Incomplete("closed without a response")
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise _Incomplete("closed inside the response headers")
    lines = head.decode("iso-8859-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ValueError(f"not an HTTP status line: {lines[0]!r}")
    for line in lines[1:]:
        name, _colon, value = line.partition(":")
        if name.strip().lower() == "content-length" and len(body) < int(value):
            raise _Incomplete(f"closed after {len(body)} of {int(value)} body bytes")
    return int(parts[1]), body


def _served_by(body):
    """(version, pod) from the demo app's JSON answer; None for what it does not say."""
    try:
        doc = json.loads(body)
    except ValueError:
        return None, None
    if not isinstance(doc, dict):
        return None, None
    return tuple(None if doc.get(k) is None else str(doc[k]) for k in ("version", "pod"))
