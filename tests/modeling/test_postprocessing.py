"""Fusion of identified semantics and clusters into GOSS ids."""

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
