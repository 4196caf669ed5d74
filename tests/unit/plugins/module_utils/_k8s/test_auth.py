"""kubernetes.core's option names, K8S_AUTH_* fallbacks, and secrets kept out of output."""

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s import auth


def validated(monkeypatch, env, params=None):
    for key in list(__import__("os").environ):
        if key.startswith("K8S_AUTH_"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = ArgumentSpecValidator(auth.AUTH_ARG_SPEC).validate(params or {})
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def test_awx_credential_variables(monkeypatch):
    p = validated(
        monkeypatch,
        {
            "K8S_AUTH_HOST": "https://k8s:6443",
            "K8S_AUTH_API_KEY": "tok",
            "K8S_AUTH_VERIFY_SSL": "false",
            "K8S_AUTH_SSL_CA_CERT": "/ca.pem",
        },
    )
    assert (p["host"], p["api_key"], p["validate_certs"], p["ca_cert"]) == ("https://k8s:6443", "tok", False, "/ca.pem")


def test_the_option_names_variables_too(monkeypatch):
    p = validated(
        monkeypatch,
        {
            "K8S_AUTH_KUBECONFIG": "/kc",
            "K8S_AUTH_CONTEXT": "prod",
            "K8S_AUTH_IMPERSONATE_USER": "bob",
            "K8S_AUTH_IMPERSONATE_GROUPS": "g1,g2",
            "K8S_AUTH_CLIENT_KEY": "/k.pem",
            "K8S_AUTH_NO_PROXY": "localhost",
        },
    )
    assert p["kubeconfig"] == "/kc" and p["context"] == "prod" and p["client_key"] == "/k.pem"
    assert auth.impersonation(p) == ("bob", ["g1", "g2"]) and p["no_proxy"] == "localhost"


def test_options_beat_the_environment(monkeypatch):
    assert validated(monkeypatch, {"K8S_AUTH_CONTEXT": "prod"}, {"context": "dev"})["context"] == "dev"


def test_secrets_are_no_log():
    assert auth.AUTH_ARG_SPEC["api_key"]["no_log"] and auth.AUTH_ARG_SPEC["password"]["no_log"]


def test_every_user_value_of_a_dict_kubeconfig_is_secret():
    kc = {
        "apiVersion": "v1",
        "clusters": [{"name": "c", "cluster": {"server": "https://x"}}],
        "users": [{"name": "u", "user": {"token": "s3cr3t", "exec": {"env": [{"name": "K", "value": "v4l"}]}}}],
    }
    assert auth.secret_values(kc) == {"s3cr3t", "K", "v4l"}
    assert auth.secret_values("/path/to/kubeconfig") == set()


def test_host_with_token_needs_no_kubeconfig(monkeypatch):
    monkeypatch.setenv("KUBECONFIG", "/nonexistent")
    cfg = auth.configuration({"host": "https://127.0.0.1:6443/", "api_key": "tok", "validate_certs": False})
    assert cfg.host == "https://127.0.0.1:6443" and cfg.api_key == {"authorization": "Bearer tok"}
    assert cfg.verify_ssl is False


def test_dict_kubeconfig_and_context(tmp_path):
    kc = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "a",
        "clusters": [
            {"name": "a", "cluster": {"server": "https://127.0.0.1:1111"}},
            {"name": "b", "cluster": {"server": "https://127.0.0.1:2222"}},
        ],
        "contexts": [
            {"name": "a", "context": {"cluster": "a", "user": "u"}},
            {"name": "b", "context": {"cluster": "b", "user": "u"}},
        ],
        "users": [{"name": "u", "user": {"token": "t"}}],
    }
    assert auth.configuration({"kubeconfig": kc}).host == "https://127.0.0.1:1111"
    assert auth.configuration({"kubeconfig": kc, "context": "b"}).host == "https://127.0.0.1:2222"


def test_no_credentials_at_all_says_what_to_set(monkeypatch, tmp_path):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(auth.ConfigError, match="K8S_AUTH_"):
        auth.configuration({})


def token_kubeconfig(tmp_path):
    ca, cert, key = (tmp_path / name for name in ("kc-ca.crt", "kc.crt", "kc.key"))
    for path in (ca, cert, key):
        path.write_text("x")
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "a",
        "clusters": [
            {
                "name": "a",
                "cluster": {
                    "server": "https://127.0.0.1:1111",
                    "insecure-skip-tls-verify": True,
                    "certificate-authority": str(ca),
                    "proxy-url": "http://kc-proxy:3128",
                },
            }
        ],
        "contexts": [{"name": "a", "context": {"cluster": "a", "user": "u"}}],
        "users": [
            {"name": "u", "user": {"token": "kc-token", "client-certificate": str(cert), "client-key": str(key)}}
        ],
    }


def test_options_win_over_a_token_kubeconfigs_refresh_hook(tmp_path):
    """The kubeconfig loader's refresh_api_key_hook, run before each request, copies the kubeconfig back."""
    options = {
        "kubeconfig": token_kubeconfig(tmp_path),
        "host": "https://127.0.0.1:1",
        "validate_certs": True,
        "ca_cert": "/opt/ca.pem",
        "client_cert": "/opt/client.pem",
        "client_key": "/opt/client.key",
        "proxy": "http://option-proxy:8080",
    }
    cfg = auth.configuration(options)
    assert cfg.refresh_api_key_hook is not None
    # As the client does while it builds each request's headers (ApiClient.update_params_for_auth).
    for _request in range(2):
        authorization = cfg.auth_settings()["BearerToken"]["value"]
        assert authorization == "Bearer kc-token"
        assert cfg.verify_ssl is True and cfg.host == "https://127.0.0.1:1"
        assert (cfg.ssl_ca_cert, cfg.cert_file, cfg.key_file) == ("/opt/ca.pem", "/opt/client.pem", "/opt/client.key")
        assert cfg.proxy == "http://option-proxy:8080"
    assert auth.insecure_warning(cfg) is None


def test_api_key_option_wins_over_a_token_kubeconfigs_token(tmp_path):
    cfg = auth.configuration({"kubeconfig": token_kubeconfig(tmp_path), "api_key": "option-token"})
    for _request in range(2):
        assert cfg.auth_settings()["BearerToken"]["value"] == "Bearer option-token"
    assert cfg.host == "https://127.0.0.1:1111" and cfg.verify_ssl is False  # the kubeconfig's, not overridden
