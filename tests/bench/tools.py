"""Run each tool the way its users do, as a process, and time it on the host's monotonic clock.

    run = ansible_module("nodowntime.k8s.rollout", {...}, kube)   -> Run
    run = ansible_playbook(path, extra_vars, kube)                -> Run
    run = command([...], kube)                                    -> Run

Run: started, ended (time.monotonic() just before the process is spawned and just after it
is reaped), rc, result (the module's result dict, for ad-hoc runs), output, and usage: the
module process's peak RSS and CPU time when measure=True (see rusage_python.py).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

from localcluster import ansiblecli, paths

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTIONS = os.path.join(paths.REPO_ROOT, "build", "collections")


@dataclass
class Run:
    started: float
    ended: float
    rc: int
    output: str
    result: dict = field(default_factory=dict)
    usage: list = field(default_factory=list)

    @property
    def wall(self):
        return self.ended - self.started

    def check(self, what):
        if self.rc != 0:
            raise RuntimeError(f"{what} failed (rc {self.rc}):\n{self.output[-3000:]}")
        return self


def _env(kube, extra_collections=(), usage_file=None, extra=None):
    env = ansiblecli.env(
        kube.kubeconfig,
        {
            "KUBECONFIG": kube.kubeconfig,
            "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join([COLLECTIONS, *extra_collections]),
            **(extra or {}),
        },
    )
    if usage_file:
        env["BENCH_RUSAGE_FILE"] = usage_file
        env["BENCH_PYTHON"] = sys.executable
    return env


def _interpreter(measure):
    return os.path.join(HERE, "rusage_python.py") if measure else sys.executable


def _usage(path):
    if not path or not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def ansible_module(module, args, kube, extra_collections=(), measure=False, timeout=1800):
    """One ad-hoc module call on localhost, as `ansible localhost -m MODULE -a JSON`."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tree:
        usage_file = os.path.join(tree, "usage.jsonl") if measure else None
        argv = ansiblecli.module_argv(module, args, os.path.join(tree, "out"), _interpreter(measure))
        env = _env(kube, extra_collections, usage_file)
        started = time.monotonic()
        proc = subprocess.run(argv, check=False, env=env, capture_output=True, text=True, timeout=timeout)
        ended = time.monotonic()
        try:
            with open(os.path.join(tree, "out", "localhost")) as f:
                result = json.load(f)
        except FileNotFoundError:
            result = {}
        return Run(started, ended, proc.returncode, proc.stdout + proc.stderr, result, _usage(usage_file))


def ansible_playbook(playbook, extra_vars, kube, measure=False, timeout=1800, env=None):
    """ansible-playbook on localhost; env: more variables for its environment."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tree:
        usage_file = os.path.join(tree, "usage.jsonl") if measure else None
        argv = ansiblecli.playbook_argv(playbook, extra_vars, _interpreter(measure))
        started = time.monotonic()
        proc = subprocess.run(
            argv,
            check=False,
            env=_env(kube, usage_file=usage_file, extra=env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
        ended = time.monotonic()
        return Run(started, ended, proc.returncode, proc.stdout, usage=_usage(usage_file))


def command(argv, kube, timeout=1800):
    started = time.monotonic()
    proc = subprocess.run(argv, check=False, env=_env(kube), capture_output=True, text=True, timeout=timeout)
    ended = time.monotonic()
    return Run(started, ended, proc.returncode, proc.stdout + proc.stderr)


def timeline_time(result, contains):
    """The monotonic time of the first timeline entry of a module result whose message contains the text."""
    for entry in result.get("timeline") or []:
        if contains in entry.get("message", ""):
            return entry.get("monotonic")
    return None
