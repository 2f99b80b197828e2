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
