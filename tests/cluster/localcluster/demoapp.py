"""The demo app the node agent runs for image nodowntime/demo-app:<tag>. Stdlib only.

Routes: GET / -> 200 {"version", "pod"}; /healthz and /health (liveness);
/readyz (readiness, 503 until ready); /metrics -> {"requests", "errors", "error_rate"}.

Env knobs (seconds unless noted; the *_AFTER_* timers count from the moment it listens):
  HOST (127.0.0.1), PORT (8080; 0 picks a free one, the log says which),
  VERSION ("dev" when unset or empty), POD_NAME (the hostname),
  STARTUP_SECONDS              sleep before listening (connections are refused meanwhile)
  READY_AFTER_SECONDS          /readyz answers 503 until this long after listening
  FAIL_READINESS               any non-empty value but 0/false: never ready
  FAIL_LIVENESS_AFTER_SECONDS  /healthz and /health answer 500 from then on
  CRASH_AFTER_SECONDS          the process exits 1 (abruptly, like a crash)
  ERROR_RATE                   fraction of GET / answered 500, spread evenly (exact)
  SHUTDOWN_DELAY_SECONDS       after SIGTERM, keep serving this long before closing

On SIGTERM: /readyz turns 503 (a draining app is not ready), the app keeps serving
for SHUTDOWN_DELAY_SECONDS, then closes its listener, finishes the requests in
flight and exits 0.  One line per lifecycle event goes to stderr.
"""

import json
import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def log(message):
    print(f"{time.strftime('%H:%M:%S')} demoapp[{os.getpid()}]: {message}", file=sys.stderr, flush=True)


def env_seconds(name):
    value = os.environ.get(name, "")
    return float(value) if value else None


def env_flag(name):
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


class ErrorSchedule:
    """Answers request n with an error iff floor(n*rate) grows at n: exactly rate of every run."""

    def __init__(self, rate):
        if not 0 <= rate <= 1:
            raise ValueError(f"ERROR_RATE must be within [0, 1], got {rate}")
        self.rate = rate
        self.requests = 0
        self.errors = 0
        self._lock = threading.Lock()

    def next_fails(self):
        with self._lock:
            self.requests += 1
            fails = int(self.requests * self.rate) > int((self.requests - 1) * self.rate)
            self.errors += fails
            return fails

    def metrics(self):
        with self._lock:
            rate = self.errors / self.requests if self.requests else 0.0
            return {"requests": self.requests, "errors": self.errors, "error_rate": rate}


class App:
    def __init__(self):
        self.version = os.environ.get("VERSION") or "dev"
        self.pod = os.environ.get("POD_NAME") or socket.gethostname()
        self.errors = ErrorSchedule(float(os.environ.get("ERROR_RATE") or 0))
        self.ready_after = env_seconds("READY_AFTER_SECONDS") or 0.0
        self.fail_readiness = env_flag("FAIL_READINESS")
        self.fail_liveness_after = env_seconds("FAIL_LIVENESS_AFTER_SECONDS")
        self.listening_since = None
        self.draining = threading.Event()

    def since_listening(self):
        return time.monotonic() - self.listening_since

    def ready(self):
        return not (self.fail_readiness or self.draining.is_set()) and self.since_listening() >= self.ready_after

    def alive(self):
        return self.fail_liveness_after is None or self.since_listening() < self.fail_liveness_after


class Handler(BaseHTTPRequestHandler):
    app = None  # set by serve()
    timeout = 10  # a client that never finishes its request must not hold up the drain forever

    def do_GET(self):
        app = self.app
        path = self.path.split("?", 1)[0]
        if path == "/":
            if app.errors.next_fails():
                self.reply(500, {"error": "injected", "version": app.version, "pod": app.pod})
            else:
                self.reply(200, {"version": app.version, "pod": app.pod})
        elif path in ("/healthz", "/health"):
            if app.alive():
                self.reply(200, "ok")
            else:
                self.reply(500, "liveness failing")
        elif path == "/readyz":
            if app.ready():
                self.reply(200, "ok")
            else:
                self.reply(503, "not ready")
        elif path == "/metrics":
            self.reply(200, app.errors.metrics())
        else:
            self.reply(404, "not found")

    def reply(self, status, body):
        if isinstance(body, str):
            data, ctype = body.encode() + b"\n", "text/plain"
        else:
            data, ctype = json.dumps(body).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass  # one line per lifecycle event, not per request


class DrainingServer(ThreadingHTTPServer):
    # Non-daemon request threads: server_close() joins them, which is "finish the requests in flight".
    daemon_threads = False
    # socketserver's backlog of 5 overflows when a starved machine runs the accept loop late; the
    # kernel then drops the SYN and the client retries after 1 s, past a probe's 1 s timeout.
    request_queue_size = socket.SOMAXCONN


def log_at(seconds, message, then=None):
    """Log message after seconds (the moment a timed knob takes effect), then run then()."""

    def fire():
        log(message)
        if then:
            then()

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()


STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def serve():
    app = App()
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT") or 8080)
    # Blocked before any thread starts, so every thread inherits the mask and the
    # signal waits for sigwait in this thread: no handler racing the locks it interrupts.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    log(f"starting version={app.version} pod={app.pod}")

    startup = env_seconds("STARTUP_SECONDS")
    if startup and signal.sigtimedwait(STOP_SIGNALS, startup):
        log("stopped during startup; exiting 0")
        return 0

    Handler.app = app
    server = DrainingServer((host, port), Handler)
    app.listening_since = time.monotonic()
    log(f"listening on {host}:{server.server_address[1]}")
    threading.Thread(target=server.serve_forever, name="serve", daemon=True).start()

    if app.fail_readiness:
        log("FAIL_READINESS set: never ready")
    else:
        log_at(app.ready_after, "ready")
    if app.fail_liveness_after is not None:
        log_at(app.fail_liveness_after, "liveness now failing")
    crash_after = env_seconds("CRASH_AFTER_SECONDS")
    if crash_after is not None:
        log_at(crash_after, "crashing (exit 1)", lambda: os._exit(1))

    signum = signal.sigwait(STOP_SIGNALS)
    app.draining.set()
    delay = env_seconds("SHUTDOWN_DELAY_SECONDS") or 0.0
    log(f"{signal.Signals(signum).name} received; serving {delay:g}s more before closing the listener")
    time.sleep(delay)
    server.shutdown()
    server.server_close()
    log("listener closed, requests in flight finished; exiting 0")
    return 0


if __name__ == "__main__":
    sys.exit(serve())
