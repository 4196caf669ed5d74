#!/usr/bin/env python3
"""A Python interpreter for Ansible that measures the module process it runs.

Given as ansible_python_interpreter, it runs the real interpreter (BENCH_PYTHON, else the
venv's python next to the ansible that runs the benchmark) with the same arguments and
stdin, and appends the child's peak RSS (ru_maxrss) and user+system CPU time, from wait4(),
as one JSON line to $BENCH_RUSAGE_FILE.  The module runs inside that child: AnsiballZ
unpacks and runs it in the same process.  This wrapper is a second small Python process
and is not counted.
"""

import json
import os
import sys
import time


def main():
    python = os.environ.get("BENCH_PYTHON") or os.path.join(
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), ".venv", "bin", "python"
    )
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.execv(python, [python, *sys.argv[1:]])
    _pid, status, usage = os.wait4(pid, 0)
    ended = time.monotonic()
    out = os.environ.get("BENCH_RUSAGE_FILE")
    if out:
        with open(out, "a") as f:
            f.write(
                json.dumps(
                    {
                        "argv": sys.argv[1:2],
                        "maxrss_kb": usage.ru_maxrss,
                        "cpu_s": round(usage.ru_utime + usage.ru_stime, 4),
                        "user_s": round(usage.ru_utime, 4),
                        "sys_s": round(usage.ru_stime, 4),
                        "wall_s": round(ended - started, 4),
                        "started": started,
                        "ended": ended,
                    }
                )
                + "\n"
            )
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
