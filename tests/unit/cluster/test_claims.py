"""Two clusters on one machine never share a NodePort window."""

import json
import random

import pytest

from localcluster import claims


def _anywhere(_start, _stop):
    return True


def test_a_window_overlaps_no_held_one_and_stays_in_the_api_range():
    held = [(30000, 30199), (30800, 30999), (32000, 32199)]
    for seed in range(200):
        first, last = claims.pick_window(held, random.Random(seed), _anywhere)
        assert last - first + 1 == claims.NODE_PORT_SPAN
        assert claims.NODE_PORTS[0] <= first and last <= claims.NODE_PORTS[1]
        assert all(last < a or first > b for a, b in held), (first, last)


def test_a_window_with_a_port_held_by_another_program_is_passed_over():
    busy = 31000

    def bindable(start, stop):
        return not start <= busy < stop

    for seed in range(50):
        first, last = claims.pick_window([], random.Random(seed), bindable)
        assert not first <= busy <= last


def test_windows_pack_the_range_one_after_another():
    held, rng = [], random.Random(7)
    while (window := claims.pick_window(held, rng, _anywhere)) is not None:
        held.append(tuple(window))
    assert len(held) == (claims.NODE_PORTS[1] - claims.NODE_PORTS[0] + 1) // claims.NODE_PORT_SPAN


def test_no_window_when_the_held_ones_cover_the_range():
    held = [(base, base + claims.NODE_PORT_SPAN - 1) for base in range(30000, 32768, 300)]
    assert claims.pick_window(held, random.Random(1), _anywhere) is None


@pytest.mark.parametrize(
    "processes, age, alive, expected",
    [
        ({"etcd": {"pid": 1}}, 9999, True, True),  # running
        ({"etcd": {"pid": 1}}, 1, False, False),  # died without `down`
        ({}, 10, False, True),  # `up` is starting it
        ({}, claims.STARTING_SECONDS + 1, False, False),  # an `up` that died before its first process
    ],
)
def test_a_claim_lives_while_its_cluster_does(processes, age, alive, expected):
    assert claims.live({"processes": processes}, age, alive=lambda _rec: alive) is expected


def _cluster(state_dir, window, pid):
    state_dir.mkdir()
    info = {
        "kubeconfig": str(state_dir / "kubeconfig"),
        "node_port_range": window,
        "processes": {"etcd": {"pid": pid, "start_ticks": None}},
    }
    (state_dir / "cluster.json").write_text(json.dumps(info))
    return str(state_dir)


def test_claiming_avoids_live_clusters_and_forgets_dead_ones(tmp_path, monkeypatch):
    monkeypatch.setattr(claims, "INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setattr(claims, "live", lambda info, _age: info["processes"]["etcd"]["pid"] == 1)
    monkeypatch.setattr(claims, "_bindable", _anywhere)
    dead_dir = _cluster(tmp_path / "dead", [31000, 31399], pid=2)
    live_dir = _cluster(tmp_path / "live", [30400, 30799], pid=1)
    for state_dir in (dead_dir, live_dir):
        with claims.claiming(state_dir):
            pass  # each registers itself in the index

    windows = []
    for seed in range(30):
        with claims.claiming(str(tmp_path / "new"), random.Random(seed)) as window:
            assert window[1] < 30400 or window[0] > 30799, window
            windows.append(window)
    assert any(first <= 31399 and last >= 31000 for first, last in windows), "the dead cluster's window stayed held"

    entries = sorted(str(p) for p in (tmp_path / "index").iterdir() if p.suffix == ".dir")
    assert entries == sorted(claims.entry_path(d) for d in (live_dir, str(tmp_path / "new")))


def test_a_smaller_window_fits_where_the_default_does_not():
    held = [(base, base + claims.NODE_PORT_SPAN - 1) for base in range(30000, 32768, claims.NODE_PORT_SPAN + 30)]
    assert claims.pick_window(held, random.Random(1), _anywhere) is None
    first, last = claims.pick_window(held, random.Random(1), _anywhere, span=20)
    assert last - first + 1 == 20 and all(last < f or first > la for f, la in held)
