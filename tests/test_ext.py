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
