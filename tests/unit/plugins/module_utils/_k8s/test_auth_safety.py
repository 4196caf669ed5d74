"""Credentials stay out of every failure, a garbled kubeconfig is a clean failure, and TLS off is warned about."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s import auth

TOKEN = "s3cr3t-token-value-for-the-test"
KEY = "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tZmFrZQ=="
DICT_KUBECONFIG = {
    "apiVersion": "v1",
    "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443"}}],
    "users": [{"name": "u", "user": {"token": TOKEN, "client-key-data": KEY}}],
    "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
    "current-context": "x",
}
SPEC = dict(auth.AUTH_ARG_SPEC, weight={"type": "int", "required": True})


def failure_output(capsys, args):
    with patch_module_args(args), pytest.raises(SystemExit):
        auth.KubeModule(argument_spec=SPEC)
    return capsys.readouterr().out


def test_an_argument_error_does_not_echo_the_dict_kubeconfigs_credentials(capsys):
    out = failure_output(capsys, {"weight": "abc", "kubeconfig": DICT_KUBECONFIG})
    result = json.loads(out)
    assert result["failed"] and "weight" in result["msg"]
    assert TOKEN not in out and KEY not in out
    # Only the users section is masked: the rest of the kubeconfig stays readable.
    assert "https://127.0.0.1:6443" in out


def test_a_missing_argument_does_not_echo_them_either(capsys):
    out = failure_output(capsys, {"kubeconfig": DICT_KUBECONFIG})
    assert "weight" in json.loads(out)["msg"] and TOKEN not in out and KEY not in out


@pytest.mark.parametrize(
    "content",
    ["users:\n- name: u\n  user:\n    token: abc: [x\n", "just text\n", "- a\n- b\n", "clusters: 5\n", "\0\xff"],
    ids=["yaml-error", "scalar", "list", "wrong-types", "binary"],
)
def test_a_garbled_kubeconfig_file_is_a_config_error_naming_it(tmp_path, content):
    path = tmp_path / "kubeconfig"
    path.write_text(content, errors="surrogateescape")
    with pytest.raises(auth.ConfigError) as e:
        auth.configuration({"kubeconfig": str(path)})
    assert f"kubeconfig {path}" in str(e.value)


def test_a_missing_context_is_named(tmp_path):
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(DICT_KUBECONFIG))
    with pytest.raises(auth.ConfigError) as e:
        auth.configuration({"kubeconfig": str(path), "context": "prod"})
    assert "prod" in str(e.value)


def test_tls_verification_is_on_by_default_and_off_is_warned_about(tmp_path):
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(DICT_KUBECONFIG))
    cfg = auth.configuration({"kubeconfig": str(path)})
    assert cfg.verify_ssl is True and auth.insecure_warning(cfg) is None
    cfg = auth.configuration({"kubeconfig": str(path), "validate_certs": False})
    assert "TLS verification is off for https://127.0.0.1:6443" in auth.insecure_warning(cfg)
    insecure = json.loads(json.dumps(DICT_KUBECONFIG))
    insecure["clusters"][0]["cluster"]["insecure-skip-tls-verify"] = True
    assert auth.insecure_warning(auth.configuration({"kubeconfig": insecure})) is not None
