# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs built from the option groups modules share.  Private to the collection.

    ArgumentSpec(options, mutually_exclusive=(), required_one_of=())
        .merge(*others)       -> a new spec with the others' options and constraints added
        .create_module(cls)   -> the module (KubeModule by default; every module supports check mode)
    AUTH                      connection and authentication (doc fragment nodowntime.k8s.auth)
    PROGRESS                  progress, recorded in the nodowntime.k8s/progress annotation
                              (doc fragment nodowntime.k8s.progress)
    LOCK_OPTIONS              the release lock's Lease name, holder and ttl_seconds: the lock
                              module's own options, and the suboptions of rollout's lock
    wait(timeout)             wait and wait_timeout, with the module's default timeout
    check_wait(params)        raises ValueError for a wait_timeout below one second

Merging never changes the groups: a module's spec is its own.  The groups' docs stay in the
modules (or a doc fragment, where the words are the same): what wait waits for differs.
"""

from __future__ import annotations

from ansible_collections.nodowntime.k8s.plugins.module_utils._k8s.auth import AUTH_ARG_SPEC, KubeModule


class ArgumentSpec:
    def __init__(self, options=None, mutually_exclusive=(), required_one_of=()):
        self.options = dict(options or {})
        self.mutually_exclusive = list(mutually_exclusive)
        self.required_one_of = list(required_one_of)

    def merge(self, *others):
        merged = ArgumentSpec(self.options, self.mutually_exclusive, self.required_one_of)
        for other in others:
            merged.options.update(other.options)
            merged.mutually_exclusive += other.mutually_exclusive
            merged.required_one_of += other.required_one_of
        return merged

    def create_module(self, cls=KubeModule):
        return cls(
            argument_spec=self.options,
            mutually_exclusive=self.mutually_exclusive,
            required_one_of=self.required_one_of,
            supports_check_mode=True,
        )


AUTH = ArgumentSpec(AUTH_ARG_SPEC)
PROGRESS = ArgumentSpec({"progress": {"type": "dict"}})
LOCK_OPTIONS = {
    "name": {"type": "str", "required": True},
    "holder": {"type": "str", "required": True},
    "ttl_seconds": {"type": "int", "default": 1800},
}


def wait(timeout):
    return ArgumentSpec(
        {"wait": {"type": "bool", "default": True}, "wait_timeout": {"type": "int", "default": timeout}}
    )


def check_wait(params):
    if params["wait_timeout"] < 1:
        raise ValueError(f"wait_timeout must be >= 1 second, got {params['wait_timeout']}")
