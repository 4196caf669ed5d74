"""What a real node needs from this machine, checked before anything starts.

check() stops at the first missing fact with one line naming it and what to do, rather than
leaving a kubelet or containerd to fail minutes later with an error about something else.

    python -m localcluster.hostcheck      # prints "host check: ok (...)" or the missing fact
"""

import os
import shutil
import subprocess
import sys

# Binary -> the Debian package that has it.
BINARIES = {
    "nsenter": "util-linux",
    "ip": "iproute2",
    "nft": "nftables",
    "iptables": "iptables",
    "iptables-restore": "iptables",
    "conntrack": "conntrack",
    "mount": "mount",
    "umount": "mount",
}
CGROUP_V1 = ("cpu", "cpuacct", "cpuset", "memory", "pids", "devices", "freezer")
CGROUP_V2 = ("cpu", "cpuset", "memory", "pids")  # v2 has no devices or freezer controller files
CGROUP_ROOT = "/sys/fs/cgroup"


class Missing(Exception):
    """A fact the node needs is not there; the message says which and what to do."""


class Caveat(str):
    """A note check() says aloud: the node runs, but not as it would in production."""


class Host:
    """The machine as the checks see it; tests pass a fake with the same methods."""

    def uid(self):
        return os.geteuid()

    def read(self, path):
        """The file's text, or None if it cannot be read."""
        try:
            with open(path) as f:
                return f.read()
        except OSError:
            return None

    def exists(self, path):
        return os.path.exists(path)

    def which(self, name):
        return shutil.which(name)

    def run(self, argv):
        """(exit status, output with stderr) of a command."""
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        return done.returncode, (done.stdout + done.stderr).strip()


def _root(host):
    uid = host.uid()
    if uid != 0:
        raise Missing(
            f"not root (uid {uid}): the local cluster's node needs root to create network namespaces and cgroups"
        )
    return "root"


def _binaries(host):
    absent = [name for name in BINARIES if not host.which(name)]
    if absent:
        packages = sorted({BINARIES[name] for name in absent})
        raise Missing(f"not on PATH: {', '.join(absent)}: apt-get install {' '.join(packages)}")


def _cgroups(host):
    v1, v2_at = set(), []
    for line in (host.read("/proc/self/mountinfo") or "").splitlines():
        fields = line.split()
        # Mount point is field 5; after the "-" separator come type, source and super options.
        if "-" not in fields:
            continue
        sep = fields.index("-")
        fstype, superopts = fields[sep + 1], fields[sep + 3] if len(fields) > sep + 3 else ""
        if fstype == "cgroup":
            v1.update(superopts.split(","))
        elif fstype == "cgroup2":
            v2_at.append(fields[4])
    if v1 & set(CGROUP_V1):
        missing = [c for c in CGROUP_V1 if c not in v1]
        if missing:
            raise Missing(
                f"cgroup v1 (hybrid) without the {', '.join(missing)} hierarch{'ies' if len(missing) > 1 else 'y'}: "
                f"mount each (mount -t cgroup -o NAME cgroup {CGROUP_ROOT}/NAME) or boot with cgroup v2 unified"
            )
        return "cgroup v1" + (" (hybrid)" if v2_at else "")
    if CGROUP_ROOT in v2_at:
        have = (host.read(f"{CGROUP_ROOT}/cgroup.controllers") or "").split()
        missing = [c for c in CGROUP_V2 if c not in have]
        if missing:
            raise Missing(
                f"cgroup v2 without the {', '.join(missing)} controller(s) in {CGROUP_ROOT}/cgroup.controllers: "
                "enable them at boot (or run on a host that has them)"
            )
        return "cgroup v2"
    raise Missing(f"no cgroup hierarchies mounted under {CGROUP_ROOT}: the kubelet and containerd put every pod in one")


def _kmsg(host):
    if not host.exists("/dev/kmsg"):
        raise Missing(
            "no /dev/kmsg: the kubelet watches it for OOM kills; in a container, bind-mount the host's "
            "(or mknod /dev/kmsg c 1 11)"
        )


def _netns(host):
    if not host.exists("/proc/self/ns/net"):
        raise Missing("no /proc/self/ns/net: the kernel lacks network namespaces (CONFIG_NET_NS), which the node needs")
    probe = f"nodowntime-hostcheck-{os.getpid()}"
    status, out = host.run(["ip", "netns", "add", probe])
    if status != 0:
        raise Missing(f"ip netns add failed ({out}): the cluster's node lives in its own network namespace")
    status, out = host.run(["ip", "netns", "delete", probe])
    if status != 0:
        raise Missing(f"ip netns delete {probe} failed ({out}): remove it by hand and check /run/netns")


def _nftables(host):
    status, out = host.run(["nft", "list", "tables"])
    if status != 0:
        raise Missing(
            f"nft list tables failed ({out}): kube-proxy and the CNI plugins need nf_tables in the kernel "
            "(CONFIG_NF_TABLES, or modprobe nf_tables)"
        )
    status, version = host.run(["nft", "--version"])  # "nftables v1.0.6 (Lester Gooch #5)"
    words = version.split()
    return f"nftables {words[1].lstrip('v')}" if status == 0 and len(words) > 1 else "nftables"


def _swap(host):
    # Not a failure: the kubelet is told failSwapOn: false. Said, because a pod's memory limit
    # then pages to swap rather than being OOM-killed when it is reached, as it would be in production.
    lines = (host.read("/proc/swaps") or "").strip().splitlines()[1:]
    if lines:
        return Caveat(
            f"swap on ({len(lines)} device{'s' if len(lines) > 1 else ''}): the kubelet tolerates it "
            "(failSwapOn: false), but memory limits page to swap; swapoff -a to match production"
        )
    return "no swap"


# In order: later checks use what earlier ones establish (root, then the binaries they run).
CHECKS = (_root, _binaries, _cgroups, _kmsg, _netns, _nftables, _swap)


def facts(host=None):
    """The ok line's notes, one per check that has one; raises Missing at the first missing fact."""
    host = host or Host()
    return [note for note in (look(host) for look in CHECKS) if note]


def check(host=None):
    """None if the machine can run a real node; else SystemExit with one line saying what is missing."""
    try:
        notes = facts(host)
    except Missing as e:
        raise SystemExit(f"host check: {e}") from None
    for note in notes:
        if isinstance(note, Caveat):
            print(f"host check: {note}", file=sys.stderr)


def main():
    try:
        notes = facts()
    except Missing as e:
        print(f"host check: {e}", file=sys.stderr)
        return 1
    print(f"host check: ok ({', '.join(notes)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
