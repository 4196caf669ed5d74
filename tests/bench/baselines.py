"""The tools we compare with, installed for the benchmark only, never into the collection's dependencies.

kubernetes.core: Ansible Galaxy is not reachable from here, so it comes from PyPI inside the
`ansible` community package (which bundles it), installed with --no-deps into its own venv
build/bench/venv.  Only its ansible_collections directory is used: the modules run on the same
ansible-core and Python as ours, so the comparison is of the modules alone.
kubectl: the one built into the cluster's control-plane binary (`<binary> kubectl`), same release.
"""

import fcntl
import glob
import json
import os
import subprocess
import sys

from localcluster import paths

ANSIBLE_PACKAGE = "ansible==12.3.0"  # the community package for ansible-core 2.19; bundles kubernetes.core 6.x
VENV = os.path.join(paths.REPO_ROOT, "build", "bench", "venv")


def kubernetes_core():
    """(collections path holding kubernetes.core, its version); installs it on first use."""
    os.makedirs(os.path.dirname(VENV), exist_ok=True)
    with open(VENV + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # smoke tests in parallel pytest workers install once
        found = _installed()
        if not found:
            print(
                f"[bench] installing {ANSIBLE_PACKAGE} (for kubernetes.core) into {VENV}", file=sys.stderr, flush=True
            )
            subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
            subprocess.run(
                [os.path.join(VENV, "bin", "pip"), "install", "-q", "--no-deps", ANSIBLE_PACKAGE], check=True
            )
            found = _installed()
    if not found:
        raise RuntimeError(f"kubernetes.core not found in {VENV} after installing {ANSIBLE_PACKAGE}")
    return found


def _installed():
    for site in glob.glob(os.path.join(VENV, "lib", "python*", "site-packages")):
        manifest = os.path.join(site, "ansible_collections", "kubernetes", "core", "MANIFEST.json")
        if os.path.exists(manifest):
            with open(manifest) as f:
                return site, json.load(f)["collection_info"]["version"]
    return None


def kubectl(binary):
    """argv prefix for kubectl and its version line."""
    argv = [binary, "kubectl"]
    out = subprocess.run([*argv, "version", "--client"], capture_output=True, text=True, check=False).stdout
    return argv, out.strip().splitlines()[0] if out.strip() else "unknown"
