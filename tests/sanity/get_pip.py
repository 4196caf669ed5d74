"""Stand-in for the pip bootstrap script that ansible-test downloads (nodowntime.k8s).

ansible-test creates one virtual environment per sanity test without pip, then runs the script
cached at ~/.ansible/test/cache/get_pip_<version>.py inside it to install pip. It downloads that
script from a host outside the package registries, which this project's machines cannot reach;
`make sanity` puts this file there instead. It does the same job from what Python ships and PyPI:
ensurepip installs the bundled pip, which then installs the pinned pip ansible-test asked for.

Arguments are those ansible-test gives get-pip: pip options, pinned packages, and
--no-setuptools/--no-wheel (get-pip's own flags, which pip install does not take).
"""

import subprocess
import sys


def main(argv):
    args = [a for a in argv if a not in ("--no-setuptools", "--no-wheel")]
    # In a subprocess: ensurepip points PIP_CONFIG_FILE at /dev/null in its own environment, and the
    # install below needs the machine's pip configuration (an index, a CA bundle) to reach PyPI.
    subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *args], check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
