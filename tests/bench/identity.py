"""A client identity of its own for one measurement, whose every request kube-apiserver counts apart.

    ident = Identity.create(kube, namespace)   # ServiceAccount, RoleBinding, token kubeconfig, FlowSchemas
    run = tools.ansible_module(..., ident)      # the tool runs as that identity (ident.kubeconfig)
    counts = ident.requests(apimetrics.scrape(kube))   # {"get deployments": 2, "watch pods": 1, ...}

Each identity is a ServiceAccount in the measurement's namespace (cluster-admin there, through a
RoleBinding; no access elsewhere) with a bound token in a kubeconfig of its own.  API Priority and
Fairness sorts every request into the first FlowSchema that matches it, and kube-apiserver counts
each dispatched request per schema (apiserver_flowcontrol_dispatched_requests_total): one schema per
verb and resource of this identity (what a rollout reads and writes), then one per verb for its
other resources, one for its non-resource requests (discovery) and one for the rest, so the schemas'
counts add up to every request the identity made, watches included (counted when they start), and no
other client's request lands in them.  The schemas use the exempt priority level: the tool is never
queued, as with the admin identity.  Deleting the namespace removes the ServiceAccount; delete()
removes the FlowSchemas (cluster-scoped).
"""

import os
import tempfile

import apimetrics
import yaml
from kubernetes import client

from localcluster import workloads

VERBS = ("get", "list", "watch", "create", "update", "patch", "delete")
# Split by resource: what a rollout reads and writes.  Each schema costs API Priority and Fairness a
# re-digest of all of them when it is created, so the other resources are split by verb only.
RESOURCES = ("deployments", "replicasets", "pods")
RESOURCE_VERBS = ("get", "list", "watch", "patch", "update")
LABEL = "nodowntime-bench-identity"
# Below the built-in "exempt" (1, system:masters) and "probes" (2) schemas, above every other one.
PRECEDENCE = 10


def _resource_rule(verb, resource):
    return {
        "verbs": [verb],
        "apiGroups": ["*"],
        "resources": [resource],
        "clusterScope": True,
        "namespaces": ["*"],
    }


class Identity:
    def __init__(self, kube, namespace, name, kubeconfig, schemas):
        self.kube, self.namespace, self.name, self.kubeconfig, self.schemas = (
            kube,
            namespace,
            name,
            kubeconfig,
            schemas,
        )

    @classmethod
    def create(cls, kube, namespace, name="tool"):
        kube.core.create_namespaced_service_account(namespace, {"metadata": {"name": name}})
        rbac = client.RbacAuthorizationV1Api(kube.api)
        rbac.create_namespaced_role_binding(
            namespace,
            {
                "metadata": {"name": name},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
                "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
            },
        )
        token = kube.core.create_namespaced_service_account_token(
            name, namespace, {"spec": {"expirationSeconds": 3600}}
        ).status.token
        schemas = _flow_schemas(kube, namespace, name)
        return cls(kube, namespace, name, _kubeconfig(kube, namespace, token), schemas)

    def requests(self, counts):
        """{label: requests} of this identity in a scrape (or a delta of two), labels as 'verb resource'."""
        return {label: apimetrics.flow(counts, schema) for schema, label in self.schemas.items()}

    def wait_counted(self, timeout=60):
        """Until API Priority and Fairness has taken in every schema (its status: not dangling)."""
        api = client.FlowcontrolApiserverV1Api(self.kube.api)
        for schema in self.schemas:
            workloads.wait_for(api.list_flow_schema, schema, _digested, timeout, f"FlowSchema {schema} to apply")

    def delete(self):
        os.unlink(self.kubeconfig)
        client.FlowcontrolApiserverV1Api(self.kube.api).delete_collection_flow_schema(
            label_selector=f"{LABEL}={self.namespace}.{self.name}"
        )


def _digested(schema):
    conditions = {c.type: c.status for c in (schema.status.conditions if schema.status else None) or []}
    return conditions.get("Dangling") == "False"


def _flow_schemas(kube, namespace, name):
    """Create the schemas; {schema name: label}, most specific first."""
    subject = {"kind": "ServiceAccount", "serviceAccount": {"name": name, "namespace": namespace}}
    prefix = f"{namespace}.{name}"
    rules = [
        (f"{verb} {resource}", 0, {"resourceRules": [_resource_rule(verb, resource)]})
        for verb in RESOURCE_VERBS
        for resource in RESOURCES
    ]
    rules += [(f"{verb} (other resources)", 1, {"resourceRules": [_resource_rule(verb, "*")]}) for verb in VERBS]
    rules += [
        ("(non-resource)", 2, {"nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}]}),
        ("(other verbs)", 3, {"resourceRules": [_resource_rule("*", "*")]}),
    ]
    api = client.FlowcontrolApiserverV1Api(kube.api)
    schemas = {}
    for label, rank, rule in rules:
        schema = f"{prefix}.{label.replace(' ', '-').replace('(', '').replace(')', '')}"
        api.create_flow_schema(
            {
                "metadata": {"name": schema, "labels": {LABEL: prefix}},
                "spec": {
                    "priorityLevelConfiguration": {"name": "exempt"},
                    "matchingPrecedence": PRECEDENCE + rank,
                    "rules": [{"subjects": [subject], **rule}],
                },
            }
        )
        schemas[schema] = label
    return schemas


def _kubeconfig(kube, namespace, token):
    """The admin kubeconfig's cluster with this identity's token instead of the admin's cert."""
    with open(kube.kubeconfig) as f:
        admin = yaml.safe_load(f)
    context = next(c for c in admin["contexts"] if c["name"] == admin["current-context"])["context"]
    cluster = next(c for c in admin["clusters"] if c["name"] == context["cluster"])
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [cluster],
        "users": [{"name": namespace, "user": {"token": token}}],
        "contexts": [{"name": namespace, "context": {"cluster": cluster["name"], "user": namespace}}],
        "current-context": namespace,
    }
    fd, path = tempfile.mkstemp(prefix=f"{namespace}-", suffix=".kubeconfig")
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(config, f)
    return path
