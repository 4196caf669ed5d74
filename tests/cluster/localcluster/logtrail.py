"""What the kubelet logged about one namespace, for a failed test's report.

The meter counts failed requests; these lines say why (a probe that failed, a container killed).
CI keeps no cluster logs once its run is over, so a failure must carry them.
"""

import os
import re

from . import paths

# The kubelet's lines that explain failed requests: probes failing, containers ending.
TELLING = ("Probe failed", "Killing container", "ContainerDied", "will be restarted")
# klog's prefix: a severity letter, then MMDD hh:mm:ss.us; the time orders lines of any severity.
KLOG = re.compile(r"^[IWEF](\d{4} \d\d:\d\d:\d\d\.\d+)")


def _when(line):
    m = KLOG.match(line)
    return m.group(1) if m else line


def about(namespace, log_dir=None, limit=20):
    """The last limit telling lines naming namespace, in time order."""
    try:
        with open(os.path.join(log_dir or paths.LOG_DIR, "kubelet.log"), errors="replace") as log:
            lines = [line.rstrip() for line in log if f"{namespace}/" in line and any(w in line for w in TELLING)]
    except FileNotFoundError:
        return []
    lines.sort(key=_when)  # klog writes lines of different severities out of order
    return lines[-limit:]
