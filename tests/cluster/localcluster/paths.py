"""Where a checkout's cluster keeps its state: everything under <repo>/.cluster/."""

import os

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
STATE_DIR = os.environ.get("NODOWNTIME_CLUSTER_DIR", os.path.join(REPO_ROOT, ".cluster"))


def state(*parts):
    return os.path.join(STATE_DIR, *parts)


ADMIN_KUBECONFIG = state("kubeconfig")
CLUSTER_FILE = state("cluster.json")  # ports, pids and settings of the running cluster
PKI_DIR = state("pki")
LOG_DIR = state("logs")
