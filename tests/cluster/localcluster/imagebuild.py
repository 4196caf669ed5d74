"""Build the test images' static binaries (tests/cluster/images: demo-app, pause, registry) once.

They are cached outside the repo under a key of everything that decides their bytes: go.mod,
go.sum, every .go file (by relative path) and the Go version.  A warm machine skips the build.
"""

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

from .build import CACHE_ROOT, go_version

MODULE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "images")
COMMANDS = ("demo-app", "pause", "registry")


def _sources():
    """Sorted (relative path, path) of the files the key covers."""
    paths = [os.path.join(MODULE_DIR, name) for name in ("go.mod", "go.sum")]
    for root, _dirs, files in os.walk(MODULE_DIR):
        paths += [os.path.join(root, f) for f in files if f.endswith(".go")]
    return sorted((os.path.relpath(p, MODULE_DIR), p) for p in paths)


def cache_key():
    h = hashlib.sha256(go_version().encode())
    for rel, path in _sources():
        with open(path, "rb") as f:
            data = f.read()
        # The length keeps one file's end from passing for the next file's name.
        h.update(b"\0%s\0%d\0" % (rel.encode(), len(data)) + data)
    return h.hexdigest()[:16]


def build():
    """{"demo-app": path, "pause": path, "registry": path}, built first when the cache misses."""
    out_dir = os.path.join(CACHE_ROOT, "images-" + cache_key())
    paths = {name: os.path.join(out_dir, name) for name in COMMANDS}
    if all(os.path.exists(p) for p in paths.values()):
        return paths
    started = time.monotonic()
    print("[images] building demo-app, pause and registry (static; ~15 s on a cold Go cache)", file=sys.stderr)
    os.makedirs(out_dir, exist_ok=True)
    # A partial directory of this build's own: a concurrent build never renames a half-written binary.
    partial = tempfile.mkdtemp(prefix=".partial-", dir=out_dir)
    # No VCS stamp: a commit elsewhere in the repo must not change the binaries, hence the image digests.
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=readonly -buildvcs=false")
    argv = ["go", "build", "-trimpath", "-ldflags=-s -w", "-o", partial + os.sep, "./cmd/..."]
    proc = subprocess.run(argv, check=False, cwd=MODULE_DIR, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        with contextlib.suppress(OSError):
            os.rmdir(out_dir)  # leave no empty key behind
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
        raise SystemExit(f"image binaries build failed (exit {proc.returncode}):\n{tail}")
    for name, path in paths.items():
        os.replace(os.path.join(partial, name), path)
    os.rmdir(partial)
    print(f"[images] built in {time.monotonic() - started:.0f}s into {out_dir}", file=sys.stderr)
    return paths


if __name__ == "__main__":
    print(build())
