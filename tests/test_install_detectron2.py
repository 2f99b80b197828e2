"""dev/install_detectron2.py: the checks made before anything is installed."""

import importlib.util

import pytest

from tests.common import REPO


def _script():
    spec = importlib.util.spec_from_file_location(
        "install_d2", REPO / "dev" / "install_detectron2.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_main_snapshot_with_another_checksum_is_refused(tmp_path):
    fake = tmp_path / "detectron2-main.tar.gz"
    fake.write_bytes(b"not the snapshot")
    with pytest.raises(SystemExit, match=r"sha256 of .*detectron2-main.tar.gz is .*refusing"):
        _script().main(["--source", "main", "--snapshot", str(fake)])


def test_missing_snapshot_is_named(tmp_path):
    with pytest.raises(SystemExit, match=r"--snapshot .*nothing.tar.gz: no such file"):
        _script().main(["--source", "main", "--snapshot", str(tmp_path / "nothing.tar.gz")])


def test_the_pinned_snapshot_has_the_pinned_checksum():
    script = _script()
    snapshot = REPO / script.MAIN_SNAPSHOT
    if not snapshot.is_file():
        pytest.skip(f"{snapshot} is not on this machine")
    assert script.sha256_of(snapshot) == script.MAIN_SHA256
