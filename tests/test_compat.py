"""The Detectron2 shims of goss/compat.py, on Detectron2 v0.6 and on Detectron2 main."""

import subprocess
import sys
import textwrap
import types

import pytest

from goss import compat


def _placeholder_attached():
    import detectron2

    return isinstance(getattr(detectron2, "_C", None), compat.MissingDetectron2Ops)


def _has_extension():
    import importlib

    try:
        importlib.import_module("detectron2._C")
        return True
    except ImportError:
        return False


def test_placeholder_exactly_where_detectron2_needs_it():
    """v0.6 without its extension gets the placeholder; main (which guards _C) and full builds
    do not."""
    needed = not _has_extension() and not compat.detectron2_guards_C_imports()
    assert _placeholder_attached() == needed
    assert compat.apply_shims()["detectron2_C"] == needed


def test_missing_detectron2_op_raises_clear_error():
    if not _placeholder_attached():
        pytest.skip("no placeholder: a full build, or a Detectron2 that guards its _C imports")
    from detectron2 import _C

    with pytest.raises(RuntimeError, match=r"deform_conv_forward.*without its compiled extension"):
        _C.deform_conv_forward
    # the same error when reached through Detectron2's own code
    import torch

    from detectron2.layers.roi_align_rotated import ROIAlignRotated

    with pytest.raises(RuntimeError, match="roi_align_rotated_forward"):
        ROIAlignRotated((2, 2), 1.0, 0)(torch.zeros(1, 1, 4, 4), torch.zeros(1, 6))


def test_detectron2_fallbacks_work_where_it_guards_C():
    """On Detectron2 main without _C, its own fallbacks apply (not a placeholder's error)."""
    if _has_extension() or not compat.detectron2_guards_C_imports():
        pytest.skip("Detectron2 has its extension, or needs the placeholder (v0.6)")
    from pycocotools.cocoeval import COCOeval

    from detectron2.evaluation.coco_evaluation import COCOeval_opt
    from detectron2.layers import DeformConv

    assert COCOeval_opt is COCOeval, "main falls back to pycocotools' COCOeval"
    with pytest.raises(ImportError, match="detectron2._C") as info:
        DeformConv(1, 1, 3)
    assert "pb1-detectron2" not in str(info.value)


def test_layers_importing_C_at_import_time_work():
    import detectron2.evaluation  # noqa: F401
    import detectron2.layers.deform_conv  # noqa: F401
    import detectron2.layers.rotated_boxes  # noqa: F401


def _fake_detectron2(root, files):
    """A ``detectron2`` package folder under ``root`` with the given {relative path: source}."""
    pkg = root / "detectron2"
    for rel, source in files.items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    return str(pkg)


def test_guard_detection_v06_layout(tmp_path):
    """v0.6: layers/__init__ imports deform_conv, which imports _C unguarded."""
    pkg = _fake_detectron2(
        tmp_path,
        {
            "__init__.py": "",
            "layers/__init__.py": "from .deform_conv import DeformConv\n",
            "layers/deform_conv.py": "from detectron2 import _C\nclass DeformConv: pass\n",
        },
    )
    assert compat.detectron2_guards_C_imports(pkg) is False


def test_guard_detection_main_layout(tmp_path):
    """main: _C imported inside try/except ImportError; fast_eval_api (unguarded) is only
    imported under a guard; config's own `_C` and function-level imports do not count."""
    pkg = _fake_detectron2(
        tmp_path,
        {
            "__init__.py": "",
            "layers/__init__.py": "from .deform_conv import DeformConv\n",
            "layers/deform_conv.py": """
                class DeformConv: pass
                try:
                    from detectron2 import _C
                except ImportError:
                    DeformConv = None
            """,
            "evaluation/__init__.py": "from .coco_evaluation import X\n",
            "evaluation/fast_eval_api.py": "from detectron2 import _C\n",
            "evaluation/coco_evaluation.py": """
                X = 1
                try:
                    from detectron2.evaluation.fast_eval_api import COCOeval_opt
                except (ImportError, OSError):
                    COCOeval_opt = None
            """,
            "config/__init__.py": "from .defaults import _C\n",
            "config/defaults.py": "_C = 1\n",
            "utils/collect_env.py": "def f():\n    import detectron2._C as _C\n",
        },
    )
    assert compat.detectron2_guards_C_imports(pkg) is True


@pytest.mark.parametrize(
    "importer",
    [
        "from . import fast_eval_api\n",  # relative, unguarded
        "from detectron2.evaluation.fast_eval_api import COCOeval_opt\n",
        "import detectron2.evaluation.fast_eval_api\n",
        "try:\n    from .fast_eval_api import X\nexcept KeyError:\n    pass\n",  # wrong handler
    ],
)
def test_guard_detection_unguarded_importer_spreads(tmp_path, importer):
    pkg = _fake_detectron2(
        tmp_path,
        {
            "__init__.py": "",
            "evaluation/__init__.py": importer,
            "evaluation/fast_eval_api.py": "from .. import _C\n",
        },
    )
    assert compat.detectron2_guards_C_imports(pkg) is False


def test_pil_linear_alias():
    from PIL import Image

    assert Image.LINEAR == Image.BILINEAR


def test_environment_report_says_extension_missing():
    from detectron2.utils.collect_env import collect_env_info

    if _has_extension():
        pytest.skip("a full Detectron2 build is installed")
    assert "detectron2._C" in collect_env_info()


def test_shims_are_noops_with_full_build(monkeypatch):
    fake_full_build = types.ModuleType("detectron2._C")
    monkeypatch.setitem(sys.modules, "detectron2._C", fake_full_build)
    if _placeholder_attached():
        import detectron2

        monkeypatch.delattr(detectron2, "_C")
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
