"""The node agent's main loop: register the node, list+watch this node's pods, and keep one
PodWorker per pod. Pods' processes outlive the agent and are adopted by the next one."""

import concurrent.futures
import logging
import random
import threading
import time

from kubernetes.client.exceptions import ApiException

from . import runtime
from .backoff import CRASH_INITIAL, CRASH_MAX, IMAGE_INITIAL, IMAGE_MAX, Backoff
from .heartbeat import Heartbeat
from .ipam import PodIPs
from .podworker import PodWorker
from .statusmanager import StatusManager

log = logging.getLogger("agent")


class Agent:
    def __init__(
        self, kube, node_name, state_dir, resources, probe_threads=32, pod_ip_skip=0, pod_ip_count=None, taints=()
    ):
        self.kube = kube
        self.node_name = node_name
        self.state_dir = state_dir
        self.stopping = threading.Event()
        self.reaper = runtime.Reaper()
        self.probe_pool = concurrent.futures.ThreadPoolExecutor(probe_threads, thread_name_prefix="probe")
        self.crash_backoff = Backoff(CRASH_INITIAL, CRASH_MAX)
        self.image_backoff = Backoff(IMAGE_INITIAL, IMAGE_MAX)
        self.ipam = PodIPs(pod_ip_skip, pod_ip_count)
        self.status_manager = StatusManager(kube)
        self.heartbeat = Heartbeat(kube, node_name, resources, self.stopping, time.time, taints=taints)
        self._lock = threading.Lock()
        self.workers = {}  # uid -> PodWorker (kept until the pod leaves the API)

    # ------------------------------------------------------------ lifecycle

    def run(self):
        self.reaper.start()
        self.status_manager.start()
        if not self.heartbeat.register():
            return
        self.heartbeat.start()
        log.info("node %s is Ready; state in %s", self.node_name, self.state_dir)
        resource_version = self._initial_sync()
        if resource_version is not None:
            self._watch(resource_version)

    def stop(self):
        """Stop watching and working; pods' processes keep running for the next agent."""
        log.info("stopping (pods' processes are left running for re-adoption)")
        self.stopping.set()
        with self._lock:
            workers = list(self.workers.values())
        for w in workers:
            w.wake()
        self.probe_pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------ list and watch

    def _list(self):
        while not self.stopping.is_set():
            try:
                return self.kube.list_pods(self.node_name)
            except Exception as e:  # noqa: BLE001 - the agent outlives any API trouble: retry
                log.warning("listing pods failed: %s; retrying", e)
                self.stopping.wait(1)
        return None, None

    def _initial_sync(self):
        pods, rv = self._list()
        if pods is None:
            return None
        for pod in pods:  # claim every pod IP first: a new pod must not take an adopted pod's address
            ip = (pod.get("status") or {}).get("podIP")
            if ip and ip != "127.0.0.1":
                self.ipam.claim(pod["metadata"]["uid"], ip)
        known = {p["metadata"]["uid"] for p in pods}
        for uid in runtime.recorded_pod_uids(self.state_dir):
            if uid not in known:
                killed = runtime.kill_pod_dir(runtime.pod_dir(self.state_dir, uid))
                runtime.remove_pod_dir(self.state_dir, uid)
                log.info("pod %s no longer exists: killed %d leftover process group(s)", uid, killed)
        for pod in pods:
            self._upsert(pod)
        log.info("initial sync: %d pod(s) on this node", len(pods))
        return rv

    def _relist(self):
        pods, rv = self._list()
        if pods is None:
            return None
        seen = set()
        for pod in pods:
            seen.add(pod["metadata"]["uid"])
            self._upsert(pod)
        with self._lock:
            gone = [w for uid, w in self.workers.items() if uid not in seen]
        for w in gone:
            self._removed(w.pod)
        return rv

    def _watch(self, rv):
        while not self.stopping.is_set():
            try:
                for kind, obj in self.kube.watch_pods(self.node_name, rv, random.randint(240, 360)):
                    if self.stopping.is_set():
                        return
                    rv = (obj.get("metadata") or {}).get("resourceVersion") or rv
                    if kind in ("ADDED", "MODIFIED"):
                        self._upsert(obj)
                    elif kind == "DELETED":
                        self._removed(obj)
            except ApiException as e:
                if self.stopping.is_set():
                    return
                if e.status == 410:
                    log.info("watch expired (410 Gone): listing again")
                    rv = self._relist()
                    if rv is None:
                        return
                    continue
                log.warning("watch failed: %s %s; retrying", e.status, e.reason)
                self.stopping.wait(1)
            except Exception as e:  # noqa: BLE001 - the agent outlives any API trouble: retry
                if self.stopping.is_set():
                    return
                log.warning("watch broke: %s; retrying", e)
                self.stopping.wait(1)

    # ------------------------------------------------------------ workers

    def _upsert(self, pod):
        uid = pod["metadata"]["uid"]
        with self._lock:
            worker = self.workers.get(uid)
            if worker is None:
                self.status_manager.seed(uid, pod.get("status"))
                worker = self.workers[uid] = PodWorker(self, pod)
                worker.start()
                return
        if not worker.done:
            worker.update(pod)

    def _removed(self, pod):
        uid = pod["metadata"]["uid"]
        with self._lock:
            worker = self.workers.get(uid)
            if worker is None:
                return
            if worker.done:
                self._forget(uid)
                return
        worker.remove(pod)

    def worker_finished(self, worker):
        """Called by a worker as it ends (its pod finished, or the agent is stopping)."""
        with self._lock:
            worker.done = True
            if worker.removed and not self.stopping.is_set():
                self._forget(worker.uid)

    def _forget(self, uid):
        self.workers.pop(uid, None)
        self.ipam.release(uid)
        self.status_manager.forget(uid)
