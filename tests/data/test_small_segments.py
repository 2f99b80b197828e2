"""The small-segment rule (INPUT.SMALL_SEGMENT_AREA / SMALL_SEGMENT_WEIGHT) in one place."""

import numpy as np

from goss.data import GOSSDatasetMapper, GOSSTargetGenerator, SmallSegmentWeights
from goss.data.goss_format import IGNORE_LABEL, UNKNOWN_LABEL
from tests.common import small_goss_cfg, write_tiny_goss_dataset


def _sem():
    sem = np.zeros((20, 20), np.uint8)
    sem[:4, :4] = 1  # 16 pixels: small below area 20
    sem[10:, 10:] = 2  # 100 pixels
    sem[5:7, 5:7] = UNKNOWN_LABEL
    sem[18:, :2] = IGNORE_LABEL
    return sem


def test_small_classes_are_measured_on_the_source_map():
    rule = SmallSegmentWeights(area=20, weight=3.0)
    sem = _sem()
    assert rule.small_classes(sem) == [1]
    assert SmallSegmentWeights(area=0).small_classes(sem) == []
    # class 2 is small at source resolution: weighted in the (here unchanged) augmented map
    source = np.zeros_like(sem)
    source[:2, :2] = 2
    w = rule(sem, source)
    assert w.dtype == np.float32 and w.shape == sem.shape
    assert (w[10:, 10:] == 3.0).all() and (w[:4, :4] == 1.0).all() and (w == 3.0).sum() == 100
    assert np.array_equal(rule(sem), np.where(sem == 1, 3.0, 1.0).astype(np.float32))


def test_generator_and_mapper_apply_the_rule():
    out = GOSSTargetGenerator(3, small_segments=SmallSegmentWeights(20, 5.0))(_sem())
    assert (out["sem_seg_weights"].numpy()[:4, :4] == 5.0).all()
    assert (out["sem_seg_weights"].numpy() == 5.0).sum() == 16
    assert (GOSSTargetGenerator(3)(_sem())["sem_seg_weights"].numpy() == 1.0).all()


def test_mapper_weights_classes_small_at_source_resolution(tmp_path):
    write_tiny_goss_dataset(tmp_path, "small_segments_tiny", num_known=3)
    from detectron2.data import DatasetCatalog

    record = DatasetCatalog.get("small_segments_tiny")[0]
    cfg = small_goss_cfg(num_known=3, train_mode="n")
    cfg.merge_from_list(["INPUT.CROP.ENABLED", "False", "INPUT.RANDOM_FLIP", "none"])
    cfg.merge_from_list(["INPUT.SMALL_SEGMENT_AREA", "1000", "INPUT.SMALL_SEGMENT_WEIGHT", "4.0"])
    mapper = GOSSDatasetMapper(cfg, True)
    assert mapper.target_generator.small_segments.area == 1000
    out = mapper(record)
    sem, w = out["sem_seg"].numpy(), out["sem_seg_weights"].numpy()
    # 64 x 64 source: classes 0 and 2 (672 px each) are small, class 1 (2464 px) is not; resized
    # to a shortest edge >= 320, every class covers more than 1000 pixels
    assert (sem == 0).sum() > 1000 and (sem == 2).sum() > 1000
    assert set(np.unique(w[sem == 1])) == {1.0}
    assert set(np.unique(w[(sem == 0) | (sem == 2)])) == {4.0}
