"""add_goss_config: exists, adds keys, and every key it sets carries a comment."""

import inspect
import re

import goss.config
from detectron2.config import get_cfg
from goss import add_goss_config

_ASSIGN = re.compile(r"^\s*(cfg\.[A-Z0-9_.]+)\s*=")


def test_add_goss_config_adds_namespaces():
    cfg = get_cfg()
    add_goss_config(cfg)
    for node in ("GOSS", "BPD_HEAD", "CONTRASTIVE"):
        assert node in cfg.MODEL
    assert cfg.MODEL.BPD_HEAD.POSTPROCESS.THETA_A == 45.0
    assert cfg.MODEL.GOSS.IDENTIFIER in ("msp", "max_logit", "n_plus_one")


def test_every_key_has_a_comment():
    lines = inspect.getsource(goss.config.add_goss_config).splitlines()
    keys, missing = 0, []
    for i, line in enumerate(lines):
        m = _ASSIGN.match(line)
        if not m:
            continue
        keys += 1
        inline = "#" in line
        above = i > 0 and lines[i - 1].strip().startswith("#")
        if not (inline or above):
            missing.append(m.group(1))
    assert keys > 20
    assert not missing, f"config keys without a comment: {missing}"
