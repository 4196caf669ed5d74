"""Build the cluster's binaries once and cache them outside the repo.

Two builds, each cached under a key of everything that decides its bytes and the Go version,
so a warm machine skips both:
- the multi-call Kubernetes binary from controlplane/ (etcd, the control plane, kubectl, and the
  node's kubelet and kube-proxy), stamped with the release's version as upstream's build stamps it;
- the node's other upstream tools, each `go install`ed at its pinned version under its own
  module's go.mod, exactly as its release is built: containerd, runc, the CNI plugins, crictl.
"""

import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

MODULE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "controlplane")
CACHE_ROOT = os.environ.get("NODOWNTIME_CACHE", os.path.expanduser("~/.cache/nodowntime"))
# Another Kubernetes release than go.mod's: gen_gomod.py --alternate writes its go.mod and go.sum beside.
ALTERNATE_MODFILE = re.compile(r"^kubernetes-(v[\d.]+)\.mod$")


@dataclass(frozen=True)
class Tool:
    """One upstream module's commands, built as its own Makefile builds them."""

    name: str
    module: str
    version: str
    packages: tuple  # paths inside the module; "" is the module's root package
    tags: str = ""
    ldflags: str = ""  # with {version} for the release's version
    cgo: bool = False


# Versions: the newest the Go module proxy served for Go 1.26 when they were chosen.
NODE_TOOLS = (
    Tool(
        "containerd",
        "github.com/containerd/containerd/v2",
        "v2.4.2",
        ("cmd/containerd", "cmd/containerd-shim-runc-v2", "cmd/ctr"),
        tags="no_btrfs no_devmapper no_zfs urfave_cli_no_docs",
        ldflags="-X github.com/containerd/containerd/v2/version.Version={version}",
    ),
    # runc's release is built with cgo for seccomp (libseccomp-dev); libpathrs, a Rust library, is left out.
    Tool(
        "runc",
        "github.com/opencontainers/runc",
        "v1.5.3",
        ("",),
        tags="seccomp urfave_cli_no_docs",
        ldflags="-X main.version={version}",
        cgo=True,
    ),
    Tool(
        "cni-plugins",
        "github.com/containernetworking/plugins",
        "v1.10.0",
        ("plugins/main/bridge", "plugins/main/loopback", "plugins/ipam/host-local", "plugins/meta/portmap"),
        ldflags="-X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion={version}",
    ),
    Tool(
        "crictl",
        "sigs.k8s.io/cri-tools",
        "v1.37.0",
        ("cmd/crictl",),
        ldflags="-X sigs.k8s.io/cri-tools/pkg/version.Version={version}",
    ),
)


@dataclass(frozen=True)
class Gateway:
    """Traefik built from its module source, and the Gateway API CRDs it serves."""

    module: str
    version: str
    crds_module: str
    crds_version: str


# Traefik v3.7.13 cannot be built here: the Go module proxy refuses (403) eight of its pinned modules,
# and three of them (akamai edgegrid v13, nrdcg/oci-go-sdk v1065, sacloud-sdk-go) at every version, all
# for its ACME DNS providers; its module zip also lacks the nested module ./pkg/config/dynamic/ext
# that its go.mod replaces. v3.6.12 resolves in full from the proxy, exactly as released.
GATEWAY = Gateway(
    "github.com/traefik/traefik/v3",
    "v3.6.12",
    # Traefik v3.6 is built against gateway-api v1.4.0; the v1.6 standard CRDs still serve every version
    # it reads (v1 routes, gateways and classes, ReferenceGrant v1beta1, BackendTLSPolicy v1).
    "sigs.k8s.io/gateway-api",
    "v1.6.3",
)


def go_version():
    return subprocess.run(["go", "env", "GOVERSION"], check=True, capture_output=True, text=True).stdout.strip()


def kubernetes_version():
    """The k8s.io/kubernetes release controlplane/go.mod pins, e.g. v1.37.2: the default."""
    with open(os.path.join(MODULE_DIR, "go.mod")) as f:
        return re.search(r"^\s*k8s\.io/kubernetes (v\S+)", f.read(), re.MULTILINE).group(1)


def kubernetes_versions():
    """Every release the binary can be built at: go.mod's first, then each alternate go.mod's."""
    alternates = sorted(m.group(1) for m in map(ALTERNATE_MODFILE.match, os.listdir(MODULE_DIR)) if m)
    return [kubernetes_version(), *alternates]


def modfile(version=None):
    """The go.mod (in MODULE_DIR) that builds version (None: the default); ValueError naming the setting."""
    if version in (None, kubernetes_version()):
        return "go.mod"
    if version not in kubernetes_versions():
        raise ValueError(f"kubernetes_version: {version!r} is not one of {', '.join(kubernetes_versions())}")
    return f"kubernetes-{version}.mod"


def cache_key(version=None):
    h = hashlib.sha256(go_version().encode())
    stem = modfile(version).removesuffix(".mod")
    # Hashed under the names go.mod and go.sum whichever files hold them: go.mod's key stays as it was.
    for name, path in (("go.mod", stem + ".mod"), ("go.sum", stem + ".sum"), ("main.go", "main.go")):
        with open(os.path.join(MODULE_DIR, path), "rb") as f:
            h.update(name.encode() + b"\0" + f.read())
    return h.hexdigest()[:16]


def binary_path(version=None):
    return os.path.join(CACHE_ROOT, "controlplane-" + cache_key(version), "controlplane")


def node_tools_dir():
    h = hashlib.sha256(go_version().encode())
    for tool in NODE_TOOLS:
        h.update(repr(tool).encode())
    return os.path.join(CACHE_ROOT, "nodetools-" + h.hexdigest()[:16])


def node_tool_names():
    return [os.path.basename(p) or t.name for t in NODE_TOOLS for p in t.packages]


def _log(msg, started):
    print(f"[build {time.monotonic() - started:6.0f}s] {msg}", file=sys.stderr, flush=True)


def _count_packages(argv, env, cwd):
    out = subprocess.run(["go", "list", "-deps", *argv], cwd=cwd, env=env, check=True, capture_output=True, text=True)
    return len(out.stdout.split())


def _go(argv, env, cwd, what, total, started):
    """Run one `go build`/`go install -v`, reporting progress every 15 s; fail with its last lines."""
    proc = subprocess.Popen(["go", *argv], cwd=cwd, env=env, stderr=subprocess.PIPE, text=True)
    done = [0]
    lines = []

    def report():
        while proc.poll() is None:
            time.sleep(15)
            if proc.poll() is None:
                of = f"/{total}" if total else ""
                _log(f"{what}: compiled {done[0]}{of} packages (already-cached packages are not listed)", started)

    threading.Thread(target=report, daemon=True).start()
    for line in proc.stderr:
        done[0] += 1
        lines.append(line)
    if proc.wait() != 0:
        sys.stderr.write("".join(lines[-40:]))
        raise SystemExit(f"{what} build failed (exit {proc.returncode})")


def build(force=False, version=None):
    """Return the cached Kubernetes binary's path at version (None: go.mod's), building it first on a miss."""
    target = binary_path(version)
    if os.path.exists(target) and not force:
        return target
    started = time.monotonic()
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS=f"-mod=readonly -modfile={modfile(version)}")
    _log("downloading modules (go mod download)", started)
    subprocess.run(["go", "mod", "download"], cwd=MODULE_DIR, env=env, check=True)
    total = _count_packages(["."], env, MODULE_DIR)
    _log(f"compiling {total} packages on {os.cpu_count()} cores; this is the slow step on a cold cache", started)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    partial = target + ".partial"
    version = version or kubernetes_version()
    major, minor = version.lstrip("v").split(".")[:2]
    # What hack/lib/version.sh stamps; without it every component reports v0.0.0-master.
    stamp = " ".join(
        f"-X {pkg}.{var}={value}"
        for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
        for var, value in (("gitVersion", version), ("gitMajor", major), ("gitMinor", minor), ("gitTreeState", "clean"))
    )
    argv = ["build", "-v", "-trimpath", f"-ldflags=-s -w {stamp}", "-o", partial, "."]
    _go(argv, env, MODULE_DIR, "kubernetes", total, started)
    os.replace(partial, target)
    _log(f"built {target} ({os.path.getsize(target) / 1e6:.0f} MB, {version})", started)
    return target


def build_node_tools(force=False):
    """Return {command: path} of the node's upstream tools, installing them first when the cache misses."""
    bin_dir = node_tools_dir()
    paths = {name: os.path.join(bin_dir, name) for name in node_tool_names()}
    if all(os.path.exists(p) for p in paths.values()) and not force:
        return paths
    started = time.monotonic()
    partial = bin_dir + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    for tool in NODE_TOOLS:
        # `go install pkg@version` builds with the module's own go.mod and go.sum, checked against the
        # checksum database.
        env = dict(os.environ, GOBIN=partial, CGO_ENABLED="1" if tool.cgo else "0", GOFLAGS="")
        pkgs = [f"{tool.module}/{p}".rstrip("/") + f"@{tool.version}" for p in tool.packages]
        flags = ["-trimpath", f"-ldflags=-s -w {tool.ldflags.format(version=tool.version)}"]
        if tool.tags:
            flags.append(f"-tags={tool.tags}")
        _log(f"{tool.module}@{tool.version}: go install {len(pkgs)} command(s)", started)
        _go(["install", "-v", *flags, *pkgs], env, None, tool.name, None, started)
    os.makedirs(CACHE_ROOT, exist_ok=True)
    shutil.rmtree(bin_dir, ignore_errors=True)
    os.replace(partial, bin_dir)
    _log(f"built the node's tools into {bin_dir}: {', '.join(sorted(paths))}", started)
    return paths


def gateway_dir():
    h = hashlib.sha256(go_version().encode() + repr(GATEWAY).encode())
    return os.path.join(CACHE_ROOT, "gateway-" + h.hexdigest()[:16])


def _module_dir(module, version, env):
    """The module's source in the module cache (read-only), downloaded first if missing."""
    out = subprocess.run(
        ["go", "mod", "download", "-json", f"{module}@{version}"], env=env, check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout)["Dir"]


def build_gateway(force=False):
    """Return {"traefik": path, "crds": dir}, building Traefik and copying the standard-channel CRDs on a miss.

    `go install traefik@version` refuses a module whose go.mod has replace directives, so its source is
    copied out of the module cache and built in place with its own go.mod and go.sum.
    """
    out_dir = gateway_dir()
    paths = {"traefik": os.path.join(out_dir, "traefik"), "crds": os.path.join(out_dir, "crds")}
    if os.path.exists(paths["traefik"]) and not force:
        return paths
    started = time.monotonic()
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=mod")
    partial = out_dir + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(os.path.join(partial, "crds"))
    crds = _module_dir(GATEWAY.crds_module, GATEWAY.crds_version, env)
    for path in sorted(glob.glob(os.path.join(crds, "config", "crd", "standard", "*.yaml"))):
        shutil.copy(path, os.path.join(partial, "crds"))
    _log(f"{GATEWAY.module}@{GATEWAY.version}: copying its source out of the module cache", started)
    src = os.path.join(partial, "src")
    shutil.copytree(_module_dir(GATEWAY.module, GATEWAY.version, env), src)
    subprocess.run(["chmod", "-R", "u+w", src], check=True)
    total = _count_packages(["./cmd/traefik"], env, src)
    _log(f"traefik: compiling {total} packages on {os.cpu_count()} cores", started)
    stamp = f"-X {GATEWAY.module}/pkg/version.Version={GATEWAY.version}"
    argv = ["build", "-v", "-trimpath", f"-ldflags=-s -w {stamp}", "-o", os.path.join(partial, "traefik")]
    _go([*argv, "./cmd/traefik"], env, src, "traefik", total, started)
    shutil.rmtree(src)
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(partial, out_dir)
    _log(f"built {paths['traefik']} and copied {GATEWAY.crds_module}@{GATEWAY.crds_version}'s CRDs", started)
    return paths


if __name__ == "__main__":
    print(build(force="--force" in sys.argv))
    print(build_node_tools(force="--force" in sys.argv))
    print(build_gateway(force="--force" in sys.argv))
