"""Images, container environment and $(VAR) expansion, IP allocation."""

import itertools
import sys

import pytest

from localcluster import podnet
from localcluster.node import containerenv, images
from localcluster.node.ipam import PodIPs


def test_classify_images():
    assert images.classify("nodowntime/demo-app:2") == images.Image("nodowntime/demo-app:2", images.DEMO, "2")
    assert images.classify("docker.io/nodowntime/demo-app:v3").kind == images.DEMO
    assert images.classify("registry.k8s.io/pause:3.10").kind == images.PAUSE
    assert images.classify("nginx:1.25").kind == images.UNKNOWN
    assert images.classify("nodowntime/demo-app@sha256:abc").kind == images.UNKNOWN
    # The real node's registry names, so one manifest runs on either node.
    assert images.classify("localhost:5000/nodowntime/demo-app:1").kind == images.DEMO
    assert images.classify("localhost:5000/pause:3.10").kind == images.PAUSE
    assert images.classify("localhost:5001/nodowntime/demo-app:1").kind == images.UNKNOWN
    assert images.classify("nodowntime/demo-app").tag == "latest"


def test_argv():
    demo = images.classify("nodowntime/demo-app:1")
    assert images.argv(demo, {}, [], ["--x"]) == [sys.executable, images.DEMO_APP, "--x"]
    assert images.argv(demo, {}, ["sh", "-c"], ["exit 1"]) == ["sh", "-c", "exit 1"]
    assert images.argv(images.classify("registry.k8s.io/pause:3.10"), {}, [], []) is None


def test_env():
    pod = {"metadata": {"name": "web-1", "namespace": "ns", "labels": {"app": "web"}}, "spec": {"nodeName": "n"}}
    container = {
        "name": "app",
        "ports": [{"containerPort": 8080}, {"containerPort": 9090}],
        "env": [
            {"name": "GREETING", "value": "hi $(POD_NAME) $$(POD_NAME) $(NOPE)"},
            {"name": "MY_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
            {"name": "HOST", "value": "0.0.0.0"},
        ],
    }
    env = containerenv.build(pod, container, twin="127.244.0.5", pod_ip="10.244.0.5", host_ip="127.0.0.1", version="2")
    assert env["PORT"] == "8080" and env["VERSION"] == "2"
    assert env["POD_NAME"] == "web-1" and env["POD_NAMESPACE"] == "ns"
    assert env["HOST"] == "127.244.0.5"  # a process always binds its twin
    assert env["GREETING"] == "hi web-1 $(POD_NAME) $(NOPE)"
    assert env["MY_IP"] == "10.244.0.5" and env["APP"] == "web"
    container["env"].append({"name": "PORT", "value": "9999"})
    env = containerenv.build(pod, container, twin="127.244.0.5", pod_ip="10.244.0.5", host_ip="127.0.0.1", version="2")
    assert env["PORT"] == "9999"


def test_pod_ips_unique_claimed_and_released():
    ips = PodIPs()
    ips.claim("old", "10.244.0.1")
    a = ips.allocate("a")
    assert a != "10.244.0.1" and podnet.twin(a).startswith("127.244.")
    assert ips.allocate("a") == a
    b = ips.allocate("b")
    assert b not in (a, "10.244.0.1")
    ips.release("a")
    assert ips.allocate("c") not in (a, b)  # fresh addresses first
    assert PodIPs(skip=1000).allocate("x") != a


def test_pod_ips_stay_inside_their_block():
    ips = PodIPs(skip=2, count=2)
    first, second = ips.allocate("a"), ips.allocate("b")
    assert [first, second] == list(itertools.islice(podnet.usable_pod_ips(), 2, 4))
    with pytest.raises(RuntimeError, match="exhausted"):
        ips.allocate("c")  # the next address belongs to another cluster's block
    ips.release("a")
    assert ips.allocate("c") == first
