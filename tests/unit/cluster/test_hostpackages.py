"""The host packages come from tests/cluster/bindep.txt, read as bindep reads it."""

import pytest

from localcluster import hostpackages


def test_names_with_no_profile_or_the_dpkg_platform_are_listed():
    text = "# why\niproute2 [platform:dpkg]\nnftables\nbrew-only [platform:brew]\n\n  conntrack  # inline why\n"
    assert hostpackages.listed(text) == ["iproute2", "nftables", "conntrack"]


def test_a_line_it_cannot_read_is_an_error_naming_it():
    with pytest.raises(ValueError, match="cannot read 'iproute2 >= 6'"):
        hostpackages.listed("iproute2 >= 6\n")


def test_the_real_file_lists_what_the_real_node_needs():
    with open(hostpackages.BINDEP) as f:
        names = hostpackages.listed(f.read())
    assert {"iproute2", "nftables", "iptables", "conntrack", "libseccomp-dev"} <= set(names)
