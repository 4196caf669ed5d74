from localcluster import logtrail

NODE = """\
2026-11-27T21:06:26.549 INFO pod: shop-1/web-a: container app readiness probe -> Failure (timed out)
2026-11-27T21:06:26.600 INFO pod: shop-1/web-a: container app readiness probe -> Success
2026-11-27T21:06:27.000 INFO pod: other/web-b: container app readiness probe -> Failure (timed out)
2026-11-27T21:06:29.000 INFO pod: shop-1/web-a: container app exited 0 (Completed)
"""
PROXY = """\
2026-11-27T21:06:27.752 proxy: shop-1/web:http nodePort 31730: 0 ready endpoints, refusing connections
2026-11-27T21:06:28.205 proxy: shop-10/web:http nodePort 31731: 0 ready endpoints, refusing connections
2026-11-27T21:06:28.300 proxy: backend 127.244.0.1:8080: timed out; resetting the client
"""


def _logs(tmp_path):
    (tmp_path / "node.log").write_text(NODE)
    (tmp_path / "proxy.log").write_text(PROXY)
    return tmp_path


def test_the_namespace_telling_lines_of_both_logs_in_time_order(tmp_path):
    lines = logtrail.about("shop-1", _logs(tmp_path))

    assert [line[11:23] for line in lines] == ["21:06:26.549", "21:06:27.752", "21:06:29.000"]
    assert "Success" not in "".join(lines) and "shop-10" not in "".join(lines)


def test_only_the_last_lines_are_kept_and_a_missing_log_is_no_error(tmp_path):
    (tmp_path / "node.log").write_text(NODE)

    assert logtrail.about("shop-1", tmp_path, limit=1) == [NODE.splitlines()[3]]
    assert logtrail.about("shop-1", tmp_path / "nowhere") == []


KUBELET = """\
I1204 16:12:31.014257   12764 prober.go:123] "Probe failed" probeType="Readiness" pod="shop-1/web-a" output="refused"
I1204 16:12:31.100000   12764 kubelet.go:2760] "SyncLoop ADD" source="api" pods=["shop-1/web-b"]
E1204 16:12:30.500000   12764 kuberuntime_container.go:900] "Killing container with a grace period" pod="shop-1/web-c"
I1204 16:12:32.000000   12764 prober.go:123] "Probe failed" probeType="Readiness" pod="shop-10/web-a" output="x"
"""


def test_the_kubelets_lines_are_ordered_by_time_whatever_their_severity(tmp_path):
    (tmp_path / "kubelet.log").write_text(KUBELET)

    lines = logtrail.about("shop-1", tmp_path)

    assert [line[:21] for line in lines] == ["E1204 16:12:30.500000", "I1204 16:12:31.014257"]
