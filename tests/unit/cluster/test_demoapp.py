"""The demo app, run as the node agent runs it: a subprocess configured by env."""

import json
import socket
import time

import pytest
from clusterhelpers import eventually


def test_routes(demo_app):
    app = demo_app(VERSION="7", POD_NAME="web-abc")
    status, body = app.get("/")
    assert (status, json.loads(body)) == (200, {"version": "7", "pod": "web-abc"})
    assert app.get("/healthz") == (200, "ok\n")
    assert app.get("/health") == (200, "ok\n")
    assert app.get("/readyz") == (200, "ok\n")
    assert app.get("/nope")[0] == 404
    app.get("/")
    status, body = app.get("/metrics")
    assert (status, json.loads(body)) == (200, {"requests": 2, "errors": 0, "error_rate": 0.0})


def test_empty_version_and_pod_fall_back_to_dev_and_hostname(demo_app):
    _status, body = demo_app(VERSION="", POD_NAME="").get("/")
    assert json.loads(body)["version"] == "dev"
    assert json.loads(body)["pod"] == socket.gethostname()


def test_startup_seconds_refuses_until_listening(demo_app):
    started = time.monotonic()
    app = demo_app(wait=False, STARTUP_SECONDS=1)
    with pytest.raises(ConnectionRefusedError):
        app.get("/")
    app.wait_log("listening on")
    assert time.monotonic() - started >= 1.0
    assert app.get("/")[0] == 200


def test_ready_after_seconds(demo_app):
    app = demo_app(READY_AFTER_SECONDS=1)
    assert app.get("/readyz")[0] == 503
    assert app.get("/")[0] == 200
    assert app.get("/healthz")[0] == 200
    app.wait_log(r"\bready$")
    assert app.get("/readyz")[0] == 200


def test_fail_readiness_never_ready(demo_app):
    app = demo_app(FAIL_READINESS=1)
    time.sleep(0.3)
    assert app.get("/readyz")[0] == 503
    assert app.get("/")[0] == 200


def test_fail_liveness_after_seconds(demo_app):
    app = demo_app(FAIL_LIVENESS_AFTER_SECONDS=0.5)
    assert app.get("/healthz")[0] == 200
    app.wait_log("liveness now failing")
    assert app.get("/healthz")[0] == 500
    assert app.get("/health")[0] == 500


def test_crash_after_seconds_exits_1(demo_app):
    app = demo_app(CRASH_AFTER_SECONDS=0.3)
    assert app.get("/")[0] == 200
    assert app.proc.wait(5) == 1


def test_error_rate_is_exact(demo_app):
    app = demo_app(ERROR_RATE=0.3)
    statuses = [app.get("/")[0] for _request in range(100)]
    assert statuses.count(500) == 30
    assert set(statuses) == {200, 500}
    assert json.loads(app.get("/metrics")[1]) == {"requests": 100, "errors": 30, "error_rate": 0.3}


def test_sigterm_drains_in_flight_and_exits_0(demo_app):
    app = demo_app(SHUTDOWN_DELAY_SECONDS=0.6)
    in_flight = socket.create_connection((app.host, app.port), timeout=5)
    in_flight.sendall(b"GET / HTTP/1.1\r\n")  # half a request: its handler is busy reading
    time.sleep(0.1)

    app.terminate()
    app.wait_log("SIGTERM received")
    assert app.get("/readyz")[0] == 503  # draining: no longer ready ...
    assert app.get("/")[0] == 200  # ... but still serving during the shutdown delay

    def refused():
        try:
            app.get("/")
        except ConnectionRefusedError:
            return True
        except ConnectionResetError:
            pass  # caught in the backlog as the listener closed: poll again

    eventually(refused, timeout=3)
    assert app.proc.poll() is None  # the listener is closed but the request in flight holds the exit

    in_flight.sendall(b"Host: x\r\nConnection: close\r\n\r\n")
    response = in_flight.makefile("rb").read()
    assert response.startswith(b"HTTP/1.0 200")
    assert app.proc.wait(5) == 0


def test_sigterm_during_startup_exits_0(demo_app):
    app = demo_app(wait=False, STARTUP_SECONDS=30)
    app.wait_log("starting")
    app.terminate()
    assert app.proc.wait(5) == 0


def test_sigterm_without_delay_exits_promptly(demo_app):
    app = demo_app()
    app.terminate()
    assert app.proc.wait(3) == 0
