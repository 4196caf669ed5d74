"""Container processes: identity by pid + start time, exit codes through the wrapper, kill_recorded."""

import os
import signal
import threading
import time

import pytest

from localcluster.node import runtime


def wait_for(pred, timeout=5):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def reaper():
    r = runtime.Reaper()
    r.start()
    return r


def spawn(tmp_path, script, name="c"):
    env = {"PATH": os.environ["PATH"]}
    return runtime.spawn(["sh", "-c", script], env, str(tmp_path / f"{name}.log"), str(tmp_path / f"{name}.exit"))


def test_exit_code_of_child(tmp_path, reaper):
    proc = spawn(tmp_path, "exit 3")
    done = threading.Event()
    reaper.watch(proc, lambda p: done.set())
    assert done.wait(5)
    assert proc.exited and proc.exit_code == 3
    assert not os.path.exists(tmp_path / "c.exit")


def test_sigterm_reaches_the_command_and_exit_code_is_128_plus_signal(tmp_path, reaper):
    proc = spawn(tmp_path, "sleep 30")
    done = threading.Event()
    reaper.watch(proc, lambda p: done.set())
    time.sleep(0.2)
    proc.signal_group(signal.SIGTERM)
    assert done.wait(5)
    assert proc.exit_code == 128 + signal.SIGTERM


def test_adopted_process_exit_code_comes_from_the_exit_file(tmp_path, reaper):
    child = spawn(tmp_path, "sleep 0.5; exit 7")
    adopted = runtime.adopt(child.pid, child.start_ticks, child.exit_file)
    assert adopted is not None and adopted.adopted
    done = threading.Event()
    reaper.watch(adopted, lambda p: done.set())
    assert done.wait(5)
    assert adopted.exit_code == 7
    child.popen.wait()


def test_adopt_refuses_a_different_start_time(tmp_path):
    proc = spawn(tmp_path, "sleep 30")
    try:
        assert runtime.adopt(proc.pid, proc.start_ticks + 1) is None
        assert runtime.adopt(proc.pid, proc.start_ticks) is not None
    finally:
        proc.signal_group(signal.SIGKILL)
        proc.popen.wait()


def test_spawn_of_a_missing_program_raises(tmp_path):
    with pytest.raises(OSError):
        runtime.spawn(["no-such-program-xyz"], {"PATH": "/usr/bin:/bin"}, str(tmp_path / "l"), str(tmp_path / "e"))


def test_kill_recorded_kills_only_matching_identities(tmp_path):
    state = str(tmp_path / "state")
    ours = spawn(tmp_path, "sleep 30", "ours")
    other = spawn(tmp_path, "sleep 30", "other")
    try:
        runtime.write_record(state, "uid1", "app", {"pid": ours.pid, "start_ticks": ours.start_ticks})
        # A record whose start time does not match (a recycled pid) must be left alone.
        runtime.write_record(state, "uid2", "app", {"pid": other.pid, "start_ticks": other.start_ticks + 5})
        runtime.write_record(state, "uid3", "pause", {"pid": None, "container_id": "x"})
        assert runtime.kill_recorded(state) == 1
        assert wait_for(lambda: ours.popen.poll() is not None)
        assert ours.popen.returncode == -signal.SIGKILL
        assert other.popen.poll() is None
        assert sorted(runtime.recorded_pod_uids(state)) == ["uid1", "uid2", "uid3"]
    finally:
        for p in (ours, other):
            if p.popen.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.popen.wait()


def test_records_round_trip(tmp_path):
    state = str(tmp_path)
    runtime.write_record(state, "u", "app", {"pid": 1, "start_ticks": 2})
    assert runtime.read_record(state, "u", "app") == {"pid": 1, "start_ticks": 2}
    runtime.remove_record(state, "u", "app")
    assert runtime.read_record(state, "u", "app") is None
    runtime.remove_pod_dir(state, "u")
    assert runtime.recorded_pod_uids(state) == []
