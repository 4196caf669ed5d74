"""The traffic meter against the demo app and against servers that misbehave on purpose."""

import json
import os
import subprocess
import sys
import time

import pytest
from clusterhelpers import TcpServer, free_port, random_loopback

from localcluster import netguard, splice
from localcluster.httpget import Record
from localcluster.meter import Meter, summarize

CLUSTER_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))) + "/cluster"


def test_counts_against_demo_app(demo_app):
    app = demo_app(VERSION="v7", ERROR_RATE=0.2)
    started = time.monotonic()
    with Meter(app.url, rps=50, max_requests=50) as m:
        assert m.wait(5)
    s = m.summary
    assert (s["sent"], s["ok"], s["failed"]) == (50, 40, 10)
    assert s["failed_by_kind"] == {"status_500": 10}
    assert s["versions"] == {"v7": 40}
    assert s["last_version"] == "v7"
    assert sum(b["ok"] for b in s["timeline"]) == 40
    # 50 requests at 50 rps start over one second, on schedule
    starts = [r.start for r in m.sorted_records()]
    assert 0.9 < starts[-1] < 1.5
    assert time.monotonic() - started < 3


def test_closed_port_counts_refused():
    host = random_loopback()
    with Meter(f"http://{host}:{free_port(host)}/", rps=100, max_requests=10) as m:
        m.wait(5)
    assert (m.summary["sent"], m.summary["ok"], m.summary["failed"]) == (10, 0, 10)
    assert m.summary["failed_by_kind"] == {"refused": 10}
    assert m.summary["first_failure"] == pytest.approx(0, abs=0.1)


def test_server_that_resets_counts_reset():
    server = TcpServer(lambda conn: (conn.recv(1024), splice.reset(conn)))
    try:
        with Meter(f"http://{server.host}:{server.port}/", rps=100, max_requests=10) as m:
            m.wait(5)
    finally:
        server.close()
    assert m.summary["failed_by_kind"] == {"reset": 10}


def test_hanging_server_times_out_without_slowing_the_rate():
    server = TcpServer(lambda conn: time.sleep(2))
    try:
        with Meter(f"http://{server.host}:{server.port}/", rps=20, timeout=0.5, max_requests=10) as m:
            m.wait(5)
    finally:
        server.close()
    assert m.summary["failed_by_kind"] == {"timeout": 10}
    starts = [r.start for r in m.sorted_records()]
    assert starts == pytest.approx([i / 20 for i in range(10)], abs=0.15)
    assert all(0.45 < r.latency < 0.8 for r in m.records)


def test_non_200_answer_without_json_is_a_status_failure():
    server = TcpServer(lambda conn: (conn.recv(1024), conn.sendall(b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n")))
    try:
        with Meter(f"http://{server.host}:{server.port}/", rps=100, max_requests=3) as m:
            m.wait(5)
    finally:
        server.close()
    assert m.summary["failed_by_kind"] == {"status_503": 3}


def test_stops_by_itself_at_max_duration(demo_app):
    app = demo_app()
    m = Meter(app.url, rps=20, max_duration=0.5).start()
    assert m.wait(3)
    assert m.stop()["sent"] == 10


def test_stop_ends_early(demo_app):
    app = demo_app()
    m = Meter(app.url, rps=20).start()
    time.sleep(0.3)
    summary = m.stop()
    assert 4 <= summary["sent"] <= 9


@pytest.mark.parametrize("url", ["http://10.96.0.1/", "http://10.244.0.5:8080/", "http://example.com/"])
def test_refuses_non_loopback_urls(url):
    with pytest.raises(netguard.ForbiddenAddress):
        Meter(url)


def test_summary_timeline_and_versions_after():
    def rec(start, status=200, version=None, outcome=None):
        return Record(
            start=start, wall=1000 + start, latency=0.01, outcome=outcome or "ok", status=status, version=version
        )

    records = [
        rec(0.1, version="1"),
        rec(0.5, version="1"),
        rec(1.2, None, outcome="refused"),
        rec(1.7, 500, "1", "status_500"),
        rec(2.1, version="2"),
        rec(3.9, version="2"),
    ]
    s = summarize(records)
    assert (s["sent"], s["ok"], s["failed"]) == (6, 4, 2)
    assert s["failed_by_kind"] == {"refused": 1, "status_500": 1}
    assert s["versions"] == {"1": 2, "2": 2}
    assert (s["first_failure"], s["last_failure"], s["last_version"]) == (1.2, 1.7, "2")
    assert s["timeline"] == [
        {"second": 0, "ok": 2, "failed": 0, "versions": {"1": 2}},
        {"second": 1, "ok": 0, "failed": 2, "versions": {}},
        {"second": 2, "ok": 1, "failed": 0, "versions": {"2": 1}},
        {"second": 3, "ok": 1, "failed": 0, "versions": {"2": 1}},
    ]
    m = Meter("http://127.0.0.1:1/")
    m.records = records
    assert m.versions_after(1.0) == {"2": 2}
    assert m.versions_after(0.3) == {"1": 1, "2": 2}


def run_cli(*args):
    env = {**os.environ, "PYTHONPATH": CLUSTER_DIR}
    return subprocess.run(
        [sys.executable, "-m", "localcluster.meter", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_cli_prints_summary_and_writes_records(demo_app, tmp_path):
    app = demo_app(VERSION="3")
    out = tmp_path / "meter.json"
    result = run_cli("--url", app.url, "--rps", "50", "--max-requests", "5", "--json", str(out))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["versions"] == {"3": 5}
    written = json.loads(out.read_text())
    assert written["sent"] == 5
    assert [r["outcome"] for r in written["records"]] == ["ok"] * 5


def test_cli_refuses_non_loopback_url():
    result = run_cli("--url", "http://10.96.0.10:80/", "--max-requests", "1")
    assert result.returncode == 2
    assert "127.0.0.0/8" in result.stderr
