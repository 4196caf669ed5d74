# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A task's record of what happened when, returned to the user as `timeline`.

    timeline = Timeline(log=module.log)
    timeline.add("patched: revision 3")
    timeline.entries  -> [{"elapsed": 0.0, "monotonic": 1234.5, "message": "..."}]

elapsed counts seconds from the task's start; monotonic is the host's CLOCK_MONOTONIC, so
an observer on the same host can line entries up with its own measurements.
Ansible shows nothing until a task ends, so each entry also goes to log (module.log puts
it in the managed host's journal) for anyone following a long rollout live.
"""

from __future__ import annotations

import time


class Timeline:
    def __init__(self, log=None):
        self.start = time.monotonic()
        self.entries = []
        self._log = log

    def elapsed(self):
        return time.monotonic() - self.start

    def add(self, message):
        now = time.monotonic()
        entry = {"elapsed": round(now - self.start, 3), "monotonic": round(now, 6), "message": message}
        self.entries.append(entry)
        if self._log:
            self._log(f"[{entry['elapsed']:8.3f}s] {message}")
        return entry
