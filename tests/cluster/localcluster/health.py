"""Health checks of the control-plane components, over loopback only."""

import http.client
import ssl
import time

from . import netguard


def get(url_host, port, path, tls=None, timeout=2.0):
    """Return (status, body) of an HTTP(S) GET, or (None, error text)."""
    host = netguard.check_loopback(url_host)
    try:
        if tls is None:
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
        else:
            conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=tls)
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read().decode(errors="replace")
    except (OSError, http.client.HTTPException) as e:
        return None, str(e)


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
