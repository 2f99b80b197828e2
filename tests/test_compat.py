"""The Detectron2 v0.6 shims of goss/compat.py."""

import subprocess
import sys
import types

import pytest

from goss import compat


def test_missing_detectron2_op_raises_clear_error():
    from detectron2 import _C

    if not isinstance(_C, compat.MissingDetectron2Ops):
        pytest.skip("a full Detectron2 build is installed")
    with pytest.raises(RuntimeError, match=r"deform_conv_forward.*without its compiled extension"):
        _C.deform_conv_forward
    # the same error when reached through Detectron2's own code
    import torch

    from detectron2.layers.roi_align_rotated import ROIAlignRotated

    with pytest.raises(RuntimeError, match="roi_align_rotated_forward"):
        ROIAlignRotated((2, 2), 1.0, 0)(torch.zeros(1, 1, 4, 4), torch.zeros(1, 6))


def test_layers_importing_C_at_import_time_work():
    import detectron2.layers.deform_conv  # noqa: F401
    import detectron2.layers.rotated_boxes  # noqa: F401


def test_pil_linear_alias():
    from PIL import Image

    assert Image.LINEAR == Image.BILINEAR


def test_environment_report_says_extension_missing():
    from detectron2 import _C
    from detectron2.utils.collect_env import collect_env_info

    if not isinstance(_C, compat.MissingDetectron2Ops):
        pytest.skip("a full Detectron2 build is installed")
    assert "detectron2._C" in collect_env_info()


def test_shims_are_noops_with_full_build(monkeypatch):
    fake_full_build = types.ModuleType("detectron2._C")
    monkeypatch.setitem(sys.modules, "detectron2._C", fake_full_build)
    assert compat._shim_missing_detectron2_ops() is False
    assert sys.modules["detectron2._C"] is fake_full_build


def test_pil_shim_noop_when_linear_exists(monkeypatch):
    from PIL import Image

    monkeypatch.setattr(Image, "LINEAR", Image.BILINEAR, raising=False)
    assert compat._shim_pil_linear() is False


def test_apply_shims_idempotent():
    assert compat.apply_shims() == compat.apply_shims()


def test_import_goss_before_detectron2_in_fresh_process():
    code = "import goss; from detectron2.layers import DeformConv; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("ok")


def test_torchscript_deprecation_is_silenced_only_where_detectron2_triggers_it(tmp_path):
    code = (
        "import warnings, torch\n"
        "def f(x: torch.Tensor) -> torch.Tensor:\n"
        "    return x + 1\n"
        "def count():\n"
        "    with warnings.catch_warnings(record=True) as w:\n"
        "        warnings.simplefilter('always')\n"
        "        torch.jit.script(f)\n"
        "    return sum('torch.jit.script' in str(m.message) for m in w)\n"
        "before = count()\n"
        "warnings.simplefilter('default')\n"
        "import goss, detectron2.modeling, detectron2.engine\n"
        "print(before, count())\n"
    )
    script = tmp_path / "script_something.py"  # torch.jit.script needs the function's source
    script.write_text(code)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    assert "torch.jit.script" not in out.stderr
    before, after = out.stdout.split()
    assert before == after  # the filter is not left in place: a user's own call warns as before
