"""Time register / read / load of a ~1 MB version on the local store and on S3 (moto over HTTP).

Run: ``python tests/registry/bench_registry.py [--runs 10] [--mb 1] [--json]``. Prints a Markdown
table of medians and p90 in milliseconds. ``load`` here uses a stub detector, so it measures the
registry's part (resolve the alias, read and verify every file, parse the threshold); rebuilding
the real detector is the model's cost and comes on top.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from anywhere in the checkout

from anomaly_core.registry import Registry, open_registry  # noqa: E402


def version_files(mb: float, seed: int) -> dict[str, bytes]:
    rng = np.random.default_rng(seed)
    return {"weights.safetensors": rng.bytes(int(mb * 1_000_000)),
            "model.json": json.dumps({"model_type": "stub", "params": {}}).encode(),
            "preprocessing.json": json.dumps({"mean": [0.0] * 8, "std": [1.0] * 8}).encode(),
            "threshold.json": b'{"value": 0.5}',
            "reference_scores.npy": rng.standard_normal(5000).tobytes(),
            "model_card.md": b"# stub\n"}


def _stub_detector() -> None:
    class Stub:
        def score(self, X: np.ndarray) -> np.ndarray:
            return np.zeros(len(X))

    module = types.ModuleType("anomaly_core.models.persist")
    module.load_detector = lambda files: Stub()  # type: ignore[attr-defined]
    sys.modules["anomaly_core.models.persist"] = module


def _time(fn: Callable[[], Any], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def bench(reg: Registry, runs: int, mb: float) -> dict[str, list[float]]:
    seeds = iter(range(10_000))
    reg.register("bench", version_files(mb, 0), metadata={"model_type": "stub"})  # warm up the client
    results = {"register": _time(lambda: reg.register("bench", version_files(mb, next(seeds)),
                                                      metadata={"model_type": "stub"}), runs)}
    reg.promote("bench", "2", "production", reason="bench")
    results["read_files"] = _time(lambda: reg.read_files("bench", "2"), runs)
    results["load (alias)"] = _time(lambda: reg.load("bench", alias="production"), runs)
    results["verify"] = _time(lambda: reg.verify("bench", "2"), runs)
    results["promote"] = _time(lambda: reg.promote("bench", "3", "production", reason="bench"), runs)
    results["alias_etag"] = _time(lambda: reg.alias_etag("bench", "production"), runs)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--mb", type=float, default=1.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    _stub_detector()
    table: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        table["local"] = bench(open_registry(Path(tmp) / "store"), args.runs, args.mb)

    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ.update(AWS_ENDPOINT_URL=f"http://{host}:{port}", AWS_ACCESS_KEY_ID="bench",
                      AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
    boto3.client("s3").create_bucket(Bucket="bench-models")
    try:
        table["s3 (moto)"] = bench(open_registry("s3://bench-models/registry"), args.runs, args.mb)
    finally:
        server.stop()

    if args.json:
        sys.stdout.write(json.dumps(table) + "\n")
        return 0
    ops = list(next(iter(table.values())))
    lines = [f"{args.mb:g} MB version, {args.runs} runs, median / p90 in ms", "",
             "| operation | " + " | ".join(table) + " |", "|---|" + "---|" * len(table)]
    for op in ops:
        cells = []
        for store in table:
            xs = sorted(table[store][op])
            cells.append(f"{statistics.median(xs):.1f} / {xs[int(0.9 * (len(xs) - 1))]:.1f}")
        lines.append(f"| {op} | " + " | ".join(cells) + " |")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
