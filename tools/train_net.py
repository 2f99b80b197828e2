#!/usr/bin/env python
"""
Train and evaluate GOSS models with Detectron2's trainer.

    python tools/train_net.py --config-file projects/GOSS/configs/GST_R50.yaml
    python tools/train_net.py --config-file CFG --eval-only MODEL.WEIGHTS model_final.pth
    python tools/train_net.py --config-file CFG --num-gpus 8

Identification and fusion are test-time options, so one trained model serves every
identification row: e.g. ``--eval-only MODEL.GOSS.IDENTIFIER max_logit``.
"""

import logging
import os

import torch

import goss  # noqa: F401  (applies the Detectron2 shims, registers GOSS)
from detectron2.checkpoint import DetectionCheckpointer
from detectron2.data import (
    MetadataCatalog,
    build_detection_test_loader,
    build_detection_train_loader,
)
from detectron2.engine import DefaultTrainer, default_argument_parser, default_setup, launch
from detectron2.evaluation import DatasetEvaluators, verify_results
from detectron2.projects.deeplab import build_lr_scheduler
from detectron2.solver import get_default_optimizer_params
from detectron2.solver.build import maybe_add_gradient_clipping
from detectron2.utils.logger import setup_logger
from goss.config import get_goss_cfg
from goss.data import GOSSDatasetMapper
from goss.evaluation import GQEvaluator
from goss.modeling import build_unknown_clusterer


class Trainer(DefaultTrainer):
    """DefaultTrainer with GOSS data, the GQ evaluator, Adam and the poly LR schedule."""

    def state_dict(self):
        # Detectron2 v0.6's DefaultTrainer checkpoints only hooks and the iteration, so a resumed
        # run restarted Adam from scratch; later Detectron2 versions save the inner trainer too.
        ret = super().state_dict()
        ret["_trainer"] = self._trainer.state_dict()
        return ret

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        if "_trainer" in state_dict:
            self._trainer.load_state_dict(state_dict["_trainer"])

    @classmethod
    def build_evaluator(cls, cfg, dataset_name, output_folder=None):
        output_folder = output_folder or os.path.join(cfg.OUTPUT_DIR, "inference", dataset_name)
        evaluator_type = MetadataCatalog.get(dataset_name).evaluator_type
        if evaluator_type != "goss":
            raise NotImplementedError(
                f"no evaluator for dataset {dataset_name} of evaluator_type {evaluator_type!r}"
            )
        # the model's clusterer, for the oracle row "oracle_id_model_clusters" of the diagnostics
        clusterer = build_unknown_clusterer(cfg)
        return DatasetEvaluators(
            [GQEvaluator(dataset_name, output_dir=output_folder, clusterer=clusterer)]
        )

    @classmethod
    def build_train_loader(cls, cfg):
        return build_detection_train_loader(cfg, mapper=GOSSDatasetMapper(cfg, is_train=True))

    @classmethod
    def build_test_loader(cls, cfg, dataset_name):
        return build_detection_test_loader(
            cfg, dataset_name, mapper=GOSSDatasetMapper(cfg, is_train=False)
        )

    @classmethod
    def build_lr_scheduler(cls, cfg, optimizer):
        return build_lr_scheduler(cfg, optimizer)

    @classmethod
    def build_optimizer(cls, cfg, model):
        params = get_default_optimizer_params(
            model,
            weight_decay=cfg.SOLVER.WEIGHT_DECAY,
            weight_decay_norm=cfg.SOLVER.WEIGHT_DECAY_NORM,
        )
        name = cfg.SOLVER.OPTIMIZER.upper()
        if name == "ADAM":
            optimizer = torch.optim.Adam(params, cfg.SOLVER.BASE_LR)
        elif name == "SGD":
            optimizer = torch.optim.SGD(
                params,
                cfg.SOLVER.BASE_LR,
                momentum=cfg.SOLVER.MOMENTUM,
                nesterov=cfg.SOLVER.NESTEROV,
            )
        else:
            raise ValueError(f"SOLVER.OPTIMIZER must be ADAM or SGD, got {cfg.SOLVER.OPTIMIZER!r}")
        return maybe_add_gradient_clipping(cfg, optimizer)


def setup(args):
    """Create the config from ``args`` and set up logging and the output directory."""
    cfg = get_goss_cfg(args.config_file, args.opts)
    default_setup(cfg, args)
    setup_logger(output=cfg.OUTPUT_DIR, distributed_rank=0, name="goss")
    return cfg


def main(args):
    cfg = setup(args)
    if args.eval_only:
        model = Trainer.build_model(cfg)
        DetectionCheckpointer(model, save_dir=cfg.OUTPUT_DIR).resume_or_load(
            cfg.MODEL.WEIGHTS, resume=args.resume
        )
        res = Trainer.test(cfg, model)
        verify_results(cfg, res)
        return res
    trainer = Trainer(cfg)
    trainer.resume_or_load(resume=args.resume)
    return trainer.train()


def invoke_main():
    args = default_argument_parser().parse_args()
    logging.getLogger("goss").info("Command line arguments: %s", args)
    launch(
        main,
        args.num_gpus,
        num_machines=args.num_machines,
        machine_rank=args.machine_rank,
        dist_url=args.dist_url,
        args=(args,),
    )


if __name__ == "__main__":
    invoke_main()
