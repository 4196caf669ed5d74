# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nodowntime.k8s.run_identity: who is running this playbook, for the release lock."""

DOCUMENTATION = r"""
name: run_identity
short_description: Who runs this playbook, as a lock holder should be named
version_added: 0.1.0
author: nodowntime maintainers (@nodowntime)
description:
  - Returns C(AWX job <id>) when the environment has E(JOB_ID) or E(AWX_JOB_ID) (AWX and Automation
    Controller set them for every job), otherwise C(<user>@<host> pid <pid> started <ticks>) with the pid
    of the C(ansible-playbook) process and its start time in clock ticks after boot (from
    C(/proc/<pid>/stat); left out where there is no C(/proc)), so an operator can tell whether the holder
    of a lock still runs, and M(nodowntime.k8s.lock) on the same host can see that it died and take its
    lock over at once. The start time tells the process apart from a later one the kernel gave the same pid.
  - The value is the same for every task of one run, which is what releasing a lock needs.
options: {}
seealso:
  - module: nodowntime.k8s.lock
"""

EXAMPLES = r"""
- name: Take the release lock in this run's name
  nodowntime.k8s.lock:
    name: nodowntime-web
    namespace: shop
    holder: "{{ lookup('nodowntime.k8s.run_identity') }}"
"""

RETURN = r"""
_raw:
  description: One string, for example C(AWX job 4711) or C(alice@laptop pid 4242 started 1145816).
  type: list
  elements: str
"""

import getpass
import multiprocessing
import os
import socket

from ansible.plugins.lookup import LookupBase

from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.host_process import start_ticks

JOB_ID_VARIABLES = ("JOB_ID", "AWX_JOB_ID")


def playbook_pid():
    # Lookups run in a worker that ansible-playbook forks per task: its parent is the stable one.
    parent = multiprocessing.parent_process()
    return parent.pid if parent is not None else os.getpid()


def identity(environ):
    for variable in JOB_ID_VARIABLES:
        if environ.get(variable):
            return f"AWX job {environ[variable]}"
    pid = playbook_pid()
    started = start_ticks(pid)
    return f"{getpass.getuser()}@{socket.gethostname()} pid {pid}" + (f" started {started}" if started else "")


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        return [identity(os.environ)]
