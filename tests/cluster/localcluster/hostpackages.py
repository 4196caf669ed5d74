"""Install the Debian packages tests/cluster/bindep.txt lists, where the machine lacks them.

A fresh machine has none of them; a warm one has all, and then this asks dpkg and nothing else.
    python -m localcluster.hostpackages
"""

import os
import re
import subprocess
import sys

BINDEP = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bindep.txt")
# bindep's form, as much of it as the file uses: a name, then optional [profiles].
LINE = re.compile(r"^([a-z0-9][a-z0-9+.-]*)\s*(\[[^\]]*\])?\s*$")


def listed(text):
    """The dpkg packages of a bindep file's text."""
    names = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = LINE.match(line)
        if not m:
            raise ValueError(f"{BINDEP}: cannot read {line!r}")
        if m.group(2) is None or "platform:dpkg" in m.group(2):
            names.append(m.group(1))
    return names


def installed(name):
    proc = subprocess.run(["dpkg-query", "-W", "-f=${Status}", name], capture_output=True, text=True, check=False)
    return proc.returncode == 0 and proc.stdout.endswith(" installed")


def ensure():
    with open(BINDEP) as f:
        missing = [name for name in listed(f.read()) if not installed(name)]
    if not missing:
        return []
    print(f"[host packages] installing {', '.join(missing)} (tests/cluster/bindep.txt)", file=sys.stderr, flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], check=True, env=env)
    return missing


if __name__ == "__main__":
    ensure()
