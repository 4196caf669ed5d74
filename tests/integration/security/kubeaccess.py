"""Credentials for the security tests: docs/rbac.yml bound in a test namespace, ServiceAccount tokens
from the TokenRequest API, and kubeconfigs (files and dicts) that carry exactly one credential."""

import copy
import json
import os
import time

import yaml
from kubernetes import client

from localcluster import paths

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
RBAC_DOC = os.path.join(REPO, "docs", "rbac.yml")
CA_CERT = os.path.join(paths.PKI_DIR, "ca.crt")
ACCOUNT = "nodowntime-deployer"


# Cluster-scoped objects outlive the test namespace: they carry its name, to be deleted with it.
NAMESPACE_LABEL = "nodowntime-test-namespace"
NAMESPACED, CLUSTER = "Role", "ClusterRole"


def rbac_objects(namespace, name=ACCOUNT, drop=None):
    """docs/rbac.yml for namespace, each object named after name: {kind: object}.

    The ClusterRole and its binding are cluster-scoped, so their names also carry the namespace.
    drop=(kind, rule index, resource, verb) leaves that one verb of that resource out of the Role
    (kind "Role") or the ClusterRole (kind "ClusterRole").
    """
    with open(RBAC_DOC) as f:
        objects = [o for d in yaml.safe_load_all(f) for o in (d["items"] if d["kind"] == "List" else [d])]
    found = {o["kind"]: copy.deepcopy(o) for o in objects}
    subject = {"kind": "ServiceAccount", "name": name, "namespace": namespace}
    for kind in ("ServiceAccount", "Role", "RoleBinding"):
        found[kind]["metadata"].update(name=name, namespace=namespace)
    cluster_name = f"{name}-capacity-{namespace}"
    for kind in ("ClusterRole", "ClusterRoleBinding"):
        found[kind]["metadata"] = {"name": cluster_name, "labels": {NAMESPACE_LABEL: namespace}}
    found["RoleBinding"]["roleRef"]["name"] = name
    found["ClusterRoleBinding"]["roleRef"]["name"] = cluster_name
    for kind in ("RoleBinding", "ClusterRoleBinding"):
        found[kind]["subjects"] = [subject]
    if drop is not None:
        kind, index, resource, verb = drop
        rules = found[kind]["rules"]
        rule = rules.pop(index)
        others = [r for r in rule["resources"] if r != resource]
        if others:  # the same verbs stay for the rule's other resources
            rules.insert(index, dict(rule, resources=others))
        verbs = [v for v in rule["verbs"] if v != verb]
        if verbs:
            rules.insert(index, dict(rule, resources=[resource], verbs=verbs))
    return found


def role_verbs():
    """[(kind, rule index, api group, resource, verb)] for every verb docs/rbac.yml grants."""
    found = rbac_objects("x")
    return [
        (kind, i, group, resource, verb)
        for kind in (NAMESPACED, CLUSTER)
        for i, rule in enumerate(found[kind]["rules"])
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    ]


def bind(kube, namespace, name=ACCOUNT, drop=None, cluster=True):
    """Create what docs/rbac.yml has for namespace; returns a token of the ServiceAccount.

    cluster=False leaves the ClusterRole and its binding out: the Role must do on its own for everything
    but blue/green's capacity check."""
    found = rbac_objects(namespace, name, drop)
    rbac = client.RbacAuthorizationV1Api(kube.api)
    kube.core.create_namespaced_service_account(namespace, found["ServiceAccount"])
    rbac.create_namespaced_role(namespace, found["Role"])
    rbac.create_namespaced_role_binding(namespace, found["RoleBinding"])
    if cluster:
        rbac.create_cluster_role(found["ClusterRole"])
        rbac.create_cluster_role_binding(found["ClusterRoleBinding"])
    return token(kube, namespace, name)


def bound_kubeconfig(kube, server, namespace, path, ca_file=None):
    """bind() all of docs/rbac.yml in namespace, wait until the authorizer has it, and write a kubeconfig with
    only the ServiceAccount's token to path; returns (token, path)."""
    ca_file = ca_file or CA_CERT
    token_value = bind(kube, namespace)
    wait_allowed(kube, server, token_value, namespace, "patch", "deployments", "apps", ca_file=ca_file)
    wait_allowed(kube, server, token_value, "", "list", "nodes", ca_file=ca_file)
    return token_value, write_kubeconfig(path, kubeconfig_dict(server, token_value, ca_file=ca_file))


def unbind_cluster(kube, namespace):
    """Delete the cluster-scoped objects bind() made for namespace (deleting the namespace does not)."""
    rbac = client.RbacAuthorizationV1Api(kube.api)
    selector = f"{NAMESPACE_LABEL}={namespace}"
    for obj in rbac.list_cluster_role_binding(label_selector=selector).items:
        rbac.delete_cluster_role_binding(obj.metadata.name)
    for obj in rbac.list_cluster_role(label_selector=selector).items:
        rbac.delete_cluster_role(obj.metadata.name)


def token(kube, namespace, account, seconds=3600):
    request = {"spec": {"audiences": [], "expirationSeconds": seconds}}
    return kube.core.create_namespaced_service_account_token(account, namespace, request).status.token


def kubeconfig_dict(server, token_value=None, ca_file=CA_CERT, cert_data=None, key_data=None, user="deployer"):
    """A kubeconfig with one cluster, one user and one context (named "test")."""
    user_entry = {}
    if token_value:
        user_entry["token"] = token_value
    if cert_data:
        user_entry["client-certificate-data"] = cert_data
    if key_data:
        user_entry["client-key-data"] = key_data
    with open(ca_file, "rb") as f:
        import base64

        ca_data = base64.b64encode(f.read()).decode()
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "local", "cluster": {"server": server, "certificate-authority-data": ca_data}}],
        "users": [{"name": user, "user": user_entry}],
        "contexts": [{"name": "test", "context": {"cluster": "local", "user": user}}],
        "current-context": "test",
    }


def write_kubeconfig(path, config):
    with open(path, "w") as f:
        yaml.safe_dump(config, f)
    os.chmod(path, 0o600)
    return str(path)


def wait_allowed(kube, server, token_value, namespace, verb, resource, group="", timeout=10, ca_file=CA_CERT):
    """Until the authorizer's cache has the new binding: RBAC informers lag the write a little."""
    cfg = client.Configuration()
    cfg.host, cfg.ssl_ca_cert = server, ca_file
    cfg.api_key = {"authorization": f"Bearer {token_value}"}
    api = client.AuthorizationV1Api(client.ApiClient(cfg))
    review = {
        "spec": {"resourceAttributes": {"namespace": namespace, "verb": verb, "resource": resource, "group": group}}
    }
    deadline = time.monotonic() + timeout
    while True:
        if api.create_self_subject_access_review(review).status.allowed:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{verb} {resource} still not allowed after {timeout}s: {json.dumps(review)}")
        time.sleep(0.1)


# A test whose collection tasks ran with docs/rbac.yml's rights only carries this user property (the value
# says where the Role was bound); tests/integration/conftest.py counts them in the summary.
ROLE_ONLY_PROPERTY = "kubeconfig-role-only"


def record_role_only(request, how):
    request.node.user_properties.append((ROLE_ONLY_PROPERTY, how))


def snapshot(kube, namespace):
    """{"kind/name": resourceVersion} of every object in the namespace that the collection could touch."""
    apps, core = kube.apps, kube.core
    lists = {
        "deployments": apps.list_namespaced_deployment,
        "replicasets": apps.list_namespaced_replica_set,
        "statefulsets": apps.list_namespaced_stateful_set,
        "daemonsets": apps.list_namespaced_daemon_set,
        "pods": core.list_namespaced_pod,
        "services": core.list_namespaced_service,
        "configmaps": core.list_namespaced_config_map,
        "serviceaccounts": core.list_namespaced_service_account,
        "endpointslices": kube.discovery.list_namespaced_endpoint_slice,
        "leases": kube.coordination.list_namespaced_lease,
    }
    return {
        f"{plural}/{item.metadata.name}": item.metadata.resource_version
        for plural, list_fn in lists.items()
        for item in list_fn(namespace).items
    }


def _unsettled(kube, namespace):
    """What a controller or the node still has to do in the namespace, or "" when nothing: a pod on its way
    out (its end brings status writes to its ReplicaSet and Deployment), a Deployment or ReplicaSet whose
    status has not caught up with its spec."""
    for pod in kube.core.list_namespaced_pod(namespace).items:
        if pod.metadata.deletion_timestamp:
            return f"pod {pod.metadata.name} is terminating"
    deployments = kube.apps.list_namespaced_deployment(namespace).items
    replica_sets = kube.apps.list_namespaced_replica_set(namespace).items
    for kind, items in (("Deployment", deployments), ("ReplicaSet", replica_sets)):
        for obj in items:
            st, want, name = obj.status, obj.spec.replicas or 0, obj.metadata.name
            if (st.observed_generation or 0) < obj.metadata.generation:
                return f"{kind} {name}: generation {obj.metadata.generation} not observed yet"
            if (st.replicas or 0) != want or (st.terminating_replicas or 0) != 0:
                return f"{kind} {name}: {st.replicas} replicas, {st.terminating_replicas} terminating, {want} wanted"
            if kind == "Deployment" and (st.updated_replicas or 0) != want:
                return f"{kind} {name}: {st.updated_replicas} of {want} updated"
    return ""


def settled_snapshot(kube, namespace, moving=(), quiet=1.0, timeout=90):
    """snapshot() once the namespace has settled: _unsettled() finds nothing left to do, and no
    resourceVersion changed during `quiet` seconds. moving: key prefixes of objects that change by
    themselves for good (a pod stuck pulling its image), left out of the quiet check, not of the result.

    An earlier step (a scale-down, a rollout) leaves controllers and the node writing status for a while
    after it was reported done; a snapshot taken then would charge their writes to whatever runs next."""
    deadline = time.monotonic() + timeout

    def still(snap):
        return {k: v for k, v in snap.items() if not k.startswith(tuple(moving))}

    while True:
        busy = _unsettled(kube, namespace)
        if not busy:
            first = snapshot(kube, namespace)
            time.sleep(quiet)
            second = snapshot(kube, namespace)
            busy = changed(still(first), still(second))
            if not busy:
                return second
        if time.monotonic() > deadline:
            raise TimeoutError(f"namespace {namespace} still moving after {timeout}s: {busy}")
        time.sleep(0.2)


def changed(before, after):
    """The objects that appeared, went away or got a new resourceVersion."""
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
