# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How modules authenticate: kubernetes.core's option names and K8S_AUTH_* variables.

    AUTH_ARG_SPEC                    merge into a module's argument_spec
    KubeModule                       the AnsibleModule to build with it: masks a dict kubeconfig's
                                     credentials from the start, argument errors included
    secret_values(kubeconfig)        strings to add to module.no_log_values
    configuration(params)            -> kubernetes.client.Configuration; raises ConfigError
    impersonation(params)            -> (user, [groups]) for the client's request headers
    insecure_warning(cfg)            -> the warning to give when TLS verification is off, or None

Same names and variables as kubernetes.core, so existing playbooks, inventories and
AWX's "Kubernetes / OpenShift API Bearer Token" credential (K8S_AUTH_HOST, K8S_AUTH_API_KEY,
K8S_AUTH_VERIFY_SSL, K8S_AUTH_SSL_CA_CERT) work unchanged.
"""

from __future__ import annotations

import base64

from ansible.module_utils.basic import AnsibleModule, env_fallback


def _env(*names):
    return (env_fallback, list(names))


AUTH_ARG_SPEC = {
    "kubeconfig": {"type": "raw", "fallback": _env("K8S_AUTH_KUBECONFIG")},
    "context": {"type": "str", "fallback": _env("K8S_AUTH_CONTEXT")},
    "host": {"type": "str", "fallback": _env("K8S_AUTH_HOST")},
    "api_key": {"type": "str", "no_log": True, "fallback": _env("K8S_AUTH_API_KEY")},
    "username": {"type": "str", "fallback": _env("K8S_AUTH_USERNAME")},
    "password": {"type": "str", "no_log": True, "fallback": _env("K8S_AUTH_PASSWORD")},
    "validate_certs": {
        "type": "bool",
        "aliases": ["verify_ssl"],
        "fallback": _env("K8S_AUTH_VALIDATE_CERTS", "K8S_AUTH_VERIFY_SSL"),
    },
    "ca_cert": {
        "type": "path",
        "aliases": ["ssl_ca_cert"],
        "fallback": _env("K8S_AUTH_CA_CERT", "K8S_AUTH_SSL_CA_CERT"),
    },
    "client_cert": {
        "type": "path",
        "aliases": ["cert_file"],
        "fallback": _env("K8S_AUTH_CLIENT_CERT", "K8S_AUTH_CERT_FILE"),
    },
    # A path to the key, not the key itself.
    "client_key": {
        "type": "path",
        "aliases": ["key_file"],
        "no_log": False,
        "fallback": _env("K8S_AUTH_CLIENT_KEY", "K8S_AUTH_KEY_FILE"),
    },
    "proxy": {"type": "str", "fallback": _env("K8S_AUTH_PROXY")},
    "no_proxy": {"type": "str", "fallback": _env("K8S_AUTH_NO_PROXY")},
    "impersonate_user": {"type": "str", "fallback": _env("K8S_AUTH_IMPERSONATE_USER")},
    "impersonate_groups": {"type": "list", "elements": "str", "fallback": _env("K8S_AUTH_IMPERSONATE_GROUPS")},
}


class ConfigError(Exception):
    pass


class KubeModule(AnsibleModule):
    """An AnsibleModule whose dict kubeconfig is masked as soon as the parameters are read.

    AnsibleModule fails on a bad argument before the module's own code runs, and that failure
    echoes every parameter (invocation.module_args), the kubeconfig's token and keys included."""

    def _load_params(self):
        super()._load_params()
        self.no_log_values.update(secret_values(self.params.get("kubeconfig")))


def secret_values(kubeconfig):
    """Every string under a dict kubeconfig's users: tokens, keys, passwords, exec env.

    Only the users section: masking cluster names or "v1" would garble every message."""
    if not isinstance(kubeconfig, dict):
        return set()
    found = set()

    def walk(value):
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, str) and value:
            found.add(value)

    for entry in kubeconfig.get("users") or []:
        walk((entry or {}).get("user"))
    return found


def _load(params, cfg):
    from kubernetes import config

    kubeconfig, context = params.get("kubeconfig"), params.get("context")
    if isinstance(kubeconfig, dict):
        config.load_kube_config_from_dict(kubeconfig, context=context, client_configuration=cfg, persist_config=False)
    elif kubeconfig or context:
        config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=cfg, persist_config=False)
    else:
        try:
            config.load_incluster_config(client_configuration=cfg)
        except config.ConfigException:
            config.load_kube_config(client_configuration=cfg, persist_config=False)


def configuration(params):
    import yaml  # the kubernetes client's own dependency
    from kubernetes import client, config

    p = {k: params.get(k) for k in AUTH_ARG_SPEC}
    cfg = client.Configuration()
    # Explicit credentials need no file; anything less is completed from a kubeconfig.
    self_sufficient = p["host"] and (p["api_key"] or (p["username"] and p["password"]))
    if not self_sufficient:
        try:
            _load(p, cfg)
        except (config.ConfigException, OSError, TypeError, ValueError, AttributeError, yaml.YAMLError) as e:
            raise ConfigError(_load_failure(p, e)) from None
    explicit = {}  # Configuration attribute -> the module's value for it
    if p["host"]:
        explicit["host"] = p["host"].rstrip("/")
    if p["api_key"]:
        explicit["api_key"] = {"authorization": f"Bearer {p['api_key']}"}
    elif p["username"] and p["password"]:
        basic = base64.b64encode(f"{p['username']}:{p['password']}".encode()).decode()
        explicit["api_key"] = {"authorization": f"Basic {basic}"}
    for option, attribute in (
        ("validate_certs", "verify_ssl"),
        ("ca_cert", "ssl_ca_cert"),
        ("client_cert", "cert_file"),
        ("client_key", "key_file"),
        ("proxy", "proxy"),
        ("no_proxy", "no_proxy"),
    ):
        if p[option] is not None:
            explicit[attribute] = p[option]
    _apply(cfg, explicit)
    # A kubeconfig user with a token leaves refresh_api_key_hook behind, which the client runs
    # before every request and which copies the kubeconfig's server, TLS settings, cert paths,
    # proxy and token back over the configuration: host and validate_certs: true would be lost
    # without a word. The module's options are put back after the hook, every time; the hook
    # also installs itself again as it runs, so this wrapper does the same after it.
    hook = cfg.refresh_api_key_hook
    if hook is not None and explicit:

        def refresh(configuration):
            hook(configuration)
            _apply(configuration, explicit)
            configuration.refresh_api_key_hook = refresh

        cfg.refresh_api_key_hook = refresh
    return cfg


def _apply(cfg, explicit):
    for attribute, value in explicit.items():
        # A fresh api_key dict each time: the kubeconfig's hook adds its own token to the one it finds.
        setattr(cfg, attribute, dict(value) if isinstance(value, dict) else value)


def _load_failure(p, error):
    kubeconfig = p["kubeconfig"]
    if isinstance(kubeconfig, dict):
        source = "the kubeconfig dict"
    elif kubeconfig:
        source = f"kubeconfig {kubeconfig}"
    elif p["context"]:
        source = f"context {p['context']!r} of the default kubeconfig"
    else:
        return (
            f"cannot load Kubernetes credentials ({error}); not running in a cluster, so set kubeconfig "
            "(a path or a dict), context, or host with api_key, or the K8S_AUTH_* environment variables"
        )
    return (
        f"cannot load Kubernetes credentials from {source}: {error}; it must be a kubeconfig "
        "(YAML with clusters, users, contexts and current-context, or the context option)"
    )


def insecure_warning(cfg):
    if cfg.verify_ssl:
        return None
    return (
        f"TLS verification is off for {cfg.host} (validate_certs: false or insecure-skip-tls-verify): anyone "
        "between here and the API server can read the credentials and change what is deployed; "
        "set ca_cert (or certificate-authority in the kubeconfig) instead"
    )


def impersonation(params):
    return params.get("impersonate_user"), list(params.get("impersonate_groups") or [])
