"""What the node (and the simulated node's proxy) logged about one namespace, for a failed test's report.

The meter counts failed requests; these lines say why (a probe that failed, a Service left
with 0 ready endpoints). CI keeps no cluster logs once its run is over, so a failure must
carry them.
"""

import os
import re

from . import paths

# The lines that explain failed requests: probes failing, containers ending, endpoints changing; the
# kubelet's words first, then the simulated node's and proxy's.
TELLING = (
    "Probe failed",
    "Killing container",
    "ContainerDied",
    "probe -> Failure",
    "will be restarted",
    "exited",
    "ready endpoints",
)
LOGS = ("kubelet.log", "node.log", "proxy.log")
# klog's prefix: a severity letter, then MMDD hh:mm:ss.us; the time orders lines of any severity.
KLOG = re.compile(r"^[IWEF](\d{4} \d\d:\d\d:\d\d\.\d+)")


def _when(line):
    m = KLOG.match(line)
    return m.group(1) if m else line


def about(namespace, log_dir=None, limit=20):
    """The last limit telling lines naming namespace, node and proxy merged in time order."""
    lines = []
    for name in LOGS:
        try:
            with open(os.path.join(log_dir or paths.LOG_DIR, name), errors="replace") as log:
                lines += [line.rstrip() for line in log if f"{namespace}/" in line and any(w in line for w in TELLING)]
        except FileNotFoundError:
            continue
    lines.sort(key=_when)  # every line starts with a timestamp: ISO, or klog's
    return lines[-limit:]
