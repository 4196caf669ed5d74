"""Did a component's API client throttle itself?  client-go logs each wait of 1 s or more at -v=1.

with Throttling() as t: ...;  t.result -> {component: {"waits": n, "max_delay_s": x}}
"""

import os
import re

from localcluster import paths

COMPONENTS = ("kube-controller-manager", "kube-scheduler")
_DELAY = re.compile(r'delay="([0-9.]+)s".*client-side throttling')


class Throttling:
    def __enter__(self):
        self.offsets = {c: _size(c) for c in COMPONENTS}
        return self

    def __exit__(self, *exc):
        self.result = {}
        for c in COMPONENTS:
            delays = []
            try:
                with open(_log(c), "rb") as f:
                    f.seek(self.offsets[c])
                    for line in f.read().decode(errors="replace").splitlines():
                        m = _DELAY.search(line)
                        if m:
                            delays.append(float(m.group(1)))
            except FileNotFoundError:
                pass
            self.result[c] = {"waits_over_1s": len(delays), "max_delay_s": round(max(delays), 2) if delays else 0.0}


def _log(component):
    return os.path.join(paths.LOG_DIR, f"{component}.log")


def _size(component):
    try:
        return os.path.getsize(_log(component))
    except OSError:
        return 0
