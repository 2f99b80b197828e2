#!/usr/bin/env python
"""
Install Detectron2 into the current Python environment, without its compiled extension.

Two sources, both checked by sha256 (the script stops if the file differs):

* ``--source v0.6`` (default, what ``make install`` uses): Detectron2 is not on PyPI under its
  own name. ``pb1-detectron2==0.6`` is an sdist of FAIR's v0.6 release whose Python files match
  the v0.6 tag, but it lacks ``detectron2/layers/csrc``, so its build of ``detectron2._C`` fails.
  The sdist is downloaded from PyPI (its address from PyPI's simple JSON API: recent pip refuses
  ``pip download`` of it, because its ``all`` extra names a direct URL).
* ``--source main`` (what ``make test-detectron2-main`` uses): a ``git archive`` snapshot of
  Detectron2's main branch (files at the archive's root), given by ``--snapshot`` (default
  :data:`MAIN_SNAPSHOT`, relative to the repository root). Its version string is also "0.6"; it
  installs as the distribution ``detectron2``.

In both cases ``ext_modules`` is removed from ``setup.py`` and the package is installed with
``--no-deps --no-build-isolation`` (the runtime dependencies are pinned in ``requirements.txt``).
Without the extension, v0.6 fails at import time where its layers import ``detectron2._C``;
``goss/compat.py`` then attaches a placeholder that fails clearly where an op is used. Main guards
those imports itself, and the placeholder is not attached there.

Idempotent: does nothing when the requested Detectron2 is already installed (for main: the same
snapshot, by sha256, recorded in ``<sys.prefix>/.goss-detectron2-main``).

Usage: ``python dev/install_detectron2.py [--source v0.6|main] [--snapshot TAR_GZ]``
"""

import argparse
import hashlib
import importlib.metadata
import json
import os
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

REPO = Path(__file__).resolve().parent.parent
# facebookresearch/detectron2 at 02b5c4e2 (June 2026), `git archive` (Apache-2.0)
MAIN_SNAPSHOT = "../shared/vendor/detectron2-main-02b5c4e2.tar.gz"
MAIN_SHA256 = "5ef79b9c8659096fa32fa7d4cf4dcd1e088e2f9d298b4c91e8ed8efa3c83bab9"
MAIN_MARKER = Path(sys.prefix) / ".goss-detectron2-main"


def installed_version(dist):
    try:
        return importlib.metadata.version(dist)
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


def check_sha256(path, expected, what):
    actual = sha256_of(path)
    if actual != expected:
        sys.exit(
            f"error: sha256 of {path} is {actual}, expected {expected}; "
            f"refusing to install a file that is not {what}"
        )


def install_without_extension(src):
    """Install the Detectron2 source tree ``src`` with ``ext_modules`` switched off."""
    setup_py = src / "setup.py"
    text = setup_py.read_text()
    if text.count(EXT_LINE) != 1:
        sys.exit(f"error: {setup_py} does not contain {EXT_LINE!r} exactly once")
    setup_py.write_text(text.replace(EXT_LINE, "ext_modules=[],"))
    pip("install", "--no-deps", "--no-build-isolation", str(src))


def install_v06():
    if installed_version(PACKAGE) == VERSION:
        print(f"{PACKAGE}=={VERSION} already installed")
        return 0
    with tempfile.TemporaryDirectory(prefix="goss-d2-") as tmp:
        tmp = Path(tmp)
        sdist = tmp / SDIST
        download_sdist(sdist)
        check_sha256(sdist, SHA256, "Detectron2 v0.6")
        with tarfile.open(sdist) as tar:
            tar.extractall(tmp, filter="data")
        install_without_extension(tmp / f"{PACKAGE}-{VERSION}")
    print(f"installed {PACKAGE}=={VERSION} (sha256 verified, no compiled extension)")
    return 0


def install_main(snapshot):
    snapshot = Path(snapshot) if os.path.isabs(snapshot) else REPO / snapshot
    if not snapshot.is_file():
        sys.exit(f"error: --snapshot {snapshot}: no such file")
    check_sha256(snapshot, MAIN_SHA256, "the Detectron2 main snapshot")
    if installed_version(PACKAGE) is not None:
        sys.exit(f"error: {PACKAGE} (Detectron2 v0.6) is installed here; use a new environment")
    if (
        installed_version("detectron2") is not None
        and MAIN_MARKER.is_file()
        and MAIN_MARKER.read_text().strip() == MAIN_SHA256
    ):
        print(f"Detectron2 main ({snapshot.name}) already installed")
        return 0
    with tempfile.TemporaryDirectory(prefix="goss-d2main-") as tmp:
        src = Path(tmp) / "detectron2"
        src.mkdir()
        with tarfile.open(snapshot) as tar:
            tar.extractall(src, filter="data")
        install_without_extension(src)
    MAIN_MARKER.write_text(MAIN_SHA256 + "\n")
    print(
        f"installed Detectron2 main from {snapshot.name} (sha256 verified, no compiled extension)"
    )
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description="Install Detectron2 without its extension.")
    parser.add_argument("--source", choices=("v0.6", "main"), default="v0.6")
    parser.add_argument(
        "--snapshot",
        default=MAIN_SNAPSHOT,
        help="the Detectron2 main archive for --source main (relative paths: to the repository)",
    )
    args = parser.parse_args(argv)
    return install_main(args.snapshot) if args.source == "main" else install_v06()


if __name__ == "__main__":
    sys.exit(main())
