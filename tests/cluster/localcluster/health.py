"""Health checks of the control-plane components: on loopback, or inside a cluster's sealed namespace."""

import functools
import http.client
import ssl
import time

from . import netguard


def get(url_host, port, path, tls=None, timeout=2.0, netns=None):
    """Return (status, body) of an HTTP(S) GET, or (None, error text); from inside netns if given."""
    host = netguard.check(url_host, netns)
    try:
        if tls is None:
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
        else:
            conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=tls)
        # http.client opens its socket through this attribute; netguard's opens it in the namespace.
        conn._create_connection = functools.partial(_connect, netns=netns)
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read().decode(errors="replace")
    except (OSError, http.client.HTTPException) as e:
        return None, str(e)


def _connect(address, timeout, source_address=None, *, netns):
    return netguard.connect(*address, timeout, netns=netns)


def client_tls(ca, cert=None, key=None):
    ctx = ssl.create_default_context(cafile=ca)
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


def self_signed_tls():
    # The controller-manager and scheduler serve /healthz on a self-signed cert they
    # make at start; there is nothing to verify it against, and it is loopback-only.
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def wait_ok(what, check, timeout, is_running):
    """Call check() until it returns (True, ...); processes starting up offer no watch."""
    deadline = time.monotonic() + timeout
    detail = ""
    while time.monotonic() < deadline:
        if not is_running():
            raise RuntimeError(f"{what} exited during start-up")
        ok, detail = check()
        if ok:
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} not healthy after {timeout:.0f}s: {detail}")
