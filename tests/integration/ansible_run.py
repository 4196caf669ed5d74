"""Run the collection's modules and playbooks the way users do: with the ansible CLIs."""

import json
import os
import subprocess
import tempfile

from localcluster import ansiblecli, paths


def _flags(check, diff, verbosity):
    return ["-C"] * check + ["-D"] * diff + (["-" + "v" * verbosity] if verbosity else [])


def run_module(module, args, check=False, diff=False, env=None, verbosity=0, timeout=600):
    """One ad-hoc module call on localhost; returns (result dict, full output text)."""
    with tempfile.TemporaryDirectory() as tree:
        argv = ansiblecli.module_argv(f"nodowntime.k8s.{module}", args, tree)
        argv += _flags(check, diff, verbosity)
        proc = subprocess.run(
            argv,
            env=ansiblecli.env(paths.ADMIN_KUBECONFIG, env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        out = proc.stdout + proc.stderr
        try:
            with open(os.path.join(tree, "localhost")) as f:
                return json.load(f), out
        except FileNotFoundError:
            raise AssertionError(f"no result from {module} (rc {proc.returncode}):\n{out}") from None


def run_playbook(playbook, extra_vars=None, check=False, diff=False, env=None, verbosity=0, timeout=900):
    """ansible-playbook on localhost; returns the CompletedProcess (stdout and stderr joined)."""
    argv = ansiblecli.playbook_argv(playbook, extra_vars or {})
    argv += _flags(check, diff, verbosity)
    return subprocess.run(
        argv,
        env=ansiblecli.env(paths.ADMIN_KUBECONFIG, env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
