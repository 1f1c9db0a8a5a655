"""``python -m anomaly_core.evaluation.throughput``: LSTM-AE batch scoring vs a plain torch LSTM.

Both are measured in the same process on the same random 30 x 10 windows, so the ratio holds even
on a shared machine; the absolute figures need a quiet one.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--windows", type=int, default=100_000)
    parser.add_argument("--seq-len", type=int, default=30)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3, help="best of this many passes")
    args = parser.parse_args(argv)
    import torch

    from ..data.generator import generate_windows
    from ..models import make_detector
    from .efficiency import plain_torch_lstm_throughput, throughput

    train = generate_windows(500, args.seq_len, args.features, seed=1)
    det = make_detector("lstm_ae", epochs=2).fit(train.X, train.y)  # speed does not depend on training
    X = np.random.default_rng(0).normal(size=(args.windows, args.seq_len, args.features)).astype(np.float32)
    ours = max(throughput(det.score, X, min_seconds=0.1)["windows_per_second"] for _ in range(args.repeats))
    plain = {b: max(plain_torch_lstm_throughput(args.seq_len, args.features, n_windows=args.windows, batch=b)
                    for _ in range(args.repeats)) for b in (1024, 8192)}
    result = {"windows": args.windows, "shape": [args.seq_len, args.features], "threads": torch.get_num_threads(),
              "lstm_ae_windows_per_second": ours,
              "plain_torch_lstm_windows_per_second": {str(b): v for b, v in plain.items()},
              "ratio_vs_plain_8192": ours / plain[8192], "ratio_vs_plain_1024": ours / plain[1024]}
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
