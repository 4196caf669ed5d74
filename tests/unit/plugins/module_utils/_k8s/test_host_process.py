"""Whether a lock holder's process still runs: /proc/<pid>/stat, parsed and read."""

import os
import subprocess
import sys

from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s import host_process

# A command name with a space and a ')' must not shift the fields.
STAT = "4242 (ansible) play) S 1 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 1145816 3133440 417 1844 9"


def test_stat_gives_the_state_and_the_start_after_the_command_name():
    assert host_process.parse_stat(STAT) == ("S", "1145816")


def test_this_process_runs_and_its_start_is_stable():
    running, started = host_process.observe(os.getpid())
    assert running and started == host_process.start_ticks(os.getpid())
    assert started.isdigit()  # the suite runs on Linux, which has /proc


def test_an_ended_process_does_not_run_even_before_it_is_reaped():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # it has exited, and is a zombie until reaped
    assert host_process.observe(child.pid)[0] is False
    child.wait()
    assert host_process.observe(child.pid) == (False, None)
