"""Bad input fails with a message naming the field and the rule, and changes nothing in the cluster.

One namespace (web and web-green with 2 pods each, web-canary with 0, the Service web) serves the whole
table. Each case runs the module the way Ansible does on the target (python module.py args.json, which
is what AnsiballZ runs; the ansible CLI adds 1.5 s a call and nothing else here), then compares the
resourceVersion of every object in the namespace with the one before.
"""

import datetime
import json
import os
import subprocess
import sys

import kubeaccess
import pytest

from localcluster import paths, workloads

NS = "{ns}"  # replaced by the test namespace
WEB = {"name": "web", "namespace": NS}
SWITCH = {"service": "web", "namespace": NS}
CANARY = {"namespace": NS, "stable": "web", "canary": "web-canary"}
PROBE = {"httpGet": {"path": "/readyz", "port": "http"}, "periodSeconds": 1}
GATE = {"url": "http://127.0.0.1:9/metrics"}
STATUS = {"name": "web", "namespace": NS, "state": "status", "wait": False}


def _manifest(**meta):
    manifest = workloads.deployment("web", workloads.demo_container("1"), replicas=2)
    manifest["metadata"].update(meta)
    return manifest


# (id, module, args, [what the message must say]); "{ns}" is the test namespace, "{kc:NAME}" a kubeconfig below
# ("{kc:default}": the one every case runs with, docs/rbac.yml's Role in the least-privilege mode).
CASES = [
    # rollout: the strategy's numbers
    (
        "max_unavailable-150%",
        "rollout",
        dict(WEB, max_unavailable="150%"),
        ["max_unavailable (spec.strategy.rollingUpdate.maxUnavailable)", "150%", "must not be greater than 100%"],
    ),
    (
        "max_surge--1",
        "rollout",
        dict(WEB, max_surge="-1"),
        ["max_surge (spec.strategy.rollingUpdate.maxSurge)", "-1", "must be greater than or equal to 0"],
    ),
    (
        "max_surge-abc",
        "rollout",
        dict(WEB, max_surge="abc"),
        ["max_surge (spec.strategy.rollingUpdate.maxSurge)", "abc", "a valid percent string"],
    ),
    (
        "max_unavailable-2.5%",
        "rollout",
        dict(WEB, max_unavailable="2.5%"),
        ["max_unavailable (spec.strategy.rollingUpdate.maxUnavailable)", "[0-9]+%"],
    ),
    (
        "both-zero",
        "rollout",
        dict(WEB, max_surge=0, max_unavailable="0%"),
        ["max_unavailable (spec.strategy.rollingUpdate.maxUnavailable)", "may not be 0 when `maxSurge` is 0"],
    ),
    (
        "min_ready_seconds--1",
        "rollout",
        dict(WEB, min_ready_seconds=-1),
        ["minReadySeconds", "must be greater than or equal to 0"],
    ),
    (
        "deadline-below-min-ready",
        "rollout",
        dict(WEB, min_ready_seconds=30, progress_deadline_seconds=10),
        ["progressDeadlineSeconds", "must be greater than minReadySeconds"],
    ),
    ("wait_timeout-abc", "rollout", dict(WEB, wait_timeout="abc"), ["wait_timeout", "int"]),
    # rollout: what to change
    (
        "image-for-no-container",
        "rollout",
        dict(WEB, images={"sidecar": "localhost:5000/nodowntime/demo-app:2"}),
        ["images", "no container 'sidecar'", "'app'"],
    ),
    ("image-empty", "rollout", dict(WEB, images={"app": " "}), ["images.app", "non-empty image reference"]),
    (
        "definition-and-template_patch",
        "rollout",
        dict(WEB, definition=_manifest(), template_patch={"metadata": {}}),
        ["mutually exclusive", "definition", "template_patch"],
    ),
    (
        "images-with-state-status",
        "rollout",
        dict(WEB, state="status", images={"app": "localhost:5000/nodowntime/demo-app:2"}),
        ["images", "only apply with state=present"],
    ),
    (
        "definition-not-a-deployment",
        "rollout",
        dict(WEB, definition={"kind": "Service", "spec": {}}),
        ["definition", "kind: Deployment"],
    ),
    (
        "definition-other-name",
        "rollout",
        dict(WEB, definition=_manifest(name="other")),
        ["definition.metadata.name", "'other'", "name is 'web'"],
    ),
    ("state-bogus", "rollout", dict(WEB, state="deployed"), ["state", "must be one of"]),
    (
        "to_revision-0",
        "rollout",
        dict(WEB, state="rolled_back", to_revision=0),
        ["to_revision", "revisions start at 1"],
    ),
    (
        "to_revision-missing",
        "rollout",
        dict(WEB, state="rolled_back", to_revision=99),
        ["revision 99", "revisions kept: 1"],
    ),
    ("nothing-to-roll-back-to", "rollout", dict(WEB, state="rolled_back"), ["no rollout history", "revisions kept: 1"]),
    # rollout: what does not exist
    (
        "deployment-missing",
        "rollout",
        dict(WEB, name="nope", images={"app": "localhost:5000/nodowntime/demo-app:2"}),
        ["Deployment 'nope' not found", "namespace '{ns}'", "pass definition to create it"],
    ),
    ("deployment-missing-status", "rollout", dict(STATUS, name="nope"), ["Deployment 'nope' not found"]),
    ("namespace-missing", "rollout", dict(STATUS, namespace="no-such-namespace"), ["namespace 'no-such-namespace'"]),
    ("name-missing", "rollout", {"namespace": NS}, ["missing required arguments: name"]),
    # probe_config
    (
        "probe-no-handler",
        "probe_config",
        dict(WEB, readiness={"periodSeconds": 1}),
        ["readinessProbe", "must specify a handler type"],
    ),
    (
        "probe-two-handlers",
        "probe_config",
        dict(WEB, readiness=dict(PROBE, tcpSocket={"port": 8080})),
        ["readinessProbe.tcpSocket", "more than 1 handler"],
    ),
    (
        "probe-port-70000",
        "probe_config",
        dict(WEB, readiness={"httpGet": {"port": 70000}}),
        ["readinessProbe.httpGet.port", "70000", "between 1 and 65535"],
    ),
    (
        "probe-unknown-port-name",
        "probe_config",
        dict(WEB, liveness={"httpGet": {"port": "metrics"}}),
        ["livenessProbe.httpGet.port", "no port named 'metrics'", "http"],
    ),
    (
        "liveness-successThreshold-2",
        "probe_config",
        dict(WEB, liveness=dict(PROBE, successThreshold=2)),
        ["livenessProbe.successThreshold", "must be 1"],
    ),
    (
        "probe-periodSeconds-0",
        "probe_config",
        dict(WEB, readiness=dict(PROBE, periodSeconds=0)),
        ["readinessProbe.periodSeconds", "greater than or equal to 1"],
    ),
    (
        "probe-timeoutSeconds-abc",
        "probe_config",
        dict(WEB, startup=dict(PROBE, timeoutSeconds="abc")),
        ["startupProbe.timeoutSeconds", "must be an integer"],
    ),
    (
        "probe-unknown-field",
        "probe_config",
        dict(WEB, readiness=dict(PROBE, perodSeconds=1)),
        ["readinessProbe.perodSeconds", "unknown field"],
    ),
    (
        "probe-scheme-ftp",
        "probe_config",
        dict(WEB, readiness={"httpGet": {"port": "http", "scheme": "FTP"}}),
        ["readinessProbe.httpGet.scheme", "FTP", "HTTPS"],
    ),
    ("probe-not-a-mapping", "probe_config", dict(WEB, readiness="httpGet /readyz"), ["readiness", "dict"]),
    (
        "pre_stop-beyond-grace",
        "probe_config",
        dict(WEB, pre_stop=60),
        ["pre_stop", "60", "terminationGracePeriodSeconds"],
    ),
    ("pre_stop-garbage", "probe_config", dict(WEB, pre_stop={"sleep": "x"}), ["pre_stop", "seconds to sleep"]),
    (
        "grace--1",
        "probe_config",
        dict(WEB, termination_grace_period_seconds=-1),
        ["termination_grace_period_seconds", "greater than or equal to 0"],
    ),
    (
        "container-missing",
        "probe_config",
        dict(WEB, container="sidecar", readiness=PROBE),
        ["no container 'sidecar'", "'app'"],
    ),
    ("no-probe-option", "probe_config", dict(WEB), ["one of the following is required", "readiness"]),
    ("kind-job", "probe_config", dict(WEB, kind="Job", readiness=PROBE), ["kind", "must be one of"]),
    (
        "statefulset-missing",
        "probe_config",
        dict(WEB, kind="StatefulSet", readiness=PROBE),
        ["StatefulSet 'web' in namespace '{ns}' not found"],
    ),
    # switch_selector
    ("selector-empty", "switch_selector", dict(SWITCH, selector={}), ["selector is empty", "all traffic would stop"]),
    (
        "selector-matches-nothing",
        "switch_selector",
        dict(SWITCH, selector={"app": "web", "slot": "purple"}),
        ["no pod matches {app: web, slot: purple}"],
    ),
    (
        "selector-bad-key",
        "switch_selector",
        dict(SWITCH, selector={"bad key": "x"}),
        ["selector key 'bad key'", "not a valid label name"],
    ),
    (
        "selector-bad-value",
        "switch_selector",
        dict(SWITCH, selector={"app": "-web"}),
        ["selector value '-web'", "not a valid label value"],
    ),
    (
        "min_ready-0",
        "switch_selector",
        dict(SWITCH, selector={"app": "web", "slot": "green"}, min_ready=0),
        ["min_ready must be >= 1"],
    ),
    (
        "min_ready-above-ready",
        "switch_selector",
        dict(SWITCH, selector={"app": "web", "slot": "green"}, min_ready=5),
        ["refusing to switch web", "2 of 2 pods", "min_ready is 5"],
    ),
    (
        "service-missing",
        "switch_selector",
        dict(SWITCH, service="nope", selector={"app": "web", "slot": "green"}),
        ["Service 'nope' in namespace '{ns}' not found"],
    ),
    (
        "switch-wait_timeout-0",
        "switch_selector",
        dict(SWITCH, selector={"app": "web", "slot": "green"}, wait_timeout=0),
        ["wait_timeout must be >= 1"],
    ),
    # canary_scale
    ("weight-101", "canary_scale", dict(CANARY, weight=101), ["weight", "from 0 to 100", "101"]),
    ("weight--1", "canary_scale", dict(CANARY, weight=-1), ["weight", "from 0 to 100", "-1"]),
    ("weight-abc", "canary_scale", dict(CANARY, weight="abc"), ["weight", "int"]),
    (
        "stable-is-canary",
        "canary_scale",
        dict(CANARY, canary="web", weight=10),
        ["stable and canary", "two Deployments"],
    ),
    ("total_replicas-0", "canary_scale", dict(CANARY, weight=10, total_replicas=0), ["total_replicas", ">= 1"]),
    (
        "canary-missing",
        "canary_scale",
        dict(CANARY, canary="nope", weight=10),
        ["Deployment 'nope' in namespace '{ns}' not found"],
    ),
    ("mode-linear", "canary_scale", dict(CANARY, weight=10, mode="linear"), ["mode", "must be one of"]),
    # analysis
    (
        "jmespath-syntax",
        "analysis",
        dict(GATE, success_condition="error_rate < 0.01"),
        ["success_condition", "not valid JMESPath", "backticks"],
    ),
    (
        "jmespath-unclosed",
        "analysis",
        dict(GATE, failure_condition="errors[0"),
        ["failure_condition", "not valid JMESPath"],
    ),
    (
        "jmespath-unknown-function",
        "analysis",
        dict(GATE, success_condition="rate(@) < `1`"),
        ["success_condition", "unknown function rate()"],
    ),
    ("url-ftp", "analysis", dict(GATE, url="ftp://127.0.0.1/x"), ["url", "http:// or https://"]),
    ("body-with-get", "analysis", dict(GATE, body={"q": 1}), ["body", "POST or PUT"]),
    ("interval--1", "analysis", dict(GATE, interval=-1), ["interval", ">= 0"]),
    ("count-0", "analysis", dict(GATE, count=0), ["count", ">= 1"]),
    # credentials
    (
        "kubeconfig-missing",
        "rollout",
        dict(STATUS, kubeconfig="/nonexistent/kubeconfig"),
        ["kubeconfig /nonexistent/kubeconfig"],
    ),
    ("kubeconfig-garbled", "rollout", dict(STATUS, kubeconfig="{kc:garbled}"), ["kubeconfig", "garbled"]),
    ("kubeconfig-not-a-kubeconfig", "rollout", dict(STATUS, kubeconfig="{kc:scalar}"), ["kubeconfig", "scalar"]),
    (
        "kubeconfig-dict-without-clusters",
        "rollout",
        dict(STATUS, kubeconfig={"current-context": "x"}),
        ["the kubeconfig dict"],
    ),
    ("context-wrong", "rollout", dict(STATUS, kubeconfig="{kc:default}", context="prod"), ["prod", "contexts"]),
    ("token-bad", "rollout", dict(STATUS, kubeconfig="{kc:bad-token}"), ["unauthorized", "rejected the credentials"]),
    (
        "api_key-bad",
        "rollout",
        dict(STATUS, host="{server}", ca_cert="{ca}", api_key="not-a-token"),
        ["unauthorized", "rejected the credentials"],
    ),
    (
        "tls-ca-mismatch",
        "rollout",
        dict(STATUS, kubeconfig="{kc:other-ca}"),
        ["cannot reach the API server", "certificate verify failed"],
    ),
    (
        "api-server-unreachable",
        "rollout",
        dict(STATUS, kubeconfig="{kc:default}", host="https://127.0.0.1:1"),
        ["cannot reach the API server at https://127.0.0.1:1"],
    ),
]


def _other_ca(path):
    """A CA that did not sign the API server's certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not-the-cluster-ca")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


@pytest.fixture(scope="module")
def kubeconfigs(kube, tmp_path_factory):
    root = tmp_path_factory.mktemp("kubeconfigs")
    server = kube.info["server"]
    files = {"server": server}
    (root / "garbled").write_text("apiVersion: v1\nusers:\n- name: u\n  user:\n    token: abc: [x\n")
    (root / "scalar").write_text("just some text\n")
    files["garbled"], files["scalar"] = str(root / "garbled"), str(root / "scalar")
    files["bad-token"] = kubeaccess.write_kubeconfig(root / "bad-token", kubeaccess.kubeconfig_dict(server, "bogus"))
    other = kubeaccess.kubeconfig_dict(server, "bogus", ca_file=_other_ca(root / "other-ca.crt"))
    files["other-ca"] = kubeaccess.write_kubeconfig(root / "other-ca", other)
    return files


def _fill(value, ns, kubeconfigs):
    if isinstance(value, dict):
        return {k: _fill(v, ns, kubeconfigs) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ns, kubeconfigs) for v in value]
    if value == "{kc:default}":  # read when the case runs: conftest.py's kubeconfig_mode may have set it
        return paths.ADMIN_KUBECONFIG
    if isinstance(value, str) and value.startswith("{kc:"):
        return kubeconfigs[value[4:-1]]
    if isinstance(value, str):
        return value.replace("{ns}", ns).replace("{server}", kubeconfigs["server"]).replace("{ca}", kubeaccess.CA_CERT)
    return value


def run_direct(module, args, env=None, timeout=60):
    """The module as AnsiballZ runs it on the target: python <module> <args file>; returns its result."""
    argsfile = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"nodowntime-args-{os.getpid()}.json")
    with open(argsfile, "w") as f:
        json.dump({"ANSIBLE_MODULE_ARGS": args}, f)
    full_env = dict(os.environ, K8S_AUTH_KUBECONFIG=paths.ADMIN_KUBECONFIG, **(env or {}))
    try:
        proc = subprocess.run(
            [sys.executable, "-m", f"ansible_collections.nodowntime.k8s.plugins.modules.{module}", argsfile],
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    finally:
        os.remove(argsfile)
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stdout + proc.stderr
    except (IndexError, ValueError):
        raise AssertionError(
            f"{module} printed no result (rc {proc.returncode}):\n{proc.stdout}{proc.stderr}"
        ) from None


def test_the_table_is_big_enough():
    assert len(CASES) >= 40
    assert len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize(("module", "args", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_fails_naming_field_and_rule_and_changes_nothing(kube, app, kubeconfigs, module, args, expected):
    args = _fill(args, app, kubeconfigs)
    before = kubeaccess.snapshot(kube, app)
    result, out = run_direct(module, args)
    after = kubeaccess.snapshot(kube, app)
    assert result.get("failed"), out
    assert result.get("changed") is not True, out
    msg = result["msg"]
    missing = [text for text in _fill(expected, app, kubeconfigs) if text not in msg]
    assert not missing, f"{missing} not in: {msg}"
    # The kubelet writes a pod's status by itself (a probe, a container): a pod counts when it appears or goes.
    changed = kubeaccess.changed(before, after)
    assert [k for k in changed if not (k.startswith("pods/") and k in before and k in after)] == []
    assert "Traceback" not in out
    # A failure says what went wrong in a sentence, not in a dump.
    assert len(msg) < 1200, msg
