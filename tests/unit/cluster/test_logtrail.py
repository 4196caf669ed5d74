from localcluster import logtrail

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


def test_only_the_last_lines_are_kept_and_a_missing_log_is_no_error(tmp_path):
    (tmp_path / "kubelet.log").write_text(KUBELET)

    assert logtrail.about("shop-1", tmp_path, limit=1) == [KUBELET.splitlines()[0]]
    assert logtrail.about("shop-1", tmp_path / "nowhere") == []
