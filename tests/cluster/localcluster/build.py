"""Build the control-plane multi-call binary once and cache it outside the repo.

The cache key covers everything that decides the bytes: go.mod, go.sum, main.go
and the Go version.  A warm machine finds the binary and skips the build.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import threading
import time

MODULE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "controlplane")
CACHE_ROOT = os.environ.get("NODOWNTIME_CACHE", os.path.expanduser("~/.cache/nodowntime"))
KEYED_FILES = ("go.mod", "go.sum", "main.go")


def go_version():
    return subprocess.run(["go", "env", "GOVERSION"], check=True, capture_output=True, text=True).stdout.strip()


def cache_key():
    h = hashlib.sha256(go_version().encode())
    for name in KEYED_FILES:
        with open(os.path.join(MODULE_DIR, name), "rb") as f:
            h.update(name.encode() + b"\0" + f.read())
    return h.hexdigest()[:16]


def binary_path():
    return os.path.join(CACHE_ROOT, "controlplane-" + cache_key(), "controlplane")


def _log(msg, started):
    print(f"[build {time.monotonic() - started:6.0f}s] {msg}", file=sys.stderr, flush=True)


def _count_packages(env):
    out = subprocess.run(
        ["go", "list", "-deps", "."], cwd=MODULE_DIR, env=env, check=True, capture_output=True, text=True
    ).stdout
    return len(out.split())


def build(force=False):
    """Return the cached binary's path, building it first when the cache misses."""
    target = binary_path()
    if os.path.exists(target) and not force:
        return target
    started = time.monotonic()
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=readonly")
    _log("downloading modules (go mod download)", started)
    subprocess.run(["go", "mod", "download"], cwd=MODULE_DIR, env=env, check=True)
    total = _count_packages(env)
    _log(f"compiling {total} packages on {os.cpu_count()} cores; this is the slow step on a cold cache", started)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    partial = target + ".partial"
    proc = subprocess.Popen(
        ["go", "build", "-v", "-trimpath", "-ldflags=-s -w", "-o", partial, "."],
        cwd=MODULE_DIR,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    done = [0]
    lines = []

    def report():
        while proc.poll() is None:
            time.sleep(15)
            if proc.poll() is None:
                _log(f"compiled {done[0]}/{total} packages (already-cached packages are not listed)", started)

    threading.Thread(target=report, daemon=True).start()
    for line in proc.stderr:
        done[0] += 1
        lines.append(line)
    if proc.wait() != 0:
        sys.stderr.write("".join(lines[-40:]))
        raise SystemExit(f"control-plane build failed (exit {proc.returncode})")
    os.replace(partial, target)
    _log(f"built {target} ({os.path.getsize(target) / 1e6:.0f} MB)", started)
    return target


def prune():
    """Remove cached binaries of other keys, so the cache holds one build."""
    keep = os.path.basename(os.path.dirname(binary_path()))
    for entry in os.listdir(CACHE_ROOT) if os.path.isdir(CACHE_ROOT) else ():
        if entry.startswith("controlplane-") and entry != keep:
            shutil.rmtree(os.path.join(CACHE_ROOT, entry), ignore_errors=True)


if __name__ == "__main__":
    print(build(force="--force" in sys.argv))
