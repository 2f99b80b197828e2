"""Corrupt and truncated images fail with the file's name instead of reading as black pixels."""

import pytest

from goss.data import GOSSDatasetMapper
from tests.common import small_goss_cfg, write_broken_pngs


@pytest.mark.parametrize("kind", ["truncated", "zeroed", "garbage"])
def test_mapper_refuses_a_broken_png(tmp_path, kind):
    paths = write_broken_pngs(tmp_path)
    mapper = GOSSDatasetMapper(small_goss_cfg(), is_train=False)
    assert mapper({"file_name": str(paths["ok"])})["image"].shape[0] == 3
    with pytest.raises(ValueError, match=f"cannot read image .*{kind}.png"):
        mapper({"file_name": str(paths[kind])})
