"""
Utilities, imported by their module (as in Detectron2), so that using one does not import the
others' dependencies:

* :mod:`goss.utils.panoptic_ids`: the panoptic id encodings (NumPy only);
* :mod:`goss.utils.panoptic_export`: GOSS outputs as COCO panoptic PNG + ``segments_info``;
* :mod:`goss.utils.visualizer`: drawing with Detectron2's ``Visualizer``.
"""
