"""Reading images so that a corrupt or truncated file fails instead of reading as black pixels."""

import io

from PIL import Image

from detectron2.data import detection_utils as utils
from detectron2.utils.file_io import PathManager

__all__ = ["read_image"]


def read_image(path, format=None):
    """
    Detectron2's ``read_image`` (EXIF orientation, ``format`` conversion), but strict: the file is
    checked (PNG chunk checksums) and fully decoded before anything else, so that a truncated or
    corrupt file raises. Detectron2's EXIF step swallows the decoding error of a broken PNG, and
    the image then reads as (mostly) black pixels.

    Args:
        path (str): image file.
        format (str or None): as in ``detectron2.data.detection_utils.read_image``.
    Returns:
        ndarray: ``[H, W, C]`` (or ``[H, W]`` when ``format`` is None and the file is one-channel).
    Raises:
        ValueError: ``"cannot read image <path>: <reason>"`` for any unreadable file.
    """
    try:
        with PathManager.open(path, "rb") as f:
            data = f.read()
        Image.open(io.BytesIO(data)).verify()  # verify() leaves the image unusable: reopen
        image = Image.open(io.BytesIO(data))
        image.load()
        image = utils._apply_exif_orientation(image)
        return utils.convert_PIL_to_numpy(image, format)
    except Exception as e:  # PIL raises several types (OSError, SyntaxError, ValueError, ...)
        raise ValueError(f"cannot read image {path}: {e}") from e
