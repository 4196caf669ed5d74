"""The collection as users get it: built into a tarball, installed from it, and run by FQCN.

The tarball must hold the collection and nothing of the machine it was built on (galaxy.yml's
build_ignore): no local cluster state, virtualenv, build output, caches or tests' scratch.
"""

import os
import subprocess
import tarfile
import textwrap

import pytest
from ansible_run import run_playbook

from localcluster import workloads
from localcluster.ansiblecli import BIN

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Top-level directories and files that must stay out, and names that must not appear anywhere.
NOT_AT_TOP = {".cluster", ".venv", ".ci", ".git", "build", "context"}
NOT_ANYWHERE = {"__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache", ".ansible", "output"}
NOT_SUFFIXES = (".pyc", ".tar.gz")


def _run(*argv, env=None):
    env = dict(os.environ, **(env or {}))
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, f"{' '.join(argv)} failed (rc {proc.returncode}):\n{proc.stdout}{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    out = tmp_path_factory.mktemp("galaxy-build")
    _run(os.path.join(BIN, "ansible-galaxy"), "collection", "build", ROOT, "--output-path", str(out))
    (built,) = out.glob("nodowntime-k8s-*.tar.gz")
    return built


def test_the_tarball_holds_the_collection_and_nothing_of_the_build_machine(tarball):
    with tarfile.open(tarball) as tar:
        names = [m.name for m in tar.getmembers()]
    for required in ("MANIFEST.json", "FILES.json", "meta/runtime.yml", "plugins/modules/rollout.py", "README.md"):
        assert required in names
    leaked = [
        n
        for n in names
        if n.split("/")[0] in NOT_AT_TOP
        or NOT_ANYWHERE.intersection(n.split("/"))
        or n.endswith(NOT_SUFFIXES)
        or n == "changelogs/.plugin-cache.yaml"
    ]
    assert not leaked, f"the tarball carries files of the build machine: {leaked[:20]}"


@pytest.mark.timeout(300)
def test_a_playbook_runs_the_installed_collection_by_fqcn(tarball, kube, namespace, deploy, tmp_path):
    installed = tmp_path / "collections"
    # Only the installed copy is on the collections path: not build/collections (which links the
    # repo, so ansible-galaxy would find the collection "already installed"), and not sys.path,
    # where PYTHONPATH would otherwise put it.
    env = {
        "ANSIBLE_COLLECTIONS_PATH": str(installed),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "PYTHONPATH": "",
    }
    galaxy = os.path.join(BIN, "ansible-galaxy")
    _run(galaxy, "collection", "install", str(tarball), "-p", str(installed), "--offline", env=env)
    module_file = installed / "ansible_collections/nodowntime/k8s/plugins/modules/rollout.py"
    assert module_file.is_file()

    deploy(workloads.deployment("web", workloads.demo_container("1"), replicas=2), service=False)
    playbook = tmp_path / "release.yml"
    playbook.write_text(
        textwrap.dedent(f"""\
        - name: Release version 2 with the installed collection
          hosts: localhost
          gather_facts: false
          tasks:
            - name: Roll out version 2
              nodowntime.k8s.rollout:
                name: web
                namespace: {namespace}
                images:
                  app: localhost:5000/nodowntime/demo-app:2
              register: release

            - name: It completed as a new revision
              ansible.builtin.assert:
                that:
                  - release.outcome == 'complete'
                  - release.revision == release.previous_revision + 1

            - name: Its status reads back as complete
              nodowntime.k8s.rollout:
                name: web
                namespace: {namespace}
                state: status
              register: status

            - name: Nothing changed the second time
              ansible.builtin.assert:
                that:
                  - status.outcome == 'unchanged'
                  - status.message == 'deployment "web" successfully rolled out'
                  - not status.changed
        """)
    )
    proc = run_playbook(str(playbook), env=env, verbosity=3, timeout=240)
    assert proc.returncode == 0, proc.stdout
    assert f"Using module file {module_file}" in proc.stdout, proc.stdout
    assert kube.apps.read_namespaced_deployment("web", namespace).spec.template.spec.containers[0].image == (
        "localhost:5000/nodowntime/demo-app:2"
    )
