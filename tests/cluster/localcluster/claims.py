"""The NodePort window each local cluster on this machine holds, so no two share one.

A window's ports on the host's loopback look free until the cluster's host-port forwarder opens
them on demand, so probing cannot tell them taken. Two clusters (the shared one and the fault
tests' private one) once got overlapping windows: one could not listen on a port and the other's
pods answered the test's traffic. So every cluster.json is a claim, found through a machine-wide
index of state directories and read under a lock.
"""

import fcntl
import hashlib
import json
import os
import random
import socket
import time
from contextlib import contextmanager

from . import procs

INDEX_DIR = os.environ.get("NODOWNTIME_CLUSTER_INDEX", "/tmp/nodowntime-clusters")
NODE_PORTS = (30000, 32767)  # the API server's default NodePort range, inclusive
# 200 ports by default (the setting node_ports makes a cluster's window smaller or larger): a test
# namespace holds one or two NodePorts at a time, and 13 such windows fit the range.
NODE_PORT_SPAN = 200
# A cluster.json whose processes are not all recorded yet belongs to an `up` still starting them.
STARTING_SECONDS = 600


def live(info, age, alive=procs.alive):
    """Whether a cluster.json, age seconds old, still holds its window."""
    processes = info.get("processes") or {}
    if processes:
        return any(alive(rec) for rec in processes.values())
    return age < STARTING_SECONDS


def pick_window(held, rng, bindable, span=NODE_PORT_SPAN):
    """A NodePort window [first, last] of span ports overlapping no held one and bindable now; None if none.

    Windows on the span's grid come first: windows placed anywhere leave gaps narrower than a span
    between them, and a range cut that way held 5 clusters instead of 13."""
    lowest, highest = NODE_PORTS

    def free(base):
        return all(base + span <= first or base > last for first, last in held)

    bases = range(lowest, highest - span + 2)
    on_grid = [b for b in bases if (b - lowest) % span == 0 and free(b)]
    off_grid = [b for b in bases if (b - lowest) % span and free(b)]
    rng.shuffle(on_grid)
    rng.shuffle(off_grid)
    for base in (on_grid + off_grid)[:50]:
        if bindable(base, base + span):
            return [base, base + span - 1]
    return None


def _bindable(start, stop):
    """Every port in [start, stop) free on 127.0.0.1: no program outside our clusters holds one."""
    for port in range(start, stop):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def entry_path(state_dir):
    """The index file that names state_dir."""
    return os.path.join(INDEX_DIR, hashlib.sha256(state_dir.encode()).hexdigest()[:16] + ".dir")


def _others(state_dir):
    """The cluster.json of every other live cluster in the index; dead entries are dropped."""
    found = []
    for entry in os.listdir(INDEX_DIR):
        if not entry.endswith(".dir"):
            continue
        path = os.path.join(INDEX_DIR, entry)
        with open(path) as f:
            other = f.read()
        cluster_file = os.path.join(other, "cluster.json")
        try:
            with open(cluster_file) as f:
                info = json.load(f)
            age = time.time() - os.stat(cluster_file).st_mtime
        except (FileNotFoundError, json.JSONDecodeError):
            info, age = None, None
        if info is None or not live(info, age):
            os.remove(path)
        elif other != state_dir:
            found.append(info)
    return found


@contextmanager
def claiming(state_dir, rng=random, span=NODE_PORT_SPAN):
    """Under the machine-wide lock, yield a NodePort window of span ports free of every live cluster.

    The caller writes it into its cluster.json before the block ends: that file is the claim.
    """
    os.makedirs(INDEX_DIR, exist_ok=True)
    with open(os.path.join(INDEX_DIR, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        others = _others(state_dir)
        windows = [tuple(o["node_port_range"]) for o in others]
        window = pick_window(windows, rng, _bindable, span)
        if window is None:
            raise RuntimeError(
                f"no free NodePort window of {span} ports: other clusters hold {sorted(windows)}, "
                "other programs the ports of every free window tried"
            )
        with open(entry_path(state_dir), "w") as f:
            f.write(state_dir)
        yield window
