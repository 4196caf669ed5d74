"""The node agent: plays the kubelet for one node whose pods are local processes on loopback."""

from .runtime import kill_recorded  # noqa: F401  (make cluster-down calls it)
