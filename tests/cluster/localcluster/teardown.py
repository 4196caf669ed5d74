"""Leave nothing of the real node behind: pod sandboxes, shims, mounts and cgroups.

Each step works from what the cluster owns by name (its containerd socket, its state directory,
its cgroup root), so clusters side by side never touch each other, and each step also works
after a start that failed half-way (where there is nothing, it does nothing).
"""

import contextlib
import os
import shutil
import signal
import subprocess
import time

CGROUP_V1 = "/sys/fs/cgroup"


def remove_sandboxes(crictl, endpoint, timeout=60):
    """Stop and remove every pod sandbox through the CRI, so containerd tears down their networks."""
    if not os.path.exists(endpoint.removeprefix("unix://")):
        return
    argv = [crictl, f"--runtime-endpoint={endpoint}", f"--timeout={timeout}s"]
    subprocess.run([*argv, "rmp", "--all", "--force"], capture_output=True, timeout=timeout + 10, check=False)


def _pids_with_arg(needle):
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError), open(f"/proc/{entry}/cmdline", "rb") as f:
            if needle.encode() in f.read().split(b"\0"):
                yield int(entry)


def cgroup_dirs(root):
    """The cgroup root's directory in every v1 hierarchy that has it (a v2 mount has one)."""
    if not os.path.isdir(CGROUP_V1):
        return []
    dirs = [os.path.join(CGROUP_V1, h, root.lstrip("/")) for h in sorted(os.listdir(CGROUP_V1))]
    return [d for d in dirs if os.path.isdir(d)]


def _pids_in(cgroup_dir):
    pids = set()
    for here, _dirs, files in os.walk(cgroup_dir):
        if "cgroup.procs" in files:
            with contextlib.suppress(OSError), open(os.path.join(here, "cgroup.procs")) as f:
                pids.update(int(line) for line in f if line.strip())
    return pids


def kill_leftovers(containerd_socket, cgroup_root, grace=5.0):
    """SIGKILL the shims of this containerd and every process left in the cluster's cgroups."""
    pids = set(_pids_with_arg(containerd_socket))
    for d in cgroup_dirs(cgroup_root):
        pids |= _pids_in(d)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + grace
    while pids and time.monotonic() < deadline:
        pids = {p for p in pids if os.path.exists(f"/proc/{p}")}
        time.sleep(0.05)
    return pids  # what would not die


def mounts_below(path):
    """Mount points at or below path, deepest first (the order they can be unmounted in)."""
    path = os.path.realpath(path)
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            # Field 5 is the mount point, with spaces and the like octal-escaped.
            point = line.split()[4].encode().decode("unicode_escape")
            if point == path or point.startswith(path + "/"):
                points.append(point)
    return sorted(set(points), key=lambda p: p.count("/"), reverse=True)


def unmount_below(path):
    for point in mounts_below(path):
        subprocess.run(["umount", "--lazy", point], capture_output=True, check=False)


def make_cgroup_root(root):
    """The kubelet's cgroupRoot must exist in every hierarchy before it starts; cpuset needs its CPUs and nodes."""
    for hierarchy in sorted(os.listdir(CGROUP_V1)):
        base = os.path.join(CGROUP_V1, hierarchy)
        if not os.path.exists(os.path.join(base, "cgroup.procs")):
            continue  # not a hierarchy (a stray file or a v2 mount's sibling)
        d = os.path.join(base, root.lstrip("/"))
        os.makedirs(d, exist_ok=True)
        for name in ("cpuset.cpus", "cpuset.mems"):
            if os.path.exists(os.path.join(d, name)):
                with open(os.path.join(base, name)) as src, open(os.path.join(d, name), "w") as dst:
                    dst.write(src.read())


def remove_cgroup_root(root):
    """rmdir the cgroup root's tree, leaves first, in every hierarchy; what stays names a live process."""
    left = []
    for d in cgroup_dirs(root):
        for here, _dirs, _files in os.walk(d, topdown=False):
            try:
                os.rmdir(here)
            except OSError:
                left.append(here)
    return left


def remove_tree(path):
    """rm -r that never crosses into a mount still there (unmount_below first): it would delete its contents."""
    if mounts_below(path):
        raise RuntimeError(f"{path} still has mounts: {', '.join(mounts_below(path))}")
    shutil.rmtree(path, ignore_errors=True)
