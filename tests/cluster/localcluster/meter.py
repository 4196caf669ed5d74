"""Traffic meter: GET / at a steady rate, each on a new TCP connection, every outcome recorded.

Library:
    with Meter("http://127.0.0.1:30080/", rps=50) as m:
        ...                      # roll something out; m.elapsed() marks moments
    m.summary, m.records, m.versions_after(t)

or m = Meter(...); m.start(); ...; summary = m.stop().  The meter always ends by
itself: after max_duration seconds or max_requests requests, whichever comes first.
Meter("http://10.250.0.1:30080/", netns=NAME) sends from inside a real-node cluster's
network namespace, where its node IP, pod IPs and ClusterIPs exist.

CLI:
    python -m localcluster.meter --url http://127.0.0.1:PORT/ --rps 50 --duration 30 \
        [--max-requests N] [--timeout 2] [--json out.json] [--netns NAME]
prints the summary as JSON; --json also writes it, with every record, to a file.
"""

import argparse
import datetime
import json
import math
import signal
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from . import httpget, netguard

# The demo app answers in milliseconds; a request still unanswered after this long is an outage.
# Shorter timeouts counted the test machine's own CPU starvation (2 cores, tests side by side)
# as failed requests.
DEFAULT_TIMEOUT = 5.0


class Meter:
    def __init__(self, url, rps=50, timeout=DEFAULT_TIMEOUT, max_duration=120, max_requests=None, netns=None):
        parts = urlsplit(url)
        if parts.scheme != "http":
            raise ValueError(f"only http:// URLs are metered, got {url!r}")
        self.host = netguard.check(parts.hostname or "", netns)
        self.netns = netns
        self.port = parts.port or 80
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.url, self.rps, self.timeout = url, rps, timeout
        self.max_duration, self.max_requests = max_duration, max_requests
        self.records = []  # appended as requests finish; summary() sorts by start
        self.summary = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._scheduler = None
        # Enough workers for every request of one timeout window, so even a backend that
        # hangs cannot slow the rate; the pool only grows that far when requests pile up.
        self._pool = ThreadPoolExecutor(max_workers=math.ceil(rps * timeout) + 2, thread_name_prefix="meter")

    def start(self):
        self._t0 = time.monotonic()
        self._wall0 = time.time()
        self._scheduler = threading.Thread(target=self._schedule, name="meter-schedule", daemon=True)
        self._scheduler.start()
        return self

    def elapsed(self):
        """Seconds since start, on the clock the records' start times use."""
        return time.monotonic() - self._t0

    def wait(self, timeout=None):
        """Block until the meter's own bound (duration or count) ends the sending; True if it has."""
        self._scheduler.join(timeout)
        return not self._scheduler.is_alive()

    def stop(self):
        """Stop sending, wait for the requests in flight (each bounded by timeout), summarize."""
        self._stopping.set()
        self._scheduler.join()
        self._pool.shutdown(wait=True)
        self.summary = self.summarize()
        return self.summary

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _schedule(self):
        # Request i is due at t0 + i/rps: a late wake-up sends at once rather than
        # pushing every later request back, so the rate does not drift.
        i = 0
        while self.max_requests is None or i < self.max_requests:
            due = i / self.rps
            if due >= self.max_duration:
                return
            if self._stopping.wait(max(0.0, self._t0 + due - time.monotonic())):
                return
            self._pool.submit(self._one)
            i += 1

    def _one(self):
        start = time.monotonic()
        outcome, status, (version, pod), error = httpget.get(
            self.host, self.port, self.path, self.timeout, netns=self.netns
        )
        record = httpget.Record(
            start=start - self._t0,
            wall=self._wall0 + (start - self._t0),
            latency=time.monotonic() - start,
            outcome=outcome,
            status=status,
            version=version,
            pod=pod,
            error=error,
        )
        with self._lock:
            self.records.append(record)

    def sorted_records(self):
        with self._lock:
            return sorted(self.records, key=lambda r: r.start)

    def versions_after(self, t):
        """{version: count} over the successful requests started at or after t (see elapsed())."""
        return dict(Counter(r.version for r in self.sorted_records() if r.ok and r.start >= t))

    def summarize(self):
        # The URL alone does not say which cluster a 10.x address was in.
        where = {"netns": self.netns} if self.netns else {}
        return summarize(self.sorted_records(), url=self.url, rps=self.rps, started=self._wall0, **where)


def summarize(records, **meta):
    """The summary of records sorted by start; meta (url, rps, started) is copied in."""
    failures = [r for r in records if not r.ok]
    ok = [r for r in records if r.ok]
    latencies = sorted(r.latency for r in records)
    timeline = []
    for r in records:
        second = int(r.start)
        while len(timeline) <= second:
            timeline.append({"second": len(timeline), "ok": 0, "failed": 0, "versions": {}})
        bucket = timeline[second]
        if r.ok:
            bucket["ok"] += 1
            bucket["versions"][r.version] = bucket["versions"].get(r.version, 0) + 1
        else:
            bucket["failed"] += 1
    return {
        **meta,
        "sent": len(records),
        "ok": len(ok),
        "failed": len(failures),
        "failed_by_kind": dict(Counter(r.outcome for r in failures)),
        "versions": dict(Counter(r.version for r in ok)),
        # What a failed assertion needs to say why: when, how, and the error's own words.
        "failure_samples": [
            {
                "start": round(r.start, 3),
                # The wall clock, to the microsecond, as the kubelet's and kube-proxy's log lines have it.
                "at": datetime.datetime.fromtimestamp(r.wall, datetime.UTC).strftime("%H:%M:%S.%f"),
                "outcome": r.outcome,
                "latency": round(r.latency, 3),
                "error": r.error,
            }
            for r in failures[:10]
        ],
        "first_failure": failures[0].start if failures else None,
        "last_failure": failures[-1].start if failures else None,
        "last_version": ok[-1].version if ok else None,
        "latency": {
            "p50": _percentile(latencies, 0.50),
            "p99": _percentile(latencies, 0.99),
            "max": latencies[-1] if latencies else None,
        },
        "timeline": timeline,
    }


def _percentile(values, q):
    return values[min(len(values) - 1, int(q * len(values)))] if values else None


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m localcluster.meter", description=__doc__.split("\n", maxsplit=1)[0]
    )
    parser.add_argument("--url", required=True, help="http://127.x.y.z:PORT/ (loopback only, unless --netns)")
    parser.add_argument("--netns", help="send from inside this cluster namespace (node IP, pod and Service IPs)")
    parser.add_argument("--rps", type=float, default=50)
    parser.add_argument("--duration", type=float, default=30, help="seconds of sending")
    parser.add_argument("--max-requests", type=int)
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="per request, connect included")
    parser.add_argument("--json", metavar="FILE", help="also write the summary and every record here")
    args = parser.parse_args(argv)

    try:
        meter = Meter(
            args.url,
            rps=args.rps,
            timeout=args.timeout,
            max_duration=args.duration,
            max_requests=args.max_requests,
            netns=args.netns,
        )
    except ValueError as e:  # a bad URL, or one the network rule forbids
        parser.error(str(e))
    # Ctrl-C or SIGTERM ends the run early but still prints what was measured.
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    meter.start()
    while not stop.is_set() and not meter.wait(0.2):
        pass
    summary = meter.stop()
    print(json.dumps(summary, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({**summary, "records": [r.to_dict() for r in meter.sorted_records()]}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
