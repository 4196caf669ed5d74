# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a wait concludes: done, still waiting, or failed.

Verdict(state, message, reason=None, failing_pods=())
    state         DONE, WAITING or FAILED
    message       one sentence for people (kubectl's own wording where kubectl has one)
    reason        a CamelCase word for playbooks: ProgressDeadlineExceeded, CrashLoopBackOff, ...
    failing_pods  [{pod, container, reason, message, restarts}] behind a fail-fast verdict
done(message), waiting(message), failed(reason, message, failing_pods=())  build one.
"""

from __future__ import annotations

from collections import namedtuple

DONE, WAITING, FAILED = "done", "waiting", "failed"

Verdict = namedtuple("Verdict", "state message reason failing_pods", defaults=(None, ()))


def done(message):
    return Verdict(DONE, message)


def waiting(message):
    return Verdict(WAITING, message)


def failed(reason, message, failing_pods=()):
    return Verdict(FAILED, message, reason, tuple(failing_pods))
