"""A local Kubernetes cluster: the real upstream control plane and a node on loopback."""
