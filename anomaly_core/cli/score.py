"""``anomaly score``: batch scoring with a registered version or alias."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_common_options, emit


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("score", help="score a data file with a registered model version",
                       description="Writes .npy scores, or .parquet with score and is_anomaly columns.")
    p.add_argument("--data", required=True, help=".npz windows or an event table (.parquet/.csv)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--version", help="model version id")
    which.add_argument("--alias", help="alias to resolve, e.g. production")
    p.add_argument("--out", required=True, help="scores.npy or scores.parquet")
    p.add_argument("--stride", type=int, default=1, help="window stride for event tables")
    add_common_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..pipeline.scoring import score_file

    result = score_file(args.store, args.name, args.data, args.out, version=args.version, alias=args.alias,
                        stride=args.stride)

    def human(r: dict[str, Any]) -> str:
        return (f"scored {r['windows']} windows with {r['name']} version {r['version']}: "
                f"{r['anomalies']} above threshold {r['threshold']:.6g} -> {r['out']}")

    emit(args, result, human)
    return 0
