"""``anomaly generate``: the paper's windows (.npz) or an event table (.parquet/.csv) with drift."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from ..data.events import DRIFT_KINDS, generate_events
from ..data.generator import generate_windows
from ..data.io import TABLE_SUFFIXES, save_dataset, write_atomically
from ..errors import InvalidInput
from .common import add_common_options, emit


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="write synthetic telemetry (paper section 3.1)",
                       description="Windows of the paper's synthetic data to .npz, or with --events an "
                                   "event table to .parquet/.csv (optionally with drift).")
    p.add_argument("--out", required=True, help="output file: .npz (windows) or .parquet/.csv (events)")
    p.add_argument("--samples", type=int, default=2000, help="windows (default %(default)s)")
    p.add_argument("--seq-len", type=int, default=30, help="window length (default %(default)s)")
    p.add_argument("--features", type=int, default=10, help="features (default %(default)s)")
    p.add_argument("--contamination", type=float, default=None,
                   help="anomalous share (default 0.1 for windows, 0.01 for events)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default %(default)s)")
    p.add_argument("--events", type=int, default=None, help="write an event table of this many events")
    p.add_argument("--drift", choices=DRIFT_KINDS, default=None, help="inject drift into the event table")
    p.add_argument("--drift-start", type=float, default=0.5, help="share of the table where drift starts")
    p.add_argument("--drift-magnitude", type=float, default=1.0, help="drift strength (see docs)")
    add_common_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    result: dict[str, Any] = {"out": str(out), "seed": args.seed}
    if args.events is not None or out.suffix in TABLE_SUFFIXES:
        if out.suffix not in TABLE_SUFFIXES:
            raise InvalidInput(f"an event table is written as .parquet or .csv, not {out.suffix or 'no suffix'}")
        frame = generate_events(args.events or 10_000, args.features,
                                contamination=0.01 if args.contamination is None else args.contamination,
                                seed=args.seed, drift=args.drift, drift_start=args.drift_start,
                                drift_magnitude=args.drift_magnitude)
        write_atomically(out, lambda tmp: frame.to_csv(tmp, index=False) if out.suffix == ".csv"
                         else frame.to_parquet(tmp, index=False))
        result.update(kind="events", events=len(frame), features=args.features, drift=args.drift,
                      anomalous_events=int(frame["label"].sum()))
    else:
        if out.suffix != ".npz":
            raise InvalidInput(f"windows are written as .npz, not {out.suffix or 'no suffix'}")
        if args.drift:
            raise InvalidInput("--drift applies to event tables: add --events N and a .parquet output")
        ds = generate_windows(args.samples, args.seq_len, args.features,
                              contamination=0.1 if args.contamination is None else args.contamination,
                              seed=args.seed)
        save_dataset(ds, out)
        kinds, counts = np.unique(ds.kind, return_counts=True)
        result.update(kind="windows", samples=len(ds), seq_len=args.seq_len, features=args.features,
                      anomalies=int(ds.y.sum()), by_kind=dict(zip(kinds.tolist(), counts.tolist(), strict=True)))
    emit(args, result, lambda r: f"wrote {r['out']} ({r['kind']})")
    return 0
