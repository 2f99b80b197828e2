"""goss.engine.checks: NUM_KNOWN_CLASSES against the datasets, trained weights against the model."""

import pytest
import torch

from detectron2.modeling import build_model
from goss.engine.checks import check_dataset_metadata, load_trained_weights
from goss.engine.errors import ToolError
from tests.common import small_goss_cfg, write_tiny_goss_dataset


def test_num_known_classes_checked_against_every_dataset(tmp_path, goss_log):
    write_tiny_goss_dataset(tmp_path / "a", "goss_test_checks_3", num_images=1, num_known=3)
    write_tiny_goss_dataset(tmp_path / "b", "goss_test_checks_6", num_images=1, num_known=6)
    cfg = small_goss_cfg(num_known=6)
    check_dataset_metadata(cfg, ["goss_test_checks_6"])
    with pytest.raises(ToolError) as e:
        check_dataset_metadata(cfg, ["goss_test_checks_6", "goss_test_checks_3"])
    message = str(e.value)
    assert "MODEL.GOSS.NUM_KNOWN_CLASSES is 6" in message
    assert "'goss_test_checks_3' has 3 known classes" in message
    check_dataset_metadata(cfg, ["goss_test_checks_no_metadata"])
    assert "no stuff_classes" in goss_log.text


def test_label_divisor_checked_against_the_metadata(tmp_path):
    write_tiny_goss_dataset(tmp_path / "a", "goss_test_checks_divisor", num_images=1, num_known=3)
    cfg = small_goss_cfg(num_known=3)
    check_dataset_metadata(cfg, ["goss_test_checks_divisor"])
    cfg.MODEL.GOSS.LABEL_DIVISOR = 256
    with pytest.raises(ToolError) as e:
        check_dataset_metadata(cfg, ["goss_test_checks_divisor"])
    message = str(e.value)
    assert "MODEL.GOSS.LABEL_DIVISOR is 256" in message
    assert "'goss_test_checks_divisor' has label_divisor 1000" in message


def _save(tmp_path, name, state):
    path = tmp_path / f"{name}.pth"
    torch.save({"model": state}, path)
    return str(path)


def test_trained_weights_load(tmp_path):
    cfg = small_goss_cfg(num_known=3)
    trained = build_model(cfg).state_dict()
    model = build_model(cfg)
    load_trained_weights(model, _save(tmp_path, "trained", trained))
    assert all(torch.equal(v, trained[k]) for k, v in model.state_dict().items())


def test_untrained_weights_are_refused(tmp_path, goss_log):
    cfg = small_goss_cfg(num_known=3)
    model = build_model(cfg)
    backbone = {k: v for k, v in model.state_dict().items() if k.startswith("backbone.")}
    other_n = build_model(small_goss_cfg(num_known=4)).state_dict()  # another predictor shape
    cases = {
        "": "MODEL.WEIGHTS is empty",
        "goss://ImageNetPretrained/mobilenet_v2": "backbone initialisation",
        _save(tmp_path, "backbone", backbone): "GOSS heads",
        _save(tmp_path, "other_n", other_n): "another shape",
    }
    for weights, reason in cases.items():
        with pytest.raises(ToolError, match=reason) as e:
            load_trained_weights(model, weights)
        assert "--allow-untrained" in str(e.value)
    load_trained_weights(model, _save(tmp_path, "backbone", backbone), allow_untrained=True)
    assert "running it anyway (--allow-untrained)" in goss_log.text


@pytest.mark.parametrize("allow_untrained", [False, True])
def test_missing_weights_file_is_a_one_line_error(tmp_path, allow_untrained):
    model = build_model(small_goss_cfg(num_known=3))
    missing = str(tmp_path / "nope" / "model_final.pth")
    with pytest.raises(ToolError, match=f"MODEL.WEIGHTS {missing}: no such file"):
        load_trained_weights(model, missing, allow_untrained=allow_untrained)
