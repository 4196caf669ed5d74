"""One worker thread per pod: runs its containers, probes them, kills and restarts them,
and terminates the pod when it is deleted (the kubelet's pod worker + prober manager).

All of a pod's state is touched only by its worker thread. Other threads (the reaper,
probe runners, preStop hooks, the watch) post messages to the inbox and wake the worker.
"""

import ipaddress
import logging
import os
import signal
import threading
import time
import uuid

from kubernetes.client.exceptions import ApiException

from .. import podnet
from . import containerenv, handlers, images, prober, runtime
from . import status as podstatus
from .status import RUNNING, TERMINATED, WAITING

log = logging.getLogger("pod")

HOST_IP = "127.0.0.1"
ERR_IMAGE_PULL_SHOWN = 2.0  # seconds ErrImagePull shows before ImagePullBackOff
MIN_KILL_GRACE = 2.0  # the kubelet never gives less than 2 s between SIGTERM and SIGKILL
DEFAULT_GRACE = 30


def _fmt_delay(seconds):
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60}s" if seconds >= 60 else f"{seconds}s"


def _in_pod_cidr(ip):
    try:
        return ipaddress.ip_address(ip) in podnet.POD_CIDR
    except ValueError:
        return False


def should_restart(policy, exit_code):
    if policy == "Never":
        return False
    if policy == "OnFailure":
        return exit_code != 0
    return True


class Kill:
    """An ongoing container kill: preStop, then SIGTERM, then SIGKILL at the deadline."""

    def __init__(self, reason, deadline):
        self.reason = reason
        self.deadline = deadline
        self.prestop_pending = False
        self.term_sent = False
        self.kill_sent = False


class Container:
    """One container of the pod: its current instance and what the status needs."""

    def __init__(self, spec):
        self.spec = spec
        self.name = spec["name"]
        self.image = images.classify(spec.get("image") or "")
        self.state = WAITING
        self.reason = "ContainerCreating"
        self.message = None
        self.container_id = None
        self.proc = None
        self.started_wall = self.started_mono = None
        self.finished_wall = self.finished_mono = None
        self.exit_code = None
        self.term = None  # API terminated-state dict of the last exit
        self.restart_count = 0
        self.last_state = {}
        self.ever_ran = False
        self.instance = 0
        self.probe_specs = prober.probes_for(spec)
        self.probes = {}
        self.kill = None
        self.pull_error_until = None
        self.env = {}

    @property
    def started(self):
        if self.state != RUNNING:
            return False
        startup = self.probes.get(prober.STARTUP)
        return startup is None or startup.result == prober.SUCCESS

    @property
    def ready(self):
        if not self.started:
            return False
        readiness = self.probes.get(prober.READINESS)
        return readiness is None or readiness.result == prober.SUCCESS

    def view(self):
        return podstatus.ContainerView(
            name=self.name,
            image=self.image.ref,
            image_id=self.image.image_id if self.ever_ran else "",
            container_id=self.container_id,
            state=self.state,
            reason=self.reason,
            message=self.message,
            started_at=self.started_wall,
            finished_at=self.finished_wall,
            exit_code=self.exit_code,
            restart_count=self.restart_count,
            last_state=self.last_state,
            ready=self.ready,
            started=self.started,
        )


class PodWorker(threading.Thread):
    def __init__(self, agent, pod):
        meta = pod["metadata"]
        super().__init__(name=f"pod-{meta['namespace']}/{meta['name']}", daemon=True)
        self.agent = agent
        self.pod = pod
        self.uid, self.namespace, self.pod_name = meta["uid"], meta["namespace"], meta["name"]
        self.key = f"{self.namespace}/{self.pod_name}"
        self._cond = threading.Condition()
        self._inbox = []
        self._dirty = True
        self.removed = False
        self.done = False
        spec = pod.get("spec") or {}
        self.containers = [Container(c) for c in spec.get("containers") or []]
        self.pod_ip = self.twin = None
        self.start_time = None
        self.deleting_since = None
        self.last_status = pod.get("status") or {}
        self.next_wake = None
        self.finished = False
        self.terminal = False

    # ------------------------------------------------------------ called by other threads

    def update(self, pod):
        with self._cond:
            self.pod = pod
            self._dirty = True
            self._cond.notify()

    def remove(self, pod=None):
        with self._cond:
            if pod is not None:
                self.pod = pod
            self.removed = True
            self._dirty = True
            self._cond.notify()

    def post(self, message):
        with self._cond:
            self._inbox.append(message)
            self._dirty = True
            self._cond.notify()

    def wake(self):
        with self._cond:
            self._dirty = True
            self._cond.notify()

    # ------------------------------------------------------------ the loop

    def run(self):
        try:
            self._setup()
        except Exception:
            log.exception("%s: setup failed", self.key)
        stopping = self.agent.stopping
        while not self.finished and not stopping.is_set():
            with self._cond:
                while not self._dirty and not stopping.is_set():
                    timeout = None if self.next_wake is None else self.next_wake - time.monotonic()
                    if timeout is not None and timeout <= 0:
                        break
                    self._cond.wait(timeout if timeout is None else min(timeout, 60))
                self._dirty = False
                inbox, self._inbox = self._inbox, []
                pod = self.pod
            if stopping.is_set():
                break
            try:
                self.next_wake = self._sync(pod, inbox)
            except Exception:
                log.exception("%s: sync failed", self.key)
                self.next_wake = time.monotonic() + 1
        self.agent.worker_finished(self)

    # ------------------------------------------------------------ setup and adoption

    def _setup(self):
        spec = self.pod.get("spec") or {}
        api_status = self.pod.get("status") or {}
        terminal = self.terminal = api_status.get("phase") in ("Succeeded", "Failed")
        if spec.get("initContainers"):
            log.warning("%s: init containers are not run on this node; ignoring them", self.key)
        if spec.get("hostNetwork"):
            self.pod_ip = self.twin = HOST_IP
        else:
            ip = api_status.get("podIP")
            if ip and _in_pod_cidr(ip):
                self.agent.ipam.claim(self.uid, ip)
            elif not terminal:
                ip = self.agent.ipam.allocate(self.uid)
            self.pod_ip = ip
            self.twin = podnet.twin(ip) if ip else None
        self.start_time = podstatus.parse_time(api_status.get("startTime")) or time.time()
        api_cs = {s.get("name"): s for s in api_status.get("containerStatuses") or []}
        for c in self.containers:
            self._adopt(c, api_cs.get(c.name), terminal)

    def _adopt(self, c, api, terminal):
        """Take up a container after an agent restart: its process, or what the API says of it."""
        rec = runtime.read_record(self.agent.state_dir, self.uid, c.name)
        if not api and not rec:
            return
        api = api or {}  # a record but no status yet: the agent stopped right after starting it
        c.restart_count = api.get("restartCount") or 0
        c.last_state = api.get("lastState") or {}
        state = api.get("state") or {}
        now_wall, now = time.time(), time.monotonic()
        if rec and rec.get("container_id"):
            c.container_id = rec["container_id"]
            c.ever_ran = True
            c.instance += 1
            c.started_wall = rec.get("started_at") or now_wall
            c.started_mono = now - (now_wall - c.started_wall)
            c.env = self._env(c)
            proc = None
            if rec.get("pid"):
                exit_file = self._exit_file(c)
                proc = runtime.adopt(rec["pid"], rec.get("start_ticks"), exit_file)
                if proc is None:
                    code = runtime.read_exit_file(exit_file)
                    log.info(
                        "%s: container %s (pid %s) exited (%s) while the agent was away",
                        self.key,
                        c.name,
                        rec["pid"],
                        code,
                    )
                    c.state = RUNNING
                    self._exited(c, code, now)
                    return
            c.proc = proc
            c.state, c.reason, c.message = RUNNING, None, None
            same = api.get("containerID") == c.container_id
            self._new_probes(c, now, carry=api if same else None)
            if proc is not None:
                self.agent.reaper.watch(proc, self._exit_callback(c))
            log.info("%s: adopted container %s (pid %s)", self.key, c.name, rec.get("pid"))
            return
        # No live record: restore what the API knows, so finished containers stay finished.
        term = state.get("terminated") or (c.last_state.get("terminated") if "waiting" in state else None)
        if state.get("running") and not terminal:
            term = {
                "exitCode": 255,
                "reason": "Error",
                "startedAt": state["running"].get("startedAt"),
                "finishedAt": podstatus.rfc3339(now_wall),
                "message": "the container's process was lost while the node agent was away",
            }
        if term:
            c.ever_ran = True
            c.container_id = api.get("containerID") or term.get("containerID")
            c.state = TERMINATED
            c.exit_code = term.get("exitCode", 255)
            c.reason = term.get("reason") or podstatus.exit_reason(c.exit_code)
            c.message = term.get("message")
            c.started_wall = podstatus.parse_time(term.get("startedAt"))
            c.finished_wall = podstatus.parse_time(term.get("finishedAt")) or now_wall
            c.finished_mono = now - (now_wall - c.finished_wall)
            c.term = term
            if "waiting" in state:
                c.last_state = {}  # it becomes lastState again when the container restarts

    # ------------------------------------------------------------ one sync

    def _sync(self, pod, inbox):
        now = time.monotonic()
        for message in inbox:
            self._handle(message, now)
        meta = pod.get("metadata") or {}
        deleting = self.removed or bool(meta.get("deletionTimestamp"))
        if deleting:
            self._terminate_pod(pod, now)
        wakes = []
        for c in self.containers:
            self._sync_container(c, pod, now, deleting, wakes)
        if deleting and not any(c.state == RUNNING for c in self.containers):
            return self._finish(pod)
        if not self.removed:
            self._publish(pod, now)
        return min(wakes) if wakes else None

    def _handle(self, message, now):
        kind, name, instance = message[:3]
        c = next((c for c in self.containers if c.name == name), None)
        if c is None or instance != c.instance:
            return  # about an earlier instance of the container
        if kind == "exit":
            proc = message[3]
            if c.state == RUNNING and c.proc is proc:
                self._exited(c, proc.exit_code, now)
        elif kind == "probe":
            _kind, _name, _instance, probe_kind, outcome, text, launched = message
            self._probe_result(c, probe_kind, outcome, text, launched, now)
        elif kind == "prestop_done" and c.kill:
            c.kill.prestop_pending = False

    def _sync_container(self, c, pod, now, deleting, wakes):
        if c.state == RUNNING:
            if c.kill is None and not deleting:
                failed = next((p for p in c.probes.values() if p.wants_restart), None)
                if failed is not None:
                    grace = failed.spec.termination_grace
                    if grace is None:
                        grace = self._pod_grace(pod)
                    log.info(
                        "%s: container %s failed %s probe, will be restarted: %s",
                        self.key,
                        c.name,
                        failed.spec.kind,
                        failed.last_message,
                    )
                    self._start_kill(c, now, grace, f"failed {failed.spec.kind} probe")
            if c.kill is not None:
                self._advance_kill(c, now, wakes)
            if c.state == RUNNING:
                self._run_probes(c, now, deleting, wakes)
            return
        if deleting or self.terminal:
            return
        policy = (pod.get("spec") or {}).get("restartPolicy") or "Always"
        if c.state == TERMINATED or (c.state == WAITING and c.reason == "CrashLoopBackOff"):
            if not should_restart(policy, c.exit_code):
                return
            key = f"{self.uid}/{c.name}"
            backoff = self.agent.crash_backoff
            if backoff.in_backoff_since(key, c.finished_mono, now):
                delay = backoff.delay(key)
                c.state, c.reason = WAITING, "CrashLoopBackOff"
                c.message = (
                    f"back-off {_fmt_delay(delay)} restarting failed container={c.name} "
                    f"pod={self.pod_name}_{self.namespace}({self.uid})"
                )
                c.last_state = {"terminated": c.term} if c.term else c.last_state
                wakes.append(c.finished_mono + delay)
                return
            backoff.next(key, c.finished_mono)
        self._start(c, pod, now, wakes)

    # ------------------------------------------------------------ starting

    def _env(self, c):
        return containerenv.build(
            self.pod, c.spec, twin=self.twin or HOST_IP, pod_ip=self.pod_ip, host_ip=HOST_IP, version=c.image.tag
        )

    def _start(self, c, pod, now, wakes):
        image = c.image
        if image.kind == images.UNKNOWN:
            key = f"{self.uid}/{c.name}/{image.ref}"
            backoff = self.agent.image_backoff
            if c.pull_error_until is not None and now < c.pull_error_until:
                wakes.append(c.pull_error_until)
                return
            if backoff.in_backoff_since_update(key, now):
                c.state, c.reason = WAITING, "ImagePullBackOff"
                c.message = f'Back-off pulling image "{image.ref}"'
                wakes.append(backoff.last_update(key) + backoff.delay(key))
                return
            backoff.next(key, now)
            c.state, c.reason, c.message = WAITING, "ErrImagePull", images.pull_error(image.ref)
            c.pull_error_until = now + ERR_IMAGE_PULL_SHOWN
            wakes.append(c.pull_error_until)
            log.info("%s: container %s: image %s cannot be pulled", self.key, c.name, image.ref)
            return
        c.env = env = self._env(c)
        argv = images.argv(
            image,
            c.spec,
            containerenv.expand_all(c.spec.get("command"), env),
            containerenv.expand_all(c.spec.get("args"), env),
        )
        if c.ever_ran:
            c.restart_count += 1
            c.last_state = {"terminated": c.term} if c.term else {}
        c.instance += 1
        c.container_id = "nodowntime://" + uuid.uuid4().hex
        c.ever_ran = True
        c.started_wall, c.started_mono = time.time(), now
        c.finished_wall = c.finished_mono = c.exit_code = None
        c.kill = None
        proc = None
        if argv is not None:
            try:
                proc = runtime.spawn(argv, env, self._log_path(c), self._exit_file(c))
            except OSError as e:
                c.state = RUNNING
                self._exited(c, 128, now, reason="StartError", message=f"failed to start {argv[0]!r}: {e}")
                wakes.append(now)
                return
        c.proc = proc
        c.state, c.reason, c.message = RUNNING, None, None
        runtime.write_record(
            self.agent.state_dir,
            self.uid,
            c.name,
            {
                "pid": proc.pid if proc else None,
                "start_ticks": proc.start_ticks if proc else None,
                "namespace": self.namespace,
                "pod": self.pod_name,
                "uid": self.uid,
                "container": c.name,
                "container_id": c.container_id,
                "image": image.ref,
                "pod_ip": self.pod_ip,
                "twin": self.twin,
                "started_at": c.started_wall,
                "argv": argv,
            },
        )
        if proc is not None:
            self.agent.reaper.watch(proc, self._exit_callback(c))
        self._new_probes(c, now)
        log.info(
            "%s: started container %s (%s, pid %s, restart %d)",
            self.key,
            c.name,
            image.ref,
            proc.pid if proc else "-",
            c.restart_count,
        )
        wakes.append(now)

    def _exit_file(self, c):
        return os.path.join(
            runtime.pod_dir(self.agent.state_dir, self.uid), f"{c.name}.{c.container_id.split('://')[-1][:12]}.exit"
        )

    def _log_path(self, c):
        return os.path.join(
            self.agent.state_dir, "logs", f"{self.namespace}_{self.pod_name}_{self.uid}", c.name + ".log"
        )

    def _exit_callback(self, c):
        instance = c.instance
        return lambda proc: self.post(("exit", c.name, instance, proc))

    # ------------------------------------------------------------ probes

    def _new_probes(self, c, now, carry=None):
        c.probes = {}
        for kind, spec in c.probe_specs.items():
            initial = None
            if carry is not None:  # an adopted container keeps what the API last said of it
                if kind == prober.READINESS and carry.get("ready"):
                    initial = prober.SUCCESS
                if kind == prober.STARTUP and carry.get("started"):
                    initial = prober.SUCCESS
            ps = prober.ProbeState(spec, initial)
            ps.next_at = prober.first_probe_at(spec, c.started_mono, now)
            c.probes[kind] = ps

    def _run_probes(self, c, now, deleting, wakes):
        started = c.started
        for kind, ps in c.probes.items():
            if not prober.may_probe(kind, started, deleting) or ps.on_hold:
                continue
            if ps.due(now):
                self._launch_probe(c, kind, ps, now)
            elif not ps.in_flight and ps.next_at is not None:
                wakes.append(ps.next_at)

    def _launch_probe(self, c, kind, ps, now):
        ps.in_flight = True
        target = handlers.Target(self.twin or HOST_IP, self.pod_ip, c.spec, c.env)
        instance, name, spec = c.instance, c.name, ps.spec

        def job():
            try:
                outcome, text = handlers.run_probe(spec.handler, target, spec.timeout)
            except Exception as e:  # noqa: BLE001 - a prober bug must not stop probing
                outcome, text = prober.ERROR, f"{type(e).__name__}: {e}"
            self.post(("probe", name, instance, kind, outcome, text, now))

        self.agent.probe_pool.submit(job)

    def _probe_result(self, c, kind, outcome, text, launched, now):
        ps = c.probes.get(kind)
        if ps is None or c.state != RUNNING:
            return
        ps.in_flight = False
        ps.next_at = max(launched + ps.spec.period, now)
        was_started = c.started
        if ps.record(outcome, text):
            log.info(
                "%s: container %s %s probe -> %s%s",
                self.key,
                c.name,
                kind,
                ps.result,
                f" ({text})" if text and ps.result != prober.SUCCESS else "",
            )
        if kind == prober.STARTUP and c.started and not was_started:
            # Started: readiness runs at once (the kubelet triggers it), liveness after its delay.
            for other in (prober.READINESS, prober.LIVENESS):
                if other in c.probes:
                    c.probes[other].next_at = max(now, c.started_mono + c.probes[other].spec.initial_delay)

    # ------------------------------------------------------------ stopping containers

    def _pod_grace(self, pod):
        spec = pod.get("spec") or {}
        grace = spec.get("terminationGracePeriodSeconds")
        return DEFAULT_GRACE if grace is None else grace

    def _start_kill(self, c, now, grace, reason):
        c.kill = kill = Kill(reason, now + max(grace, 0))
        prestop = (c.spec.get("lifecycle") or {}).get("preStop")
        if prestop:
            kill.prestop_pending = True
            target = handlers.Target(self.twin or HOST_IP, self.pod_ip, c.spec, c.env)
            instance, name = c.instance, c.name

            def hook():
                try:
                    outcome, text = handlers.run_lifecycle_handler(prestop, target, grace)
                    if outcome != prober.SUCCESS:
                        log.info("%s: preStop hook of %s: %s %s", self.key, name, outcome, text)
                except Exception:
                    log.exception("%s: preStop hook of %s failed", self.key, name)
                self.post(("prestop_done", name, instance))

            threading.Thread(target=hook, name=f"prestop-{self.key}/{name}", daemon=True).start()
            log.info("%s: killing container %s (%s): running preStop, grace %ss", self.key, c.name, reason, grace)
        else:
            log.info("%s: killing container %s (%s), grace %ss", self.key, c.name, reason, grace)

    def _advance_kill(self, c, now, wakes):
        kill = c.kill
        if not kill.term_sent:
            if kill.prestop_pending and now < kill.deadline:
                wakes.append(kill.deadline)
                return
            kill.term_sent = True
            kill.deadline = max(kill.deadline, now + MIN_KILL_GRACE)
            if c.proc is None:  # pause: exits at once on SIGTERM
                self._exited(c, 0, now)
                return
            c.proc.signal_group(signal.SIGTERM)
        if c.state == RUNNING and not kill.kill_sent:
            if now >= kill.deadline:
                log.info("%s: container %s did not stop within its grace period: SIGKILL", self.key, c.name)
                kill.kill_sent = True
                c.proc.signal_group(signal.SIGKILL)
            else:
                wakes.append(kill.deadline)

    def _exited(self, c, exit_code, now, reason=None, message=None):
        if c.state != RUNNING:
            return
        wall = time.time()
        if exit_code is None:
            exit_code = 255
            message = message or "exit status unknown: the process vanished while the node agent was away"
        reason = reason or podstatus.exit_reason(exit_code)
        c.term = podstatus.terminated_state(exit_code, reason, c.started_wall, wall, c.container_id, message)
        c.state, c.reason, c.message, c.exit_code = TERMINATED, reason, message, exit_code
        c.finished_wall, c.finished_mono = wall, now
        c.probes = {}
        c.kill = None
        if c.proc is not None:
            c.proc.signal_group(signal.SIGKILL)  # leftovers of its process group
            c.proc = None
        runtime.remove_record(self.agent.state_dir, self.uid, c.name)
        log.info("%s: container %s exited %s (%s)", self.key, c.name, exit_code, reason)

    # ------------------------------------------------------------ pod deletion

    def _terminate_pod(self, pod, now):
        meta = pod.get("metadata") or {}
        grace = meta.get("deletionGracePeriodSeconds")
        if grace is None:
            grace = self._pod_grace(pod)
        if self.deleting_since is None:
            self.deleting_since = now
            log.info("%s: pod %s, grace %ss", self.key, "removed from the API" if self.removed else "deleted", grace)
        deadline = self.deleting_since + grace
        for c in self.containers:
            if c.state != RUNNING:
                continue
            if c.kill is None:
                self._start_kill(c, now, max(deadline - now, 0), "pod deletion")
            elif c.kill.deadline > deadline:
                c.kill.deadline = max(deadline, now)  # a shorter grace period wins

    def _finish(self, pod):
        """All containers stopped: write the terminal status, then delete the pod (grace 0)."""
        if not self.removed:
            status = self._build(pod, time.monotonic(), terminal=True)
            sm = self.agent.status_manager
            sm.set(self.uid, self.namespace, self.pod_name, status)
            sm.flush(self.uid)
            try:
                self.agent.kube.delete_pod(self.namespace, self.pod_name, self.uid)
                log.info("%s: terminated; pod object deleted", self.key)
            except ApiException as e:
                if e.status not in (404, 409):
                    log.warning("%s: delete failed: %s %s", self.key, e.status, e.reason)
                    return time.monotonic() + 2
        else:
            log.info("%s: terminated", self.key)
        runtime.remove_pod_dir(self.agent.state_dir, self.uid)
        self.agent.crash_backoff.forget_prefix(self.uid + "/")
        self.agent.image_backoff.forget_prefix(self.uid + "/")
        self.agent.status_manager.forget(self.uid)
        self.finished = True
        return None

    # ------------------------------------------------------------ status

    def _build(self, pod, now, terminal=False):
        views = [c.view() for c in self.containers]
        # lastTransitionTimes come from what this node wrote last; readiness gates from the
        # newest object seen (other writers own those conditions).
        old = [c for c in self.last_status.get("conditions") or [] if c.get("type") in podstatus.NODE_CONDITIONS]
        old += [
            c
            for c in (pod.get("status") or {}).get("conditions") or []
            if c.get("type") not in podstatus.NODE_CONDITIONS
        ]
        return podstatus.build_status(
            pod,
            views,
            host_ip=HOST_IP,
            pod_ip=self.pod_ip,
            start_time=self.start_time,
            now=time.time(),
            old_status={"conditions": old},
            pod_is_terminal=terminal or self.terminal,
        )

    def _publish(self, pod, now):
        status = self._build(pod, now)
        if status["phase"] in ("Succeeded", "Failed"):
            self.terminal = True  # a terminal pod never runs anything again
        self.last_status = status
        self.agent.status_manager.set(self.uid, self.namespace, self.pod_name, status)
