"""The execution environment for AWX: ansible-builder makes a build context (no container engine
needed for that), and the installed collection declares what an EE must add for it."""

import os
import shutil
import subprocess

import yaml

from localcluster.ansiblecli import BIN

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run(*argv, cwd=None, env=None):
    proc = subprocess.run(
        argv, cwd=cwd, env=dict(os.environ, **(env or {})), capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, f"{' '.join(argv)} failed (rc {proc.returncode}):\n{proc.stdout}{proc.stderr}"
    return proc.stdout


def _tarball(dest_dir):
    """`make ee-context`'s first step: the collection tarball under the name the EE file expects."""
    os.makedirs(dest_dir)
    _run(os.path.join(BIN, "ansible-galaxy"), "collection", "build", ROOT, "--output-path", str(dest_dir))
    (built,) = [name for name in os.listdir(dest_dir) if name.endswith(".tar.gz")]
    path = dest_dir / "nodowntime-k8s.tar.gz"
    os.rename(dest_dir / built, path)
    return path


def test_ansible_builder_create_makes_a_build_context_with_the_collection(tmp_path):
    # A copy of the EE file, so the tarball it names and the context stay out of the work tree.
    shutil.copy(os.path.join(ROOT, "execution-environment.yml"), tmp_path)
    tarball = _tarball(tmp_path / "build" / "ee")
    context = tmp_path / "context"

    _run(
        os.path.join(BIN, "ansible-builder"),
        "create",
        "-f",
        str(tmp_path / "execution-environment.yml"),
        "-c",
        str(context),
        "--output-filename",
        "Containerfile",
    )

    containerfile = (context / "Containerfile").read_text()
    assert "FROM base AS galaxy" in containerfile and "COPY _build/nodowntime/ /tmp/nodowntime/" in containerfile
    assert "ansible-core==2.19.14" in containerfile
    assert (context / "_build/nodowntime/nodowntime-k8s.tar.gz").read_bytes() == tarball.read_bytes()
    requirements = yaml.safe_load((context / "_build/requirements.yml").read_text())
    assert requirements == {"collections": [{"name": "/tmp/nodowntime/nodowntime-k8s.tar.gz", "type": "file"}]}
    for script in ("introspect.py", "assemble", "install-from-bindep", "entrypoint"):
        assert (context / "_build/scripts" / script).is_file()


def test_the_installed_collection_tells_ansible_builder_its_python_and_system_needs(tmp_path):
    tarball = _tarball(tmp_path / "dist")
    installed = tmp_path / "collections"
    # Nothing else may hold nodowntime.k8s, or ansible-galaxy finds it "already installed".
    env = {"ANSIBLE_COLLECTIONS_PATH": str(installed), "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false", "PYTHONPATH": ""}
    galaxy = os.path.join(BIN, "ansible-galaxy")
    _run(galaxy, "collection", "install", str(tarball), "-p", str(installed), "--offline", env=env)
    assert (installed / "ansible_collections/nodowntime/k8s/meta/execution-environment.yml").is_file()

    # What the EE's builder stage runs on /usr/share/ansible/collections.
    found = yaml.safe_load(_run(os.path.join(BIN, "ansible-builder"), "introspect", str(installed)))

    with open(os.path.join(ROOT, "requirements.txt")) as f:
        wanted = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    assert found["python"] == [f"{name}  # from collection nodowntime.k8s" for name in wanted]
    assert found["system"] == []  # bindep.txt: the modules need no system package
