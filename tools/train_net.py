#!/usr/bin/env python
"""
Train and evaluate GOSS models with Detectron2's trainer.

    python tools/train_net.py --config-file projects/GOSS/configs/GST_R50.yaml
    python tools/train_net.py --config-file CFG --eval-only MODEL.WEIGHTS model_final.pth
    python tools/train_net.py --config-file CFG --num-gpus 8

Identification and fusion are test-time options, so one trained model serves every
identification row: e.g. ``--eval-only MODEL.GOSS.IDENTIFIER max_logit``.

Before it trains or evaluates, it checks ``MODEL.GOSS.NUM_KNOWN_CLASSES`` against every dataset
of ``DATASETS.TRAIN`` and ``DATASETS.TEST``; ``--eval-only`` refuses weights that leave the GOSS
heads random (no ``MODEL.WEIGHTS``, an ImageNet initialisation) unless ``--allow-untrained``;
``--resume`` does what ``goss.engine.resume`` says. A refusal is one line on stderr, exit status 2.
"""

import os

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
from detectron2.utils import comm
from detectron2.utils.logger import setup_logger
from goss.config import get_goss_cfg
from goss.data import GOSSDatasetMapper
from goss.engine.checks import check_dataset_metadata, load_trained_weights
from goss.engine.errors import ToolError
from goss.engine.optimizer import build_optimizer
from goss.engine.resume import check_fresh_start, checkpoint_to_resume, continue_training
from goss.engine.train_loop import cpu_amp_trainer, wants_cpu_amp
from goss.evaluation import GQEvaluator
from goss.modeling import build_unknown_clusterer

# whether DefaultTrainer.load_state_dict restores the inner trainer (Detectron2 main) or not (v0.6)
_DEFAULT_TRAINER_LOADS_INNER_STATE = "load_state_dict" in vars(DefaultTrainer)


class Trainer(DefaultTrainer):
    """
    DefaultTrainer with GOSS data, the GQ evaluator, Adam and the poly LR schedule; with
    ``SOLVER.AMP.ENABLED`` on the CPU it trains under bfloat16 autocast (``CPUAMPTrainer``).
    """

    def __init__(self, cfg):
        cpu_amp = wants_cpu_amp(cfg)
        # Detectron2's AMPTrainer is CUDA-only: build the float32 loop, then put ours in its place
        super().__init__(_with_amp_off(cfg) if cpu_amp else cfg)
        self.cfg = cfg
        if cpu_amp:
            self._trainer = cpu_amp_trainer(self._trainer)

    # Detectron2 v0.6's DefaultTrainer checkpoints only hooks and the iteration, so a resumed run
    # restarted Adam from scratch; Detectron2 main's DefaultTrainer saves and loads the inner
    # trainer (optimizer, grad scaler) itself, and there these two overrides do nothing.
    def state_dict(self):
        ret = super().state_dict()
        if "_trainer" not in ret:  # v0.6
            ret["_trainer"] = self._trainer.state_dict()
        return ret

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        if "_trainer" in state_dict and not _DEFAULT_TRAINER_LOADS_INNER_STATE:  # v0.6
            self._trainer.load_state_dict(state_dict["_trainer"])

    def resume_or_load(self, resume=True):
        """
        Detectron2's, but ``resume`` does what the user means or says why it cannot: see
        :mod:`goss.engine.resume`.
        """
        path = checkpoint_to_resume(self.checkpointer) if resume else None
        if path is None:
            if resume:
                check_fresh_start(self.cfg.OUTPUT_DIR)
            super().resume_or_load(resume=False)
        else:
            continue_training(self, path)

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
            [
                GQEvaluator(
                    dataset_name,
                    output_dir=output_folder,
                    clusterer=clusterer,
                    num_known=cfg.MODEL.GOSS.NUM_KNOWN_CLASSES,
                    label_divisor=cfg.MODEL.GOSS.LABEL_DIVISOR,
                )
            ]
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
        return build_optimizer(cfg, model)


def _with_amp_off(cfg):
    cfg = cfg.clone()
    cfg.defrost()
    cfg.SOLVER.AMP.ENABLED = False
    cfg.freeze()
    return cfg


def setup(args):
    """Create the config from ``args`` and set up logging and the output directory."""
    cfg = get_goss_cfg(args.config_file, args.opts)
    default_setup(cfg, args)  # also logs the command line, on every rank, once handlers exist
    setup_logger(output=cfg.OUTPUT_DIR, distributed_rank=comm.get_rank(), name="goss")
    return cfg


def get_parser():
    """Detectron2's ``default_argument_parser`` plus ``--allow-untrained``."""
    parser = default_argument_parser()
    parser.add_argument(
        "--allow-untrained",
        action="store_true",
        help="with --eval-only: evaluate even if MODEL.WEIGHTS is empty, a backbone "
        "initialisation (ImageNet) or lacks the GOSS heads, i.e. the results of random heads",
    )
    return parser


def main(args):
    cfg = setup(args)
    check_dataset_metadata(cfg, [*cfg.DATASETS.TRAIN, *cfg.DATASETS.TEST])
    if args.eval_only:
        model = Trainer.build_model(cfg)
        weights = cfg.MODEL.WEIGHTS
        if args.resume:
            checkpointer = DetectionCheckpointer(model, save_dir=cfg.OUTPUT_DIR)
            weights = checkpoint_to_resume(checkpointer) or weights
        load_trained_weights(model, weights, allow_untrained=args.allow_untrained)
        res = Trainer.test(cfg, model)
        verify_results(cfg, res)
        return res
    trainer = Trainer(cfg)
    trainer.resume_or_load(resume=args.resume)
    return trainer.train()


def invoke_main():
    parser = get_parser()
    args = parser.parse_args()
    try:
        launch(
            main,
            args.num_gpus,
            num_machines=args.num_machines,
            machine_rank=args.machine_rank,
            dist_url=args.dist_url,
            args=(args,),
        )
    except ToolError as e:
        parser.exit(2, f"train_net.py: error: {e}\n")


if __name__ == "__main__":
    invoke_main()
