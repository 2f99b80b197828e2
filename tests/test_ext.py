"""``import goss`` with and without the compiled extension goss._C."""

import os
import subprocess
import sys
import textwrap

import pytest

from goss.layers import load_ops, ops_available

# A fresh interpreter in which `goss._C` cannot be imported.
_WITHOUT_EXT = textwrap.dedent("""
    import sys
    sys.modules["goss._C"] = None  # makes `import goss._C` raise ImportError
    import goss, goss.data, goss.modeling, goss.evaluation, goss.layers
    from goss.layers import load_ops, ops_available
    assert not ops_available()
    try:
        load_ops()
    except RuntimeError as e:
        assert "goss._C" in str(e) and "pip install -e ." in str(e), e
        print("clear error")
    """)


def test_import_without_extension():
    out = subprocess.run([sys.executable, "-c", _WITHOUT_EXT], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "clear error"


def test_extension_present():
    if not ops_available():
        if os.environ.get("GOSS_EXPECT_OPS") == "1":
            pytest.fail("GOSS_EXPECT_OPS=1 but goss._C is not importable")
        pytest.skip("goss._C is not built")
    ext = load_ops()
    assert isinstance(ext.has_cuda(), bool)
    assert ext.cuda_version() >= 0
    assert (ext.cuda_version() > 0) == ext.has_cuda()


def test_op_available_warns_about_an_older_build(caplog):
    """An op the build lacks (as in an extension built before the op was added): False and a
    WARNING that names the op, says to rebuild and what happens meanwhile."""
    from goss.layers.ext import op_available, ops_available

    if not ops_available():
        pytest.skip("goss._C is not built")
    with caplog.at_level("WARNING", logger="goss.layers.ext"):
        assert not op_available("no_such_op", "the slow path runs")
    assert "no_such_op" in caplog.text and "make install" in caplog.text
    assert "the slow path runs" in caplog.text
    assert op_available("super_bpd", "unused")


def test_op_available_checks_the_arguments_this_version_passes(caplog):
    """An op built before an argument was added to it: False and the same WARNING."""
    from goss.layers.ext import op_available, ops_available

    if not ops_available():
        pytest.skip("goss._C is not built")
    with caplog.at_level("WARNING", logger="goss.layers.ext"):
        assert not op_available("super_bpd", "the slow path runs", arguments=("no_such_arg",))
    assert "super_bpd" in caplog.text and "make install" in caplog.text
    assert op_available("super_bpd", "unused", arguments=("theta_a", "intermediates"))
    assert op_available("bilinear_upsample_add_", "unused", arguments=("row_offset",))
