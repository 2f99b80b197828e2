#!/usr/bin/env python
"""
Install Detectron2 v0.6 into the current Python environment, without its compiled extension.

Detectron2 is not on PyPI under its own name. ``pb1-detectron2==0.6`` is an sdist of FAIR's v0.6
release whose Python files match the v0.6 tag, but it lacks ``detectron2/layers/csrc``, so its
build of ``detectron2._C`` fails. This script downloads the sdist from PyPI (its address from
PyPI's simple JSON API: recent pip refuses ``pip download`` of it, because its ``all`` extra names a
direct URL), checks its sha256 (and stops if it differs), removes ``ext_modules`` from its
``setup.py`` and installs it with ``--no-deps``
(the runtime dependencies are pinned in ``requirements.txt``). GOSS's ``goss/compat.py`` then
makes the missing ``detectron2._C`` fail clearly where it would be used.

Idempotent: does nothing when ``pb1-detectron2==0.6`` is already installed.

Usage: ``python dev/install_detectron2.py``
"""

import hashlib
import importlib.metadata
import json
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

PACKAGE = "pb1-detectron2"
VERSION = "0.6"
SHA256 = "5d2e9e51e523ec72f6a31cca04b0a515492e9514b773a3d134cedc0677170b29"
EXT_LINE = "ext_modules=get_extensions(),"
SIMPLE_API = f"https://pypi.org/simple/{PACKAGE}/"
SDIST = f"{PACKAGE}-{VERSION}.tar.gz"


def installed_version():
    try:
        return importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return None


def pip(*args):
    subprocess.run([sys.executable, "-m", "pip", *args], check=True)


def download_sdist(dst):
    """Download the sdist of PACKAGE==VERSION, found through PyPI's simple JSON API, to ``dst``."""
    request = urllib.request.Request(
        SIMPLE_API, headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as r:
            files = json.load(r)["files"]
        url = next(f["url"] for f in files if f["filename"] == SDIST)
        with urllib.request.urlopen(url, timeout=300) as r, open(dst, "wb") as f:
            f.write(r.read())
    except (OSError, ValueError, KeyError, StopIteration) as e:
        sys.exit(f"error: cannot download {SDIST} via {SIMPLE_API}: {e}")


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main():
    if installed_version() == VERSION:
        print(f"{PACKAGE}=={VERSION} already installed")
        return 0
    with tempfile.TemporaryDirectory(prefix="goss-d2-") as tmp:
        tmp = Path(tmp)
        sdist = tmp / SDIST
        download_sdist(sdist)
        actual = sha256_of(sdist)
        if actual != SHA256:
            sys.exit(
                f"error: sha256 of {sdist.name} is {actual}, expected {SHA256}; "
                "refusing to install an sdist that is not Detectron2 v0.6"
            )
        with tarfile.open(sdist) as tar:
            tar.extractall(tmp, filter="data")
        src = tmp / f"{PACKAGE}-{VERSION}"
        setup_py = src / "setup.py"
        text = setup_py.read_text()
        if text.count(EXT_LINE) != 1:
            sys.exit(f"error: {setup_py} does not contain {EXT_LINE!r} exactly once")
        setup_py.write_text(text.replace(EXT_LINE, "ext_modules=[],"))
        pip("install", "--no-deps", "--no-build-isolation", str(src))
    print(f"installed {PACKAGE}=={VERSION} (sha256 verified, no compiled extension)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
