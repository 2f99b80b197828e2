"""Command-line pieces shared by the ``datasets/prepare_*.py`` builder scripts."""

import argparse
import functools
import logging
import os

__all__ = [
    "base_parser",
    "build_subset",
    "default_root",
    "paired_samples",
    "require_dirs",
    "script_main",
    "setup_logging",
]

logger = logging.getLogger(__name__)


def script_main(body):
    """
    Decorator of a ``datasets/prepare_*.py`` ``main(argv)``: the wrapped ``main`` returns exit
    code 0, or 2 after logging one line for a user error, i.e. a ``ValueError`` or ``OSError``
    (missing or unreadable file or folder, label value outside the class table, image/label size
    mismatch, bad option value), whose message names the file or option. Bad command lines
    exit with code 2 through argparse as before; other exceptions (bugs) keep their traceback.
    """

    @functools.wraps(body)
    def main(argv=None):
        try:
            body(argv)
        except (ValueError, OSError) as e:
            logger.error("error: %s", e)
            return 2
        return 0

    return main


def require_dirs(option, root, subdirs=()):
    """
    Raises:
        FileNotFoundError naming ``option`` unless ``root`` and every ``root/<subdir>`` are
        directories.
    """
    for d in (root, *(os.path.join(root, s) for s in subdirs)):
        if not os.path.isdir(d):
            raise FileNotFoundError(f"{option}: {d} is not a directory")


def default_root():
    """The datasets root: ``$DETECTRON2_DATASETS``, default ``datasets``."""
    return os.path.expanduser(os.getenv("DETECTRON2_DATASETS", "datasets"))


def _int_at_least(low):
    """argparse type: an integer >= ``low``."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        return value

    return parse


def base_parser(description, real_data=True):
    """
    ``--output`` (datasets root), ``--workers``, ``--no-progress`` and, with ``real_data``,
    ``--min-unknown-area`` and ``--image-mode``.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--output",
        default=default_root(),
        help="datasets root the split directories are written under "
        "(default: $DETECTRON2_DATASETS or 'datasets')",
    )
    parser.add_argument("--workers", type=_int_at_least(1), default=2, help="worker processes")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    if real_data:
        parser.add_argument(
            "--min-unknown-area",
            type=_int_at_least(0),
            default=0,
            help="unknown components below this many pixels become void (default: keep all)",
        )
        parser.add_argument("--image-mode", choices=("symlink", "copy"), default="symlink")
    return parser


def build_subset(args, goss_split, subset, samples):
    """Build ``<args.output>/<goss_split>/<subset>`` from ``samples``; returns the manifest."""
    from .builder import build_split
    from .datasets.builtin_meta import split_metadata, split_spec

    return build_split(
        samples,
        split_spec(goss_split, subset, args.min_unknown_area),
        os.path.join(args.output, goss_split, subset),
        workers=args.workers,
        image_mode=args.image_mode,
        colors=split_metadata(goss_split)["stuff_colors"],
        progress=not args.no_progress,
    )


def setup_logging():
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")


def paired_samples(image_dir, label_dir, label_name, image_exts=(".jpg", ".jpeg", ".png")):
    """
    One :class:`~goss.data.builder.Sample` per image in ``image_dir`` (sorted), with its label
    ``label_dir/label_name(stem)``.

    Args:
        image_dir (str): the images.
        label_dir (str): the source label PNGs.
        label_name (callable): image stem -> label file name.
        image_exts (tuple[str]): image extensions (lower case).
    Raises:
        FileNotFoundError: a directory or an image's label is missing.
    """
    from .builder import Sample

    for d in (image_dir, label_dir):
        if not os.path.isdir(d):
            raise FileNotFoundError(f"{d}: directory not found")
    samples = []
    for name in sorted(os.listdir(image_dir)):
        stem, ext = os.path.splitext(name)
        if ext.lower() not in image_exts:
            continue
        label = os.path.join(label_dir, label_name(stem))
        if not os.path.isfile(label):
            raise FileNotFoundError(f"{label}: label of {os.path.join(image_dir, name)} not found")
        samples.append(Sample(stem, os.path.join(image_dir, name), label))
    if not samples:
        raise FileNotFoundError(f"{image_dir}: no images ({', '.join(image_exts)})")
    return samples
