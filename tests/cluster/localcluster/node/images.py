"""What an image reference means on this node: the demo app, pause, or a pull that fails."""

import hashlib
import os
import sys
from dataclasses import dataclass

# The real node's registry names (localhost:5000/...) too, so one manifest runs on either node.
DEMO_REPOS = ("nodowntime/demo-app", "docker.io/nodowntime/demo-app", "localhost:5000/nodowntime/demo-app")
PAUSE_REPOS = ("registry.k8s.io/pause", "localhost:5000/pause")
DEMO_APP = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "demoapp.py")

DEMO, PAUSE, UNKNOWN = "demo", "pause", "unknown"


@dataclass(frozen=True)
class Image:
    ref: str
    kind: str
    tag: str

    @property
    def image_id(self):
        """A stable, digest-shaped imageID for the status (there is no real image)."""
        if self.kind == UNKNOWN:
            return ""
        repo = self.ref.rsplit(":", 1)[0] if ":" in self.ref.rsplit("/", 1)[-1] else self.ref
        return f"{repo}@sha256:{hashlib.sha256(self.ref.encode()).hexdigest()}"


def split(ref):
    """('repo', 'tag') of an image reference; the tag defaults to 'latest'. Digests stay in repo."""
    if "@" in ref:
        return ref, ""
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        repo, tag = ref.rsplit(":", 1)
        return repo, tag
    return ref, "latest"


def classify(ref):
    repo, tag = split(ref)
    if repo in DEMO_REPOS and tag:
        return Image(ref, DEMO, tag)
    if repo in PAUSE_REPOS and tag:
        return Image(ref, PAUSE, tag)
    return Image(ref, UNKNOWN, tag)


def pull_error(ref):
    """The message of a failed pull, shaped like containerd's."""
    return (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": '
        f"this node runs only nodowntime/demo-app:<tag> and registry.k8s.io/pause:<tag>"
    )


def argv(image, container, expanded_command, expanded_args):
    """The process to run for a container, or None when it runs nothing (pause).

    The demo image's entrypoint is the demo app; `command` replaces it (runs locally, as
    an exec probe does), `args` are appended either way.
    """
    if image.kind == PAUSE:
        return None
    if expanded_command:
        return list(expanded_command) + list(expanded_args)
    return [sys.executable, DEMO_APP, *list(expanded_args)]
