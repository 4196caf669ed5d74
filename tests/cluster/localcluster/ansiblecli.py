"""The ansible CLIs as the tests, the bench and the demo run them: on localhost, over the local
connection, with the Python that runs us (so the collection's dependencies are there)."""

import json
import os
import re
import sys

BIN = os.path.dirname(sys.executable)
# Plain output: tests and the bench search it, and these warnings say nothing about our code.
QUIET = {
    "ANSIBLE_NOCOLOR": "1",
    "ANSIBLE_DEPRECATION_WARNINGS": "0",
    "ANSIBLE_LOCALHOST_WARNING": "0",
    "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
}

# QUIET's warnings back on, as a user's terminal shows them: for the tests that no run warns.
WARNINGS_ON = {key: "1" for key in QUIET if "WARNING" in key}
_WARNING = re.compile(r"^\[(DEPRECATION )?WARNING\]")


def warnings(output):
    """The lines of ansible's output that start a warning or a deprecation warning."""
    return [line for line in output.splitlines() if _WARNING.match(line)]


def env(kubeconfig, extra=None):
    """The process environment: ours, the collection's credentials from kubeconfig, quiet output."""
    return {**os.environ, "K8S_AUTH_KUBECONFIG": kubeconfig, **QUIET, **(extra or {})}


def playbook_argv(playbook, extra_vars, interpreter=sys.executable, inventory=None):
    """On localhost with connection local, or on an inventory (a path) whose hosts say how to reach them."""
    where = ["-i", inventory] if inventory else ["-i", "localhost,", "-c", "local"]
    return [
        os.path.join(BIN, "ansible-playbook"),
        *where,
        "-e",
        f"ansible_python_interpreter={interpreter}",
        "-e",
        json.dumps(extra_vars),
        playbook,
    ]


def module_argv(module, args, tree, interpreter=sys.executable):
    """`ansible localhost -m MODULE -a JSON -t TREE`: the result lands in TREE/localhost."""
    return [
        os.path.join(BIN, "ansible"),
        "localhost",
        "-c",
        "local",
        "-e",
        f"ansible_python_interpreter={interpreter}",
        "-m",
        module,
        "-a",
        json.dumps(args),
        "-t",
        tree,
    ]
