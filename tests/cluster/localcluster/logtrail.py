"""What the node and the proxy logged about one namespace, for a failed test's report.

The meter counts failed requests; these lines say why (a probe that failed, a Service left
with 0 ready endpoints). CI keeps no cluster logs once its run is over, so a failure must
carry them.
"""

import os

from . import paths

# The lines that explain failed requests: probes failing, containers ending, endpoints changing.
TELLING = ("probe -> Failure", "will be restarted", "exited", "ready endpoints")
LOGS = ("node.log", "proxy.log")


def about(namespace, log_dir=None, limit=20):
    """The last limit telling lines naming namespace, node and proxy merged in time order."""
    lines = []
    for name in LOGS:
        try:
            with open(os.path.join(log_dir or paths.LOG_DIR, name), errors="replace") as log:
                lines += [line.rstrip() for line in log if f"{namespace}/" in line and any(w in line for w in TELLING)]
        except FileNotFoundError:
            continue
    lines.sort()  # every line starts with the same ISO timestamp
    return lines[-limit:]
