"""No token or key material in the output, whatever way the credentials come in.

Every module scenario runs at -vvv, with --diff, successes and failures alike (a change and its undo, a
dry run, unchanged calls, an argument error, a validation error, a missing object, a forbidden call), once
per way of passing credentials: a kubeconfig file with a ServiceAccount token, api_key with host, the
AWX credential's K8S_AUTH_* variables, client_cert/client_key files, and a dict kubeconfig with a token or
with client-key-data. The whole output is then searched for the token and for the key, whole and in parts.
"""

import base64
import json
import textwrap

import kubeaccess
import pytest
from ansible_run import run_playbook

from localcluster import paths

TASKS = """\
- name: a release and its undo
  nodowntime.k8s.rollout: {name: web, images: {app: "localhost:5000/nodowntime/demo-app:2"}, wait_timeout: 120}
- nodowntime.k8s.rollout: {name: web, state: rolled_back, wait_timeout: 120}
- name: a dry run with a diff
  nodowntime.k8s.rollout: {name: web, images: {app: "localhost:5000/nodowntime/demo-app:3"}}
  check_mode: true
- nodowntime.k8s.rollout: {name: web, state: status}
- nodowntime.k8s.probe_config:
    name: web
    readiness: {httpGet: {path: /readyz, port: http}, periodSeconds: 1, failureThreshold: 1}
- nodowntime.k8s.switch_selector: {service: web, selector: {app: web, slot: blue}}
- nodowntime.k8s.canary_scale: {stable: web, canary: web-canary, weight: 0}
- name: an argument error
  nodowntime.k8s.canary_scale: {stable: web, canary: web-canary, weight: abc}
  ignore_errors: true
- name: a validation error
  nodowntime.k8s.switch_selector: {service: web, selector: {}}
  ignore_errors: true
- name: a missing required option
  nodowntime.k8s.rollout: {state: status}
  ignore_errors: true
- name: a missing object
  nodowntime.k8s.rollout: {name: nope, state: status}
  ignore_errors: true
- name: somewhere else (forbidden for the ServiceAccount)
  nodowntime.k8s.rollout: {name: web, namespace: kube-system, state: status}
  ignore_errors: true
"""


def _pem_body(path):
    with open(path) as f:
        lines = [line.strip() for line in f if line.strip() and not line.startswith("-----")]
    return lines


def _key_secrets(path):
    """The key as a file holds it, as one base64 blob, and as client-key-data; each line of it too."""
    lines = _pem_body(path)
    with open(path, "rb") as f:
        data = base64.b64encode(f.read()).decode()
    return ["".join(lines), data, *[line for line in lines if len(line) >= 16]]


def _token_secrets(token):
    _header, payload, signature = token.split(".")
    return [token, payload, signature]


@pytest.fixture(scope="module")
def credentials(kube, least_privilege, tmp_path_factory):
    """{name: (module_defaults auth options, environment, [secret strings])}."""
    root = tmp_path_factory.mktemp("credentials")
    server, token = least_privilege["server"], least_privilege["token"]
    key, cert = f"{paths.PKI_DIR}/admin.key", f"{paths.PKI_DIR}/admin.crt"
    # A kubeconfig with the cluster only: the client certificate comes from the options.
    no_user = kubeaccess.write_kubeconfig(root / "cluster-only", kubeaccess.kubeconfig_dict(server))
    with open(cert, "rb") as f:
        cert_data = base64.b64encode(f.read()).decode()
    with open(key, "rb") as f:
        key_data = base64.b64encode(f.read()).decode()
    tokens, keys = _token_secrets(token), _key_secrets(key)
    return {
        "token-kubeconfig-file": ({}, {"K8S_AUTH_KUBECONFIG": least_privilege["kubeconfig"]}, tokens),
        "api_key": ({"host": server, "ca_cert": kubeaccess.CA_CERT, "api_key": token}, {}, tokens),
        "awx-environment": (
            {},
            {"K8S_AUTH_HOST": server, "K8S_AUTH_API_KEY": token, "K8S_AUTH_SSL_CA_CERT": kubeaccess.CA_CERT},
            tokens,
        ),
        "client_key-file": ({"kubeconfig": no_user, "client_cert": cert, "client_key": key}, {}, keys),
        "dict-kubeconfig-token": ({"kubeconfig": kubeaccess.kubeconfig_dict(server, token)}, {}, tokens),
        "dict-kubeconfig-client-key-data": (
            {"kubeconfig": kubeaccess.kubeconfig_dict(server, cert_data=cert_data, key_data=key_data)},
            {},
            [key_data, *keys],
        ),
    }


def _play(tmp_path, namespace, auth, tasks):
    defaults = json.dumps(dict(auth, namespace=namespace))
    path = tmp_path / "play.yml"
    path.write_text(
        textwrap.dedent(f"""\
            - hosts: localhost
              gather_facts: false
              module_defaults:
                group/nodowntime.k8s.k8s: {defaults}
              tasks:
            """)
        + textwrap.indent(tasks, "    ")
    )
    return str(path)


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    "way",
    [
        "token-kubeconfig-file",
        "api_key",
        "awx-environment",
        "client_key-file",
        "dict-kubeconfig-token",
        "dict-kubeconfig-client-key-data",
    ],
)
def test_no_credential_in_the_vvv_output_of_any_scenario(kube, app, credentials, tmp_path, way):
    auth, env, secrets = credentials[way]
    # K8S_AUTH_KUBECONFIG would otherwise point at the admin kubeconfig (ansible_run's default).
    env = {"K8S_AUTH_KUBECONFIG": "", **env}
    proc = run_playbook(_play(tmp_path, app, auth, TASKS), diff=True, env=env, verbosity=3)
    out = proc.stdout
    assert proc.returncode == 0, out
    assert "ok=12 " in out and "failed=0 " in out and "ignored=5 " in out, out[-2000:]
    assert "changed: [localhost]" in out  # the release really ran with these credentials
    leaked = [i for i, secret in enumerate(secrets) if secret in out]  # indexes: the report must not leak either
    assert not leaked, f"secret strings {leaked} of {len(secrets)} found in the -vvv output"
    assert "TLS verification is off" not in out  # verification is on by default


def test_turning_tls_verification_off_warns(app, credentials, tmp_path):
    auth, env, _secrets = credentials["api_key"]
    tasks = "- nodowntime.k8s.rollout: {name: web, state: status, validate_certs: false}\n"
    proc = run_playbook(_play(tmp_path, app, auth, tasks), env=dict(env, K8S_AUTH_KUBECONFIG=""))
    assert proc.returncode == 0, proc.stdout
    assert "[WARNING]: TLS verification is off for https://127.0.0.1:" in proc.stdout, proc.stdout
