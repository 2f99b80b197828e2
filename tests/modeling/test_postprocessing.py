"""Fusion of identified semantics and clusters into GOSS ids."""

import pytest
import torch

from goss.modeling.postprocessing import VOID, get_goss_segmentation


def test_known_segments_and_numbered_unknown_clusters():
    sem = torch.tensor([[0, 0, 2, 2], [1, 1, 2, 2], [2, 2, 0, 0]])
    clusters = torch.tensor([[9, 9, 7, 5], [9, 9, 7, 5], [3, 3, 9, 9]])
    out = get_goss_segmentation(sem, clusters, num_known=2, label_divisor=1000)
    assert out.dtype == torch.int32
    # unknown clusters numbered 1, 2, ... by their first unknown pixel in raster order: 7, 5, 3
    assert out.tolist() == [
        [0, 0, 2001, 2002],
        [1000, 1000, 2001, 2002],
        [2003, 2003, 0, 0],
    ]


def test_no_clustering_puts_unknown_in_one_segment():
    sem = torch.tensor([[2, 0], [0, 2]])
    out = get_goss_segmentation(sem, None, num_known=2)
    assert out.tolist() == [[2001, 0], [0, 2001]]


def test_min_areas_make_void_and_renumber():
    sem = torch.tensor([[0, 1, 1, 2, 2, 2]])
    clusters = torch.tensor([[0, 0, 0, 4, 5, 5]])
    out = get_goss_segmentation(sem, clusters, 2, 1000, known_min_area=2, unknown_min_area=2)
    assert out.tolist() == [[VOID, 1000, 1000, VOID, 2001, 2001]]


def test_every_pixel_assigned_without_min_area():
    torch.manual_seed(0)
    sem = torch.randint(0, 4, (17, 23))
    clusters = torch.randint(1, 6, (17, 23), dtype=torch.int32)
    out = get_goss_segmentation(sem, clusters, num_known=3)
    assert (out != VOID).all()
    assert torch.equal(out // 1000, sem.to(torch.int32))


def test_more_unknown_clusters_than_ids_keeps_the_largest():
    # 12 unknown clusters with label_divisor 10: ids N*10 + 1..9 hold the 9 largest
    sem = torch.full((1, 40), 1)
    clusters = torch.zeros((1, 40), dtype=torch.int64)
    pos = 0  # clusters 1..12 of sizes 1, 2, 3, 4, 1, 2, ... then 10 pixels of cluster 0
    for k in range(12):
        size = 1 + (k % 4)
        clusters[0, pos : pos + size] = k + 1
        pos += size
    out = get_goss_segmentation(sem, clusters, num_known=1, label_divisor=10)
    ids = torch.unique(out[out >= 0])
    assert ids.tolist() == list(range(11, 20))
    # 13 clusters (the 10 trailing pixels are cluster 0): areas 10, 4 x3, 3 x3, 2 x3, 1 x3;
    # the 9 largest are kept (ties in cluster order), so one 2 and the three 1s become void
    assert int((out == -1).sum()) == 2 + 3


def _reference_segmentation(sem, clusters, num_known, label_divisor, known_min_area, unknown_min):
    """A pixel-by-pixel statement of the rule, for parity with the vectorised fusion."""
    sem, clusters = sem.flatten().tolist(), clusters.flatten().tolist()
    known_area = {c: sem.count(c) for c in range(num_known)}
    order, area = [], {}  # unknown clusters in raster order of their first pixel
    for s, c in zip(sem, clusters):
        if s == num_known:
            if c not in area:
                order.append(c)
            area[c] = area.get(c, 0) + 1
    kept = [c for c in order if area[c] >= max(unknown_min, 1)]
    if len(kept) >= label_divisor:
        kept = set(sorted(kept, key=lambda c: -area[c])[: label_divisor - 1])  # stable sort
    number = {c: k + 1 for k, c in enumerate(c for c in order if c in kept)}
    out = []
    for s, c in zip(sem, clusters):
        if s == num_known:
            out.append(num_known * label_divisor + number[c] if c in number else VOID)
        else:
            out.append(s * label_divisor if known_area[s] >= max(known_min_area, 1) else VOID)
    return out


@pytest.mark.parametrize("seed", range(6))
def test_matches_the_pixel_by_pixel_rule(seed):
    # blocky partitions (runs of equal ids), negative and large ids, min areas, too many clusters
    g = torch.Generator().manual_seed(seed)
    h, w = 13, 17
    sem = torch.randint(0, 4, (h // 2 + 1, w // 2 + 1), generator=g)
    sem = sem.repeat_interleave(2, 0).repeat_interleave(2, 1)[:h, :w]
    sem[torch.rand(h, w, generator=g) < 0.2] = 3
    clusters = torch.randint(-5, 30, (h, w // 3 + 1), generator=g).repeat_interleave(3, 1)[:, :w]
    if seed % 2:
        clusters = clusters * 100_000  # beyond the pixel count: compacted first
    divisor = (5, 1000)[seed % 3 == 0]
    unknown_min = seed % 3
    out = get_goss_segmentation(
        sem, clusters, 3, divisor, known_min_area=seed, unknown_min_area=unknown_min
    )
    expected = _reference_segmentation(sem, clusters, 3, divisor, seed, unknown_min)
    assert out.flatten().tolist() == expected
    assert out.shape == (h, w)


def test_too_many_clusters_ties_go_by_raster_order():
    # label_divisor 3 keeps 2 of the 3 equal-area clusters: the first two in raster order
    sem = torch.full((1, 6), 1)
    clusters = torch.tensor([[5, 5, 9, 9, 1, 1]])
    out = get_goss_segmentation(sem, clusters, num_known=1, label_divisor=3)
    assert out.tolist() == [[4, 4, 5, 5, VOID, VOID]]
    assert out.flatten().tolist() == _reference_segmentation(sem, clusters, 1, 3, 0, 0)
