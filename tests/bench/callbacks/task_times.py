"""A callback that writes when each task of a playbook run began and ended (time.monotonic(), the bench's
one clock) to the JSON file BENCH_TASK_TIMES names: where a run's time goes, task by task."""

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: task_times
type: aggregate
short_description: each task's start and end on time.monotonic(), written to $BENCH_TASK_TIMES
description: for tests/bench/m_overhead.py; not part of the collection
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_times"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._loaded = time.monotonic()
        self._tasks = []

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._tasks.append({"name": task.get_name(), "action": task.action, "start": time.monotonic(), "end": None})

    def _ended(self, result, status):
        if self._tasks:
            self._tasks[-1].update(end=time.monotonic(), status=status)

    def v2_runner_on_ok(self, result):
        self._ended(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._ended(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._ended(result, "skipped")

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("BENCH_TASK_TIMES")
        if path:
            with open(path, "w") as out:
                json.dump({"loaded": self._loaded, "stats": time.monotonic(), "tasks": self._tasks}, out)
