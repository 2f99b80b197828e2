"""The generic builder on small fixtures in COCO-Stuff, Cityscapes and CamVid formats."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import goss.data.builder as builder_mod
from goss.data.builder import build_split
from goss.data.datasets import load_goss_json, split_spec
from goss.data.goss_format import convert_label
from goss.utils.panoptic_ids import rgb2id

from .fixtures import write_sample

CAMVID = "camvid_goss_8_3"  # known: values 0-7 -> train ids 0-7; unknown 8, 9, 10; void 11


def _read(out, sub, image_id):
    return np.array(Image.open(os.path.join(out, sub, image_id + ".png")))


def _json(out):
    with open(os.path.join(out, "panoptic.json")) as f:
        return json.load(f)


def test_connectivity_labelling_camvid_format(tmp_path):
    label = np.full((10, 12), 0, np.uint8)  # Sky
    label[0:2, 0:2] = 8  # Car, component 1
    label[2, 2] = 8  # diagonal neighbour: same 8-connected component
    label[6:8, 6:8] = 8  # Car, component 2
    label[6:8, 8:10] = 9  # Pedestrian touching the car: its own segment
    label[9, :] = 11  # void
    label[4, 4:6] = 3  # Road
    s = write_sample(tmp_path / "src", "a", label)
    out = str(tmp_path / "out")
    manifest = build_split([s], split_spec(CAMVID, "val"), out, progress=False)
    sem, pan = _read(out, "sem_seg", "a"), rgb2id(_read(out, "panoptic", "a"))
    # known train ids; the unknown classes (8, 9) are 254, void (11) 255
    expected = np.where(label < 8, label, np.where(label == 11, 255, 254))
    np.testing.assert_array_equal(sem, expected)
    segs = _json(out)["annotations"][0]["segments_info"]
    unknown = [x for x in segs if x["category_id"] == 8]
    known = {x["category_id"]: x for x in segs if x["category_id"] < 8}
    assert sorted(known) == [0, 3]
    assert sorted(x["area"] for x in unknown) == [4, 4, 5]
    assert all(x["iscrowd"] == 0 for x in segs)
    for x in segs:
        assert (pan == x["id"]).sum() == x["area"]
    assert (pan[label == 11] == 0).all() and (pan[label != 11] > 0).all()
    assert len({x["id"] for x in segs}) == len(segs) and 0 not in {x["id"] for x in segs}
    assert manifest["unknown_segments"] == 3 and manifest["void_pixels"] == 12
    cats = _json(out)["categories"]
    assert [c["id"] for c in cats] == list(range(9)) and cats[-1]["name"] == "unknown"


def test_min_unknown_area_drops_small_components_to_void(tmp_path):
    label = np.zeros((8, 8), np.uint8)
    label[0, 0] = 8
    label[4:8, 4:8] = 9
    spec = split_spec(CAMVID, "val", min_unknown_area=2)
    conv = convert_label(label, spec)
    assert [x["area"] for x in conv["segments_info"] if x["category_id"] == 8] == [16]
    assert conv["panoptic"][0, 0] == 0 and conv["unknown_segments"] == {8: 0, 9: 1}


def test_coco_stuff_selection_rules(tmp_path):
    # stuffthingmaps store coco_id - 1; VOC split: truck (8) unknown, person (1) and sky-other
    # (157) known, 255 unlabelled
    clean = np.full((6, 6), 156, np.uint8)
    clean[0:2, 0:2] = 0
    clean[5, 5] = 255
    dirty = clean.copy()
    dirty[3, 3] = 7
    src = tmp_path / "src"
    samples = [write_sample(src, "clean", clean, ".jpg"), write_sample(src, "dirty", dirty, ".jpg")]
    train = build_split(
        samples, split_spec("coco_stuff_goss_voc", "train"), tmp_path / "t", progress=False
    )
    val = build_split(
        samples, split_spec("coco_stuff_goss_voc", "val"), tmp_path / "v", progress=False
    )
    assert train["num_kept"] == 1 and train["dropped_images"] == ["dirty"]
    assert train["dropped_reasons"] == {"contains unknown pixels": 1}
    assert val["num_kept"] == 1 and val["dropped_images"] == ["clean"]
    assert val["dropped_reasons"] == {"no unknown pixels": 1}
    sem = _read(tmp_path / "t", "sem_seg", "clean")
    person, sky = 0, 20 + (157 - 92)  # 20 known things, then stuff by COCO id
    assert sem[0, 0] == person and sem[3, 3] == sky and sem[5, 5] == 255
    vseg = _json(tmp_path / "v")["annotations"][0]["segments_info"]
    assert [x["area"] for x in vseg if x["category_id"] == 111] == [1]
    assert os.path.islink(tmp_path / "t" / "images" / "clean.jpg")


def test_cityscapes_label_ids_unknown_and_void(tmp_path):
    label = np.full((5, 5), 7, np.uint8)  # road
    label[0, :] = 26  # car: unknown in 16_3
    label[1, :] = 31  # train
    label[2, 0] = 0  # unlabeled: void
    label[2, 1] = 29  # caravan: not a train class, void
    label[2, 2] = 11  # building: known in 16_3, unknown in 13_6
    s = write_sample(tmp_path / "src", "c", label)
    m16 = build_split(
        [s], split_spec("cityscapes_goss_16_3", "train"), tmp_path / "a", progress=False
    )
    m13 = build_split(
        [s], split_spec("cityscapes_goss_13_6", "train"), tmp_path / "b", progress=False
    )
    assert m16["num_kept"] == m13["num_kept"] == 1
    a, b = _read(tmp_path / "a", "sem_seg", "c"), _read(tmp_path / "b", "sem_seg", "c")
    assert (a[0] == 254).all() and (a[1] == 13).all() and a[4, 4] == 0
    assert a[2, 0] == a[2, 1] == 255 and a[2, 2] == 2
    assert b[2, 2] == 254 and (b[1] == 10).all()
    assert m16["void_pixels"] == 2 and m13["unknown_segments"] == 2


@pytest.mark.parametrize("case", ["bad_value", "size", "corrupt", "missing_label", "rgb_label"])
def test_bad_input_names_the_file(tmp_path, case):
    label = np.zeros((6, 6), np.uint8)
    src = tmp_path / "src"
    s = write_sample(src, "x", label)
    err = ValueError
    if case == "bad_value":
        label[2, 2] = 12
        Image.fromarray(label).save(s.label_path)
    elif case == "size":
        s = write_sample(src, "x", label, image_size=(6, 7))
    elif case == "corrupt":
        with open(s.label_path, "r+b") as f:
            f.seek(40)
            f.write(b"\0" * 40)
    elif case == "missing_label":
        os.unlink(s.label_path)
        err = FileNotFoundError
    elif case == "rgb_label":
        Image.fromarray(np.zeros((6, 6, 3), np.uint8)).save(s.label_path)
    with pytest.raises(err, match=os.path.basename(s.label_path)):
        build_split([s], split_spec(CAMVID, "train"), tmp_path / "out", progress=False)
    assert not (tmp_path / "out" / "panoptic.json").exists()


def test_interrupted_build_resumes(tmp_path, monkeypatch):
    src = tmp_path / "src"
    rng = np.random.default_rng(0)
    samples = [write_sample(src, f"s{i}", rng.integers(0, 12, (9, 9))) for i in range(5)]
    spec = split_spec(CAMVID, "train")
    clean = build_split(samples, spec, tmp_path / "clean", progress=False)

    out = tmp_path / "out"
    calls = []
    real = builder_mod.atomic_write_json

    def dying(path, obj):  # the 3rd record write dies: the run stops half-way
        calls.append(path)
        if len(calls) == 3:
            raise KeyboardInterrupt
        real(path, obj)

    monkeypatch.setattr(builder_mod, "atomic_write_json", dying)
    with pytest.raises(KeyboardInterrupt):
        build_split(samples, spec, out, progress=False)
    monkeypatch.setattr(builder_mod, "atomic_write_json", real)
    assert not (out / "panoptic.json").exists()
    assert sorted(os.listdir(out / ".records")) == ["s0.json", "s1.json"]
    assert (out / "sem_seg" / "s2.png").exists()  # PNGs of s2 written, its record not
    # a half-written PNG without a record is never trusted
    (out / "sem_seg" / "s2.png").write_bytes(b"garbage")
    mtime = os.stat(out / ".records" / "s0.json").st_mtime_ns
    resumed = build_split(samples, spec, out, progress=False)
    assert os.stat(out / ".records" / "s0.json").st_mtime_ns == mtime  # reused
    assert resumed == clean
    for i in range(5):
        for sub in ("sem_seg", "panoptic"):
            a = (tmp_path / "clean" / sub / f"s{i}.png").read_bytes()
            assert (out / sub / f"s{i}.png").read_bytes() == a
    assert _json(out)["annotations"] == _json(tmp_path / "clean")["annotations"]
    # a changed source invalidates its record
    Image.fromarray(np.zeros((9, 9), np.uint8)).save(samples[0].label_path)
    changed = build_split(samples, spec, out, progress=False)
    assert changed["known_classes"][0]["pixels"] > clean["known_classes"][0]["pixels"]
    assert not [f for f in os.listdir(out / "sem_seg") if f.startswith(".tmp")]


def test_parallel_build_equals_serial_and_loads(tmp_path):
    src = tmp_path / "src"
    rng = np.random.default_rng(1)
    samples = [write_sample(src, f"p{i}", rng.integers(0, 12, (7, 8))) for i in range(6)]
    spec = split_spec(CAMVID, "val")
    a = build_split(samples, spec, tmp_path / "a", workers=1, progress=False)
    b = build_split(samples, spec, tmp_path / "b", workers=2, progress=False, image_mode="copy")
    assert (a.pop("image_mode"), b.pop("image_mode")) == ("symlink", "copy")
    assert a == b
    d = load_goss_json(
        str(tmp_path / "b" / "panoptic.json"),
        str(tmp_path / "b" / "images"),
        str(tmp_path / "b" / "panoptic"),
        str(tmp_path / "b" / "sem_seg"),
    )
    assert [x["image_id"] for x in d] == [f"p{i}" for i in range(6)]
    assert all(os.path.isfile(x["sem_seg_file_name"]) for x in d)
    assert (d[0]["height"], d[0]["width"]) == (7, 8)


def test_interrupted_build_with_another_spec_is_not_trusted(tmp_path, monkeypatch):
    src = tmp_path / "src"
    label = np.zeros((9, 9), np.uint8)
    label[0, 0] = 8  # a 1-pixel car: dropped to void with min_unknown_area=2
    label[4:, 4:] = 9
    samples = [write_sample(src, f"s{i}", label) for i in range(3)]
    spec_a = split_spec(CAMVID, "val")
    spec_b = split_spec(CAMVID, "val", min_unknown_area=2)
    out = tmp_path / "out"
    first = build_split(samples, spec_a, out, progress=False)
    pan_a = (out / "panoptic" / "s0.png").read_bytes()

    def dying(path, obj):
        raise KeyboardInterrupt

    monkeypatch.setattr(builder_mod, "atomic_write_json", dying)
    with pytest.raises(KeyboardInterrupt):  # spec B rewrote s0's PNGs, then died
        build_split(samples, spec_b, out, progress=False)
    monkeypatch.undo()
    assert (out / "panoptic" / "s0.png").read_bytes() != pan_a
    assert build_split(samples, spec_a, out, progress=False) == first
    assert (out / "panoptic" / "s0.png").read_bytes() == pan_a
    # an image an earlier build kept, now dropped, leaves no outputs behind
    kept = build_split(samples[:1], split_spec(CAMVID, "val"), out, progress=False)
    assert kept["num_kept"] == 1
    Image.fromarray(np.zeros((9, 9), np.uint8)).save(samples[0].label_path)
    shapes_like = split_spec("goss_shapes", "val")  # has_unknown: s0 now has none
    m = build_split(samples[:1], shapes_like, out, progress=False)
    assert m["dropped_images"] == ["s0"] and not (out / "sem_seg" / "s0.png").exists()


def _record(out, image_id):
    return json.loads((out / ".records" / f"{image_id}.json").read_text())


def test_resume_redoes_images_of_a_changed_image_mode_or_moved_sources(tmp_path, caplog):
    src = tmp_path / "src"
    rng = np.random.default_rng(2)
    samples = [write_sample(src, f"m{i}", rng.integers(0, 12, (6, 7))) for i in range(3)]
    spec = split_spec(CAMVID, "val")
    out = tmp_path / "out"
    first = build_split(samples, spec, out, progress=False)
    assert first["image_mode"] == "symlink"
    assert first["source_dirs"] == {"image": [str(src / "images")], "label": [str(src / "labels")]}
    assert _record(out, "m0")["source_paths"]["image"] == samples[0].image_path
    # a changed image mode: every image becomes a copy (it stayed a symlink before)
    with caplog.at_level("WARNING", logger="goss.data.builder"):
        copied = build_split(samples, spec, out, progress=False, image_mode="copy")
    assert "--image-mode symlink" in caplog.text and copied["image_mode"] == "copy"
    for s in samples:
        image = out / "images" / os.path.basename(s.image_path)
        assert not image.is_symlink() and image.read_bytes() == Path(s.image_path).read_bytes()
        assert _record(out, s.image_id)["image_mode"] == "copy"
    # moved sources: symlinks to the old paths would dangle; they are made again
    build_split(samples, spec, out, progress=False)
    moved = tmp_path / "moved"
    os.rename(src, moved)
    samples = [
        builder_mod.Sample(
            s.image_id,
            s.image_path.replace(str(src), str(moved)),
            s.label_path.replace(str(src), str(moved)),
        )
        for s in samples
    ]
    again = build_split(samples, spec, out, progress=False)
    for s in samples:
        image = out / "images" / os.path.basename(s.image_path)
        assert os.readlink(image) == s.image_path and image.exists()
    assert again["source_dirs"]["image"] == [str(moved / "images")]
    # a copy that no longer matches its source is copied again
    build_split(samples, spec, out, progress=False, image_mode="copy")
    (out / "images" / "m1.png").write_bytes(b"stale")
    build_split(samples, spec, out, progress=False, image_mode="copy")
    assert (out / "images" / "m1.png").read_bytes() == Path(samples[1].image_path).read_bytes()


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_outputs_get_the_usual_permissions(tmp_path, umask):
    s = write_sample(tmp_path / "src", "u", np.zeros((4, 4), np.uint8))
    out = tmp_path / "out"
    old = os.umask(umask)
    try:
        build_split([s], split_spec(CAMVID, "val"), out, progress=False, image_mode="copy")
    finally:
        os.umask(old)
    expected = 0o666 & ~umask
    for rel in (
        "panoptic.json",
        "manifest.json",
        ".records/u.json",
        "sem_seg/u.png",
        "panoptic/u.png",
        "images/u.png",
    ):
        assert os.stat(out / rel).st_mode & 0o777 == expected, rel
