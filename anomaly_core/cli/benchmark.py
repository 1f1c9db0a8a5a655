"""``anomaly benchmark``: the paper's Table 3 protocol, with the ablation and a paired t-test."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import InvalidInput
from ..model_names import BENCHMARK_MODELS, MODEL_NAMES
from .common import add_common_options, emit


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("benchmark", help="reproduce the paper's Table 3 (and ablation, t-test, figures)")
    p.add_argument("--runs", type=int, default=5, help="seeds to average over (default %(default)s)")
    p.add_argument("--out", required=True, help="folder for results.json, table.md and figures/")
    p.add_argument("--samples", type=int, default=2000, help="windows per run (default %(default)s)")
    p.add_argument("--seq-len", type=int, default=30)
    p.add_argument("--features", type=int, default=10)
    p.add_argument("--seed", type=int, default=0, help="first seed (default %(default)s)")
    p.add_argument("--epochs", type=int, default=None, help="cap epochs of the neural models (quick runs)")
    p.add_argument("--models", default=",".join(BENCHMARK_MODELS), help="comma-separated (default: all)")
    p.add_argument("--no-ablation", action="store_true", help="skip the ablation runs")
    add_common_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..evaluation.benchmark import BenchmarkConfig, run_benchmark
    from ..evaluation.report import write_report

    models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    unknown = [m for m in models if m not in MODEL_NAMES]
    if unknown:
        raise InvalidInput(f"unknown model(s) {unknown}; known: {', '.join(MODEL_NAMES)}")
    if args.runs < 1:
        raise InvalidInput(f"--runs must be >= 1, got {args.runs}")
    cfg = BenchmarkConfig(runs=args.runs, samples=args.samples, seq_len=args.seq_len, features=args.features,
                          seed=args.seed, epochs=args.epochs, models=models, ablation=not args.no_ablation)
    tty = sys.stderr.isatty()
    results = run_benchmark(cfg, progress=(lambda msg: sys.stderr.write(msg + "\n")) if tty else None)
    paths = write_report(results, args.out)
    brief = {m: {k: v["mean"] for k, v in s.items() if k in ("f1", "f1_deployable", "auc_roc", "auc_pr",
                                                               "windows_per_second")}
             for m, s in results["summary"].items()}
    out: dict[str, Any] = {"out": args.out, **paths, "summary": brief,
                           "paired_ttest_lstm_ae_vs_dense_ae": results["paired_ttest_lstm_ae_vs_dense_ae"],
                           "threshold_rules": results["threshold_rules"]}
    emit(args, out, lambda r: f"wrote {r['table']}, {r['results']} and {r['figures']}/")
    return 0
