"""goss.utils.panoptic_ids: the PNG and GOSS id encodings, importable without Detectron2."""

import subprocess
import sys

import numpy as np
import pytest

from goss.utils.panoptic_ids import LABEL_DIVISOR, decode_goss_ids, id2rgb, rgb2id
from tests.common import REPO


def test_png_ids_round_trip():
    ids = np.array([[0, 1, 255, 256], [65535, 65536, 2**24 - 1, 1234567]])
    assert rgb2id(id2rgb(ids)).tolist() == ids.tolist()
    with pytest.raises(ValueError, match="RGB array"):
        rgb2id(np.zeros((4, 4)))


def test_goss_ids_decode():
    pan = np.array([[-1, 0, 2000], [2003, 1000, 2003]])
    ids, cats, clusters = decode_goss_ids(pan, LABEL_DIVISOR, 3)
    assert ids.tolist() == [0, 1000, 2000, 2003]
    assert cats.tolist() == [0, 1, 2, 2] and clusters.tolist() == [0, 0, 0, 3]
    with pytest.raises(ValueError, match="my map: panoptic ids \\[3000\\] decode"):
        decode_goss_ids(np.array([3000]), LABEL_DIVISOR, 3, "my map")
    with pytest.raises(ValueError, match="-2 < -1"):
        decode_goss_ids(np.array([-2]), LABEL_DIVISOR, 3)


def test_building_a_dataset_does_not_import_the_drawing_code():
    code = (
        "import sys, goss.data.builder, goss.utils.panoptic_export; "
        "print('detectron2.utils.visualizer' in sys.modules, "
        "'goss.utils.visualizer' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "False"]
