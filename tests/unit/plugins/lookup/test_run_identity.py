"""The lock holder's name: an AWX job, or this host's ansible-playbook process with its start time."""

import socket

from ansible_collections.nodowntime.k8s.plugins.lookup import run_identity
from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s import host_process
from ansible_collections.nodowntime.k8s.plugins.module_utils._release import lock_decisions


def test_an_awx_job_is_named_by_its_id():
    assert run_identity.identity({"JOB_ID": "4711"}) == "AWX job 4711"
    assert run_identity.identity({"AWX_JOB_ID": "12"}) == "AWX job 12"


def test_elsewhere_the_identity_names_this_hosts_process_as_the_lock_reads_it():
    named = lock_decisions.local_process(run_identity.identity({}), socket.gethostname())
    assert named is not None and named.pid == run_identity.playbook_pid()
    assert named.started == host_process.start_ticks(named.pid)
    running, started = host_process.observe(named.pid)
    assert lock_decisions.holder_gone(named, running, started) is None
