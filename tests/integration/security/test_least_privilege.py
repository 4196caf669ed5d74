"""docs/rbac.yml is enough, and every verb in it is needed.

The modules run with a kubeconfig that carries only a token of the ServiceAccount that docs/rbac.yml
binds (from the TokenRequest API), against the local apiserver with RBAC on. Then each verb of each
rule is taken out in turn, and some module fails with a message naming exactly that verb and
resource, and changes nothing it was not meant to change first.
"""

import json
import textwrap
import time

import kubeaccess
import pytest
from ansible_run import run_module, run_playbook
from kubernetes import client

from localcluster import workloads


@pytest.fixture(scope="module")
def stateful(kube, app):
    """Beside the app: a StatefulSet db and a DaemonSet agent, for probe_config's other kinds; and, for the
    watch verbs, waits that cannot end at their first list: a Deployment stuck pulling its image and an
    ExternalName Service (no EndpointSlices, ever) with the app's selector. And a released lock, and an
    HPA on a Deployment that does not exist (the controller leaves it be) for blue_green's move."""
    container = workloads.demo_container("1")
    labels = {"app": "db"}
    kube.apps.create_namespaced_stateful_set(
        app,
        {
            "metadata": {"name": "db"},
            "spec": {
                "replicas": 1,
                "serviceName": "db",
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [container], "terminationGracePeriodSeconds": 2},
                },
            },
        },
    )
    labels = {"app": "agent"}
    kube.apps.create_namespaced_daemon_set(
        app,
        {
            "metadata": {"name": "agent"},
            "spec": {
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [container], "terminationGracePeriodSeconds": 2},
                },
            },
        },
    )

    def ready(list_fn, name, predicate):
        workloads.wait_for(list_fn, name, predicate, 90, f"{name} to be ready", namespace=app)

    stuck = workloads.deployment("stuck", workloads.demo_container("1"), replicas=1)
    stuck["spec"]["template"]["spec"]["containers"][0]["image"] = "example.invalid/missing:1"
    # Never past its progress deadline while the module runs: the controller would write the condition then.
    stuck["spec"]["progressDeadlineSeconds"] = 24 * 3600
    kube.apps.create_namespaced_deployment(app, stuck)
    kube.core.create_namespaced_service(
        app,
        {
            "metadata": {"name": "ext"},
            "spec": {
                "type": "ExternalName",
                "externalName": "example.invalid",
                "selector": {"app": "web", "slot": "blue"},
            },
        },
    )
    # A released lock, for the lock module to take (a patch).
    kube.coordination.create_namespaced_lease(app, {"metadata": {"name": "nodowntime-free"}, "spec": {}})
    client.AutoscalingV2Api(kube.api).create_namespaced_horizontal_pod_autoscaler(app, _hpa_on("absent", 2))
    ready(kube.apps.list_namespaced_stateful_set, "db", lambda s: (s.status.ready_replicas or 0) == 1)
    ready(kube.apps.list_namespaced_daemon_set, "agent", lambda d: (d.status.number_ready or 0) >= 1)
    return app


def _playbook(tmp_path, namespace, tasks):
    path = tmp_path / "play.yml"
    path.write_text(
        textwrap.dedent(f"""\
        - hosts: localhost
          gather_facts: false
          module_defaults:
            group/nodowntime.k8s.k8s:
              namespace: {namespace}
          tasks:
        """)
        + textwrap.indent(textwrap.dedent(tasks), "    ")
    )
    return str(path)


def _as_deployer(least_privilege):
    return {"K8S_AUTH_KUBECONFIG": least_privilege["kubeconfig"]}


# -- the Role is enough ---------------------------------------------------------------------------


@pytest.mark.timeout(420)
def test_rollout_creates_changes_undoes_and_rolls_back_with_only_the_role(kube, least_privilege, tmp_path):
    ns = least_privilege["namespace"]
    definition = workloads.deployment("rel", workloads.demo_container("1", pre_stop_seconds=1), replicas=2)
    definition["spec"]["progressDeadlineSeconds"] = 30
    play = _playbook(
        tmp_path,
        ns,
        f"""\
        - name: create from a whole manifest (server-side apply)
          nodowntime.k8s.rollout: {{name: rel, definition: {json.dumps(definition)}, wait_timeout: 120}}
          register: created
        - name: a new image
          nodowntime.k8s.rollout:
            {{name: rel, images: {{app: "localhost:5000/nodowntime/demo-app:2"}}, wait_timeout: 120}}
          register: release
        - name: a dry run of the next one
          nodowntime.k8s.rollout: {{name: rel, images: {{app: "localhost:5000/nodowntime/demo-app:3"}}}}
          check_mode: true
          register: dry
        - nodowntime.k8s.rollout: {{name: rel, state: status}}
          register: status
        - nodowntime.k8s.rollout: {{name: rel, state: paused}}
        - nodowntime.k8s.rollout: {{name: rel, state: resumed}}
        - nodowntime.k8s.rollout: {{name: rel, state: restarted, wait_timeout: 120}}
          register: restarted
        - nodowntime.k8s.rollout: {{name: rel, state: rolled_back, wait_timeout: 120}}
          register: undone
        - name: a release that cannot pull its image rolls itself back
          block:
            - nodowntime.k8s.rollout:
                name: rel
                images: {{app: "example.invalid/missing:1"}}
                wait_timeout: 120
            - ansible.builtin.fail: {{msg: the broken release was reported as a success}}
          rescue:
            - ansible.builtin.set_fact: {{broken: "{{{{ ansible_failed_result }}}}"}}
        - ansible.builtin.assert:
            that:
              - created.outcome == 'complete' and created.changed
              - release.outcome == 'complete' and release.revision == 2
              - dry.changed and 'dry run' in dry.message
              - status.outcome == 'unchanged'
              - restarted.outcome == 'complete'
              - undone.outcome == 'rolled_back'
              - broken.outcome == 'rolled_back' and broken.reason in ['ErrImagePull', 'ImagePullBackOff']
        """,
    )
    proc = run_playbook(play, env=_as_deployer(least_privilege))
    assert proc.returncode == 0, proc.stdout
    assert "forbidden" not in proc.stdout


@pytest.mark.timeout(300)
def test_probe_config_on_each_kind_with_only_the_role(kube, least_privilege, stateful, tmp_path):
    ns = least_privilege["namespace"]
    probe = {"httpGet": {"path": "/readyz", "port": "http"}, "periodSeconds": 1, "failureThreshold": 2}
    play = _playbook(
        tmp_path,
        ns,
        f"""\
        - nodowntime.k8s.probe_config:
            kind: "{{{{ item.kind }}}}"
            name: "{{{{ item.name }}}}"
            readiness: {json.dumps(probe)}
            pre_stop: 1
            termination_grace_period_seconds: 5
            wait_timeout: 120
          loop:
            - {{kind: Deployment, name: web-green}}
            - {{kind: StatefulSet, name: db}}
            - {{kind: DaemonSet, name: agent}}
        """,
    )
    proc = run_playbook(play, env=_as_deployer(least_privilege))
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.count("changed: [localhost] => (item=") == 3, proc.stdout
    green = kube.apps.read_namespaced_deployment("web-green", ns).spec.template.spec
    assert green.containers[0].readiness_probe.failure_threshold == 2
    assert green.termination_grace_period_seconds == 5


@pytest.mark.timeout(300)
def test_switch_selector_and_canary_scale_with_only_the_role(kube, least_privilege, tmp_path):
    ns = least_privilege["namespace"]
    play = _playbook(
        tmp_path,
        ns,
        """\
        - nodowntime.k8s.switch_selector: {service: web, selector: {app: web, slot: green}, wait_timeout: 60}
          register: to_green
        - nodowntime.k8s.switch_selector: {service: web, selector: "{{ to_green.previous_selector }}"}
          register: back
        - nodowntime.k8s.canary_scale: {stable: web, canary: web-canary, weight: 50, wait_timeout: 120}
          register: half
        - nodowntime.k8s.canary_scale: {stable: web, canary: web-canary, weight: 0, wait_timeout: 120}
          register: closed
        - ansible.builtin.assert:
            that:
              - to_green.changed and to_green.ready_endpoints | length == 2
              - back.selector.slot == 'blue'
              - half.canary_replicas == 1 and half.stable_replicas == 1
              - closed.canary_replicas == 0 and closed.stable_replicas == 2
        """,
    )
    proc = run_playbook(play, env=_as_deployer(least_privilege))
    assert proc.returncode == 0, proc.stdout


# -- every verb is needed -------------------------------------------------------------------------


CAPACITY = {
    "template": {"spec": {"containers": [{"name": "app", "image": "x", "resources": {"requests": {"cpu": "10m"}}}]}},
    "replicas": 1,
}


def _hpa_on(target, high=None):
    """HPA scaler on Deployment target; without high, only what blue_green applies to move it."""
    spec = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target}}
    if high:
        spec.update(minReplicas=1, maxReplicas=high)
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "scaler"},
        "spec": spec,
    }


def _scenario(kind, resource, verb, ns, case):
    """A module call that needs this verb on this resource, and whether it may change something first.

    A wait whose first list already shows the end never watches, so each watch verb gets a wait that
    cannot end: the Deployment stuck pulling its image, the Service that never gets EndpointSlices."""
    if kind == kubeaccess.CLUSTER:  # capacity: every node, then every pod of the cluster
        return "capacity", dict(CAPACITY), False
    if resource == "leases":  # get and create on a Lease nobody took yet, patch to take a released one
        name = "nodowntime-free" if verb == "patch" else f"nodowntime-case-{case}"
        return "lock", {"name": name, "namespace": ns, "holder": "test", "ttl_seconds": 60}, False
    if resource == "services" and verb == "create":  # blue_green's preview Service
        preview = workloads.node_port_service(f"preview-{case}", {"app": "web", "slot": "green"})
        preview["spec"]["type"] = "ClusterIP"
        return "resource", {"namespace": ns, "definition": preview}, False
    if resource == "horizontalpodautoscalers" and verb == "list":  # rollout: does an HPA own the replicas?
        manifest = workloads.deployment("web", workloads.demo_container("1"), replicas=1)
        return "rollout", {"name": "web", "namespace": ns, "definition": manifest, "wait": False}, False
    if resource == "horizontalpodautoscalers":  # blue_green moves the HPA: resource reads it, then applies
        move = _hpa_on(f"absent-{case}")
        return "resource", {"namespace": ns, "field_manager": "nodowntime-autoscaler", "definition": move}, False
    if resource in ("statefulsets", "daemonsets"):
        kind, name = ("StatefulSet", "db") if resource == "statefulsets" else ("DaemonSet", "agent")
        # A probe no earlier case set, so the patch is a real change and the wait follows it.
        probe = {"tcpSocket": {"port": "http"}, "periodSeconds": 2 + case, "failureThreshold": 3}
        args = {"kind": kind, "name": name, "namespace": ns, "readiness": probe, "wait_timeout": 60}
        return "probe_config", args, verb in ("list", "watch")
    if resource == "deployments" and verb == "patch":
        return (
            "rollout",
            {"name": "web", "namespace": ns, "images": {"app": "localhost:5000/nodowntime/demo-app:9"}},
            False,
        )
    if resource == "deployments" and verb == "create":
        manifest = workloads.deployment("fresh", workloads.demo_container("1"), replicas=1)
        return "rollout", {"name": "fresh", "namespace": ns, "definition": manifest, "wait": False}, False
    if resource in ("deployments", "replicasets", "pods"):
        name = "stuck" if verb == "watch" else "web"
        return (
            "rollout",
            {"name": name, "namespace": ns, "state": "status", "fail_fast": False, "wait_timeout": 20},
            False,
        )
    if resource == "services":
        args = {"service": "web", "namespace": ns, "selector": {"app": "web", "slot": "green"}, "wait_timeout": 20}
        return "switch_selector", args, False
    if resource == "endpointslices":  # the selector it has already: no patch, only the wait
        service = "ext" if verb == "watch" else "web"
        args = {"service": service, "namespace": ns, "selector": {"app": "web", "slot": "blue"}, "wait_timeout": 20}
        return "switch_selector", args, False
    raise AssertionError(f"no scenario needs {verb} {resource}: is the rule in docs/rbac.yml still needed?")


VERBS = kubeaccess.role_verbs()
STUCK_POD = ("pods/stuck-",)


def test_the_role_reads_patches_and_creates_three_kinds_and_lists_two_cluster_wide():
    namespaced = [(r, v) for kind, _rule, _group, r, v in VERBS if kind == kubeaccess.NAMESPACED]
    assert {v for _r, v in namespaced} == {"get", "list", "watch", "patch", "create"}
    assert sorted(r for r, v in namespaced if v == "create") == ["deployments", "leases", "services"]
    cluster = [(r, v) for kind, _rule, _group, r, v in VERBS if kind == kubeaccess.CLUSTER]
    assert sorted(cluster) == [("nodes", "list"), ("pods", "list")]
    assert len(VERBS) == 30


@pytest.mark.timeout(180)
@pytest.mark.parametrize(
    ("kind", "rule", "group", "resource", "verb"),
    VERBS,
    ids=[f"{'cluster-' if k == kubeaccess.CLUSTER else ''}{r}.{g or 'core'}-{v}" for k, _rule, g, r, v in VERBS],
)
def test_without_each_verb_a_module_fails_naming_it(
    kube, least_privilege, stateful, tmp_path, kind, rule, group, resource, verb
):
    ns, server = least_privilege["namespace"], least_privilege["server"]
    account = f"minus-{'cluster-' if kind == kubeaccess.CLUSTER else ''}{resource}-{verb}"[:63]
    # Without a verb of the Role, the Role alone: the ClusterRole (listing every pod) would hide a missing
    # namespaced pods list, and only blue/green's capacity check needs it.
    cluster = kind == kubeaccess.CLUSTER
    token = kubeaccess.bind(kube, ns, name=account, drop=(kind, rule, resource, verb), cluster=cluster)
    # The bindings have reached the authorizer once a verb that each reduced role keeps is allowed.
    dropped = (kind, resource, verb)
    kept = ("list", "pods") if dropped != (kubeaccess.NAMESPACED, "pods", "list") else ("get", "services")
    kubeaccess.wait_allowed(kube, server, token, ns, *kept)
    if cluster:
        kept = ("list", "nodes") if resource != "nodes" else ("list", "pods")
        kubeaccess.wait_allowed(kube, server, token, "", *kept)
    kubeconfig = kubeaccess.write_kubeconfig(tmp_path / "kubeconfig", kubeaccess.kubeconfig_dict(server, token))

    module, args, may_change = _scenario(kind, resource, verb, ns, VERBS.index((kind, rule, group, resource, verb)))
    # Once the namespace has settled: an earlier test's last step (canary_scale's scale-down to 0, a rollout)
    # leaves pods terminating and controllers writing status after the module reported it done.
    before = kubeaccess.settled_snapshot(kube, ns, moving=STUCK_POD)
    result, out = run_module(module, args, env={"K8S_AUTH_KUBECONFIG": kubeconfig})
    after = kubeaccess.snapshot(kube, ns)

    full = f"{resource}.{group}" if group else resource
    assert "FAILED!" in out, out
    where = "cluster-wide" if kind == kubeaccess.CLUSTER else f"in namespace '{ns}'"
    assert f"forbidden: needs verb '{verb}' on {full} {where}" in result["msg"], result["msg"]
    if not may_change:
        # The stuck Deployment's pod changes by itself (ErrImagePull, back-off): it is the one exception. And
        # the kubelet writes any pod's status when a probe or a container changes, by itself: a pod counts
        # when it appears or goes, not when its resourceVersion moves.
        changed = [k for k in kubeaccess.changed(before, after) if not k.startswith(STUCK_POD)]
        assert [k for k in changed if not (k.startswith("pods/") and k in before and k in after)] == []
    else:  # the patch went through and started a rollout: let it finish before the next case
        _settle(kube, ns, resource)


def _sts_rolled_out(s):
    st = s.status
    return st.update_revision == st.current_revision and (st.ready_replicas or 0) == s.spec.replicas


def _ds_rolled_out(d):
    st = d.status
    counts = {st.updated_number_scheduled or 0, st.number_ready or 0, st.current_number_scheduled or 0}
    return (st.observed_generation or 0) >= d.metadata.generation and counts == {st.desired_number_scheduled}


def _settle(kube, ns, resource):
    if resource == "statefulsets":
        workloads.wait_for(kube.apps.list_namespaced_stateful_set, "db", _sts_rolled_out, 90, "db", namespace=ns)
    else:
        workloads.wait_for(kube.apps.list_namespaced_daemon_set, "agent", _ds_rolled_out, 90, "agent", namespace=ns)
    # An old pod leaves the API a moment after its controller counted it out.
    app = "db" if resource == "statefulsets" else "agent"
    deadline = time.monotonic() + 60
    while len(kube.core.list_namespaced_pod(ns, label_selector=f"app={app}").items) != 1:
        assert time.monotonic() < deadline, f"the old {app} pod is still there after 60s"
        time.sleep(0.2)
