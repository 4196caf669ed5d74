"""Run the collection's modules and playbooks the way users do: with the ansible CLIs."""

import json
import os
import subprocess
import sys
import tempfile

from localcluster import paths

BIN = os.path.dirname(sys.executable)


def _env(extra):
    env = dict(
        os.environ,
        K8S_AUTH_KUBECONFIG=paths.ADMIN_KUBECONFIG,
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_DEPRECATION_WARNINGS="0",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
    )
    env.update(extra or {})
    return env


def run_module(module, args, check=False, diff=False, env=None, verbosity=0, timeout=600):
    """One ad-hoc module call on localhost; returns (result dict, full output text)."""
    with tempfile.TemporaryDirectory() as tree:
        argv = [
            os.path.join(BIN, "ansible"),
            "localhost",
            "-c",
            "local",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            "-m",
            f"nodowntime.k8s.{module}",
            "-a",
            json.dumps(args),
            "-t",
            tree,
        ]
        argv += ["-C"] * check + ["-D"] * diff + (["-" + "v" * verbosity] if verbosity else [])
        proc = subprocess.run(argv, env=_env(env), capture_output=True, text=True, timeout=timeout, check=False)
        out = proc.stdout + proc.stderr
        try:
            with open(os.path.join(tree, "localhost")) as f:
                return json.load(f), out
        except FileNotFoundError:
            raise AssertionError(f"no result from {module} (rc {proc.returncode}):\n{out}") from None


def run_playbook(playbook, extra_vars=None, check=False, diff=False, env=None, verbosity=0, timeout=900):
    """ansible-playbook on localhost; returns the CompletedProcess (stdout and stderr joined)."""
    argv = [
        os.path.join(BIN, "ansible-playbook"),
        "-i",
        "localhost,",
        "-c",
        "local",
        "-e",
        f"ansible_python_interpreter={sys.executable}",
        "-e",
        json.dumps(extra_vars or {}),
        playbook,
    ]
    argv += ["-C"] * check + ["-D"] * diff + (["-" + "v" * verbosity] if verbosity else [])
    return subprocess.run(
        argv, env=_env(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout, check=False
    )
