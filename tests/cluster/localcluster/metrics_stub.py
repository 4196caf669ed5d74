"""A metrics endpoint on 127.0.0.1 answering a fixed JSON body: an analysis gate's provider in tests and the bench.

    with MetricsStub({"error_rate": 0.3}) as stub:
        ... nodowntime.k8s.analysis url=stub.url ...
        stub.sent  -> [time.monotonic() as each answer was sent], the moment a gate's verdict became visible

The gate judges this, not the app's own answers, so a failing gate costs no failed request.
"""

import http.server
import json
import threading
import time


class MetricsStub:
    def __init__(self, body):
        payload = json.dumps(body).encode()
        sent = self.sent = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                self.wfile.flush()
                sent.append(time.monotonic())

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/metrics"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
