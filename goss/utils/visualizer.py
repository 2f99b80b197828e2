"""Drawing GOSS outputs with Detectron2's Visualizer."""

import numpy as np

from detectron2.utils.visualizer import Visualizer

from .panoptic_ids import LABEL_DIVISOR, decode_goss_ids

__all__ = ["GOSSVisualizer", "split_goss_segments"]

_UNKNOWN_EDGE = (1.0, 1.0, 1.0)


def split_goss_segments(panoptic, num_known, label_divisor):
    """
    Args:
        panoptic (ndarray): int ``[H, W]`` GOSS ids (``category * label_divisor + cluster``,
            void -1; see :mod:`goss.utils.panoptic_ids`).
        num_known (int): N.
        label_divisor (int): as in the model output.
    Returns:
        list[tuple[int, int, ndarray]]: ``(category, cluster, bool mask [H, W])`` per segment,
        known classes first, then unknown clusters in id order.
    """
    ids, categories, clusters = decode_goss_ids(panoptic, label_divisor, num_known + 1)
    return [(int(c), int(k), panoptic == i) for i, c, k in zip(ids.tolist(), categories, clusters)]


class GOSSVisualizer(Visualizer):
    """
    A :class:`Visualizer` that draws GOSS outputs: known classes filled with their metadata
    colour and labelled by name, each unknown cluster filled with its own colour, outlined,
    and numbered ("unknown 1", "unknown 2", ...).
    """

    def draw_goss(self, panoptic, num_known, label_divisor=LABEL_DIVISOR, alpha=0.5):
        """
        Args:
            panoptic (ndarray or Tensor): int ``[H, W]`` GOSS ids of the image.
            num_known (int): N; metadata ``stuff_classes[:N]`` names the known classes.
            label_divisor (int): id = category * label_divisor + cluster.
            alpha (float): fill opacity.
        Returns:
            VisImage: the drawing.
        """
        panoptic = np.asarray(panoptic.cpu() if hasattr(panoptic, "cpu") else panoptic)
        names = self.metadata.get("stuff_classes", None)
        colors = self.metadata.get("stuff_colors", None)
        rng = np.random.RandomState(0)
        unknown_index = 0
        for category, _, mask in split_goss_segments(panoptic, num_known, label_divisor):
            if category < num_known:
                color = np.asarray(colors[category]) / 255.0 if colors else rng.rand(3)
                text = names[category] if names else str(category)
                self.draw_binary_mask(mask, color=color, text=text, alpha=alpha)
                continue
            unknown_index += 1
            color = rng.rand(3) * 0.7 + 0.3
            self.draw_binary_mask(mask, color=color, edge_color=_UNKNOWN_EDGE, alpha=alpha)
            ys, xs = np.nonzero(mask)
            # Label at the mask pixel closest to the centroid (the centroid may lie outside).
            i = np.argmin((ys - ys.mean()) ** 2 + (xs - xs.mean()) ** 2)
            self.draw_text(f"unknown {unknown_index}", (xs[i], ys[i]), color=_UNKNOWN_EDGE)
        return self.output
