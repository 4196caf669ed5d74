"""Pod IP allocation from the pod CIDR (10.244.0.0/16); processes bind the loopback twin."""

import itertools
import threading

from .. import podnet


class PodIPs:
    """Addresses from the skip-th usable pod IP on, count of them (None: to the end of the CIDR).

    Another cluster on this machine may own the addresses past count, so a freed address is
    handed out again rather than one beyond them.
    """

    def __init__(self, skip=0, count=None):
        self._lock = threading.Lock()
        self._by_uid = {}
        self._used = set()
        stop = None if count is None else skip + count
        self._free = itertools.islice(podnet.usable_pod_ips(), skip, stop)  # lazily walked, lowest first
        self._released = []

    def claim(self, uid, ip):
        """Record an IP a pod already has (read back from its status after a restart)."""
        with self._lock:
            self._by_uid[uid] = ip
            self._used.add(ip)

    def get(self, uid):
        with self._lock:
            return self._by_uid.get(uid)

    def allocate(self, uid):
        with self._lock:
            if uid in self._by_uid:
                return self._by_uid[uid]
            ip = None
            for candidate in self._free:
                if candidate not in self._used:
                    ip = candidate
                    break
            while ip is None and self._released:
                candidate = self._released.pop(0)
                if candidate not in self._used:
                    ip = candidate
            if ip is None:
                raise RuntimeError("pod IPs exhausted: every address of this node's block is in use")
            self._by_uid[uid] = ip
            self._used.add(ip)
            return ip

    def release(self, uid):
        with self._lock:
            ip = self._by_uid.pop(uid, None)
            if ip is not None:
                self._used.discard(ip)
                self._released.append(ip)  # reused only once fresh addresses run out
