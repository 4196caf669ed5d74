"""The host check, on a faked machine: each missing fact gives its own line, the first one stops it."""

import dataclasses

import pytest

from localcluster import hostcheck

V1_HYBRID = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""
V2 = "30 23 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
SWAPS_HEADER = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"


@dataclasses.dataclass
class FakeHost:
    """A machine with every fact a node needs; a test takes one away."""

    euid: int = 0
    files: dict = dataclasses.field(
        default_factory=lambda: {
            "/proc/self/mountinfo": V1_HYBRID,
            "/proc/swaps": SWAPS_HEADER,
            "/sys/fs/cgroup/cgroup.controllers": "cpuset cpu io memory hugetlb pids rdma misc\n",
            "/dev/kmsg": "",
            "/proc/self/ns/net": "",
        }
    )
    path: set = dataclasses.field(default_factory=lambda: set(hostcheck.BINARIES))
    failing: dict = dataclasses.field(default_factory=dict)  # argv prefix -> output

    def uid(self):
        return self.euid

    def read(self, path):
        return self.files.get(path)

    def exists(self, path):
        return path in self.files

    def which(self, name):
        return f"/usr/bin/{name}" if name in self.path else None

    def run(self, argv):
        for prefix, output in self.failing.items():
            if tuple(argv[: len(prefix)]) == prefix:
                return 1, output
        if argv == ["nft", "--version"]:
            return 0, "nftables v1.0.6 (Lester Gooch #5)"
        return 0, ""


def without(**changes):
    host = FakeHost()
    for key, value in changes.items():
        if key == "files":
            for path, text in value.items():
                if text is None:
                    del host.files[path]
                else:
                    host.files[path] = text
        elif key == "path":
            host.path -= value
        else:
            setattr(host, key, value)
    return host


MISSING = [
    pytest.param(without(euid=1000), "not root (uid 1000): the local cluster's node needs root", id="not-root"),
    pytest.param(
        without(path={"nft", "conntrack"}),
        "not on PATH: nft, conntrack: apt-get install conntrack nftables",
        id="binaries",
    ),
    pytest.param(without(path={"mount"}), "apt-get install mount", id="mount-is-its-own-package"),
    pytest.param(without(path={"nsenter"}), "apt-get install util-linux", id="nsenter"),
    pytest.param(
        without(files={"/proc/self/mountinfo": V1_HYBRID.replace("rw,memory", "rw,hugetlb")}),
        "cgroup v1 (hybrid) without the memory hierarchy",
        id="cgroup-v1-without-memory",
    ),
    pytest.param(
        without(files={"/proc/self/mountinfo": V2, "/sys/fs/cgroup/cgroup.controllers": "cpu io memory\n"}),
        "cgroup v2 without the cpuset, pids controller(s)",
        id="cgroup-v2-without-controllers",
    ),
    pytest.param(without(files={"/proc/self/mountinfo": ""}), "no cgroup hierarchies mounted", id="no-cgroups"),
    pytest.param(without(files={"/dev/kmsg": None}), "no /dev/kmsg", id="kmsg"),
    pytest.param(without(files={"/proc/self/ns/net": None}), "lacks network namespaces", id="no-net-ns"),
    pytest.param(
        without(failing={("ip", "netns", "add"): "mount --make-shared /run/netns failed: Permission denied"}),
        "ip netns add failed (mount --make-shared",
        id="netns-add-fails",
    ),
    pytest.param(
        without(failing={("nft", "list"): "Operation not supported"}),
        "nft list tables failed (Operation not supported): kube-proxy and the CNI plugins need nf_tables",
        id="no-nf-tables",
    ),
]


@pytest.mark.parametrize("host, line", MISSING)
def test_each_missing_fact_has_its_own_line(host, line):
    with pytest.raises(SystemExit) as raised:
        hostcheck.check(host)
    message = str(raised.value.code)
    assert message.startswith("host check: ") and line in message and "\n" not in message


def test_first_missing_fact_wins():
    with pytest.raises(SystemExit, match="not root"):
        hostcheck.check(without(euid=1000, path={"nft"}, files={"/dev/kmsg": None}))


def test_all_there():
    assert hostcheck.check(FakeHost()) is None
    assert hostcheck.facts(FakeHost()) == ["root", "cgroup v1 (hybrid)", "nftables 1.0.6", "no swap"]


def test_cgroup_v2_unified_is_named():
    notes = hostcheck.facts(without(files={"/proc/self/mountinfo": V2}))
    assert "cgroup v2" in notes


def test_swap_is_said_but_not_fatal(capsys):
    host = without(files={"/proc/swaps": SWAPS_HEADER + "/swapfile file 1048572 0 -2\n"})
    assert hostcheck.check(host) is None
    assert "host check: swap on (1 device): the kubelet tolerates it" in capsys.readouterr().err


def test_this_machine():
    # The machines these tests run on are meant to run real nodes.
    assert hostcheck.check() is None
