"""The lock holder's name: an AWX job, or this host's ansible-playbook process with its start time."""

import socket

from ansible_collections.nodowntime.k8s.plugins.lookup import run_identity
from ansible_collections.nodowntime.k8s.plugins.module_utils import lease, process


def test_an_awx_job_is_named_by_its_id():
    assert run_identity.identity({"JOB_ID": "4711"}) == "AWX job 4711"
    assert run_identity.identity({"AWX_JOB_ID": "12"}) == "AWX job 12"


def test_elsewhere_the_identity_names_this_hosts_process_as_the_lock_reads_it():
    named = lease.local_process(run_identity.identity({}), socket.gethostname())
    assert named is not None and named.pid == run_identity.playbook_pid()
    assert named.started == process.start_ticks(named.pid)
    running, started = process.observe(named.pid)
    assert lease.holder_gone(named, running, started) is None
