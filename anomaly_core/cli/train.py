"""``anomaly train``: train, evaluate and register one model version."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..errors import InvalidInput
from ..model_names import MODEL_NAMES
from ..thresholds import DEFAULT_LEVEL, RULES
from .common import add_common_options, emit
from .progress import epoch_bar


def _param(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train, evaluate and register a model version",
                       description="With labels, the model is fitted on nominal windows only and labelled "
                                   "validation data tunes the threshold. Without --val the data is split "
                                   "70/15/15 in time order and the test part gives the reported metrics.")
    p.add_argument("--data", required=True, help="training data: .npz windows or an event table")
    p.add_argument("--val", help="validation data (early stopping, threshold)")
    p.add_argument("--test", help="test data for the reported metrics (with --val)")
    p.add_argument("--model", default="lstm_ae", help=f"one of {', '.join(MODEL_NAMES)} (default %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default %(default)s)")
    p.add_argument("--epochs", type=int, default=None, help="maximum epochs for neural models")
    p.add_argument("--param", type=_param, action="append", default=[], metavar="KEY=VALUE",
                   help="extra detector parameter, e.g. --param hidden_size=64 (repeatable)")
    p.add_argument("--threshold-rule", choices=RULES, default="quantile", help="default %(default)s")
    p.add_argument("--quantile", type=float, default=DEFAULT_LEVEL,
                   help="quantile level of nominal validation scores (default %(default)s)")
    p.add_argument("--seq-len", type=int, default=None, help="window length for event tables")
    p.add_argument("--stride", type=int, default=1, help="window stride for event tables")
    p.add_argument("--tensorboard", default=None, metavar="DIR", help="write TensorBoard scalars here")
    p.add_argument("--checkpoint-dir", default=None, metavar="DIR", help="keep the best checkpoint here")
    add_common_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..models import make_detector
    from ..pipeline.training import train_model

    if args.model not in MODEL_NAMES:
        raise InvalidInput(f"unknown model {args.model!r}; known: {', '.join(MODEL_NAMES)}")
    if args.epochs is not None and args.epochs < 1:
        raise InvalidInput(f"--epochs must be >= 1, got {args.epochs}")
    bar = epoch_bar(args.epochs or make_detector(args.model).get_params().get("epochs"), args.model)
    try:
        result = train_model(args.store, args.name, args.data, val=args.val, test=args.test, model=args.model,
                             seed=args.seed, epochs=args.epochs, params=dict(args.param),
                             threshold_rule=args.threshold_rule, level=args.quantile,
                             window_length=args.seq_len, stride=args.stride, tensorboard_dir=args.tensorboard,
                             checkpoint_dir=args.checkpoint_dir, progress=bar)
    finally:
        if bar is not None:
            bar.close()

    def human(r: dict[str, Any]) -> str:
        m = r["metrics"]
        auc = f", AUC-ROC {m['auc_roc']:.3f}" if m.get("auc_roc") is not None else ""
        f1 = f", F1 {m['f1']:.3f}" if "f1" in m else ""
        return (f"registered {r['name']} version {r['version']} ({r['model_type']}) in {r['store']}: "
                f"threshold {r['threshold']:.6g}{f1}{auc} on {m['evaluated_on']} data")

    emit(args, result, human)
    return 0
