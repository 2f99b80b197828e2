"""``import goss`` registers each of its entries exactly once."""

import json
import subprocess
import sys
import textwrap

from goss import compat

_SNAPSHOT = textwrap.dedent("""
    import importlib.util, json, sys
    # Apply the shims without importing the goss package, so "before" has no GOSS entry.
    spec = importlib.util.spec_from_file_location("_compat", sys.argv[2])
    compat = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compat)
    compat.apply_shims()
    import detectron2.projects.deeplab  # noqa: F401 (registers DeepLab's own heads)
    from detectron2.data import DatasetCatalog, MetadataCatalog
    from detectron2.modeling import BACKBONE_REGISTRY, META_ARCH_REGISTRY, SEM_SEG_HEADS_REGISTRY

    regs = {"backbone": BACKBONE_REGISTRY, "meta_arch": META_ARCH_REGISTRY,
            "sem_seg_head": SEM_SEG_HEADS_REGISTRY}
    def snap():
        out = {k: sorted(r._obj_map) for k, r in regs.items()}
        out["datasets"] = sorted(DatasetCatalog.list())
        return out
    before = snap()
    order = sys.argv[1].split(",")
    for name in order:
        __import__(name)
    import goss, importlib
    for name in order:  # importing again must not register again
        importlib.import_module(name)
    after = snap()
    print(json.dumps({k: sorted(set(after[k]) - set(before[k])) for k in after}))
    """)


def _new_entries(order):
    out = subprocess.run(
        [sys.executable, "-c", _SNAPSHOT, order, compat.__file__],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_order_does_not_matter_and_nothing_twice():
    a = _new_entries("goss")
    b = _new_entries("goss.modeling,goss.data,goss.evaluation,goss")
    assert a == b
    for kind, names in a.items():
        assert len(names) == len(set(names)), kind
