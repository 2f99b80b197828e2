"""tools/benchmark_evaluation.py: one JSON line, identical statistics, the pixel pass it timed."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from goss.evaluation.stats import pixel_pass_backend

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("without_ext", [False, True])
def test_one_image_names_its_pixel_pass(tmp_path, without_ext):
    out = tmp_path / "benchmark.json"
    cmd = [sys.executable, str(ROOT / "tools" / "benchmark_evaluation.py"), "--output", str(out)]
    cmd += ["--images", "1", "--repeats", "1", "--reference-images", "1"]
    cmd += ["--without-ext"] if without_ext else []
    env = dict(os.environ, OMP_NUM_THREADS="1")
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    result = json.loads(out.read_text())
    assert json.loads(run.stdout.strip().splitlines()[-1]) == result
    assert result["identical_stats"] and result["images_per_s"] > 0
    assert result["core"] == ("numpy" if without_ext else pixel_pass_backend())
