"""Benchmark of the drift check: ``python -m anomaly_core.drift.bench [--quick] [--out F.json]``.

Measures (figures quoted in docs/drift.md):

1. our statistics for 1,000,000 current vs 100,000 reference scores (in memory, and from ``.npy``
   files as the CLI reads them), next to plain scipy on the same arrays;
2. the Evidently report at a few sample sizes (score column, and score + 10 feature columns);
3. peak RSS of a fresh process running ``run_drift`` on 10,000,000 current scores from a file.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def _times(fn: Callable[[], object], repeat: int) -> dict[str, float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return {"best_s": round(min(out), 3), "median_s": round(statistics.median(out), 3), "runs": repeat}


def bench_statistics(tmp: Path, repeat: int) -> dict[str, Any]:
    import scipy.stats as sps

    from . import run_drift, score_drift

    r = np.random.default_rng(0)
    ref, cur = r.lognormal(0, 0.5, 100_000), r.lognormal(0, 0.5, 1_000_000)
    np.save(tmp / "ref.npy", ref)
    np.save(tmp / "cur.npy", cur)
    return {
        "n_reference": ref.size, "n_current": cur.size,
        "score_drift_in_memory": _times(lambda: score_drift(ref, cur), repeat),
        "run_drift_from_npy_no_report": _times(
            lambda: run_drift(tmp / "ref.npy", tmp / "cur.npy", tmp / "o", report=False), repeat),
        "scipy_ks_2samp_plus_wasserstein": _times(
            lambda: (sps.ks_2samp(ref, cur), sps.wasserstein_distance(ref, cur)), repeat),
    }


def bench_report(tmp: Path, sizes: list[int]) -> dict[str, Any]:
    from .evidently_report import render_report

    r = np.random.default_rng(1)
    n = 1_000_000
    ref = {"score": r.lognormal(0, 0.5, n // 10)}
    cur = {"score": 1.2 * r.lognormal(0, 0.5, n)}
    t = time.perf_counter()
    import evidently  # noqa: F401  (timed once: every fresh process pays it)

    out: dict[str, Any] = {"import_s": round(time.perf_counter() - t, 3), "runs": []}
    wide_ref = ref | {f"f{i}.mean": r.normal(size=n // 10) for i in range(10)}
    wide_cur = cur | {f"f{i}.mean": r.normal(size=n) for i in range(10)}
    for size in sizes:
        for label, a, b in (("score", ref, cur), ("score+10 features", wide_ref, wide_cur)):
            t = time.perf_counter()
            info = render_report(a, b, tmp / f"rep{size}", sample_size=size)
            seconds = round(time.perf_counter() - t, 3)
            out["runs"].append({"columns": label, "sample_size": size, "seconds": seconds,
                                "html_bytes": os.path.getsize(info["html"])})
    return out


_CHILD = """
import json, sys, time
def hwm_mb():  # VmHWM: this process's peak RSS (ru_maxrss would inherit the parent's across fork+exec)
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM")) / 1024
from anomaly_core.drift import run_drift
import numpy as np, scipy.stats, pandas  # imported before the baseline, as in the CLI
base = hwm_mb()
t = time.perf_counter()
s = run_drift(sys.argv[1], sys.argv[2], sys.argv[3], report=sys.argv[4] == "1")
print(json.dumps({"verdict": s["verdict"], "seconds": round(time.perf_counter() - t, 3),
                  "baseline_rss_mb": round(base, 1), "peak_rss_mb": round(hwm_mb(), 1)}))
"""


def bench_memory(tmp: Path, n: int) -> dict[str, Any]:
    r = np.random.default_rng(2)
    np.save(tmp / "ref_m.npy", r.lognormal(0, 0.5, 100_000))
    # Written in pieces so this process does not hold the whole array either.
    with open(tmp / "cur_m.npy", "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, {"descr": "<f8", "fortran_order": False, "shape": (n,)})
        for start in range(0, n, 1_000_000):
            fh.write(r.lognormal(0, 0.5, min(1_000_000, n - start)).astype("<f8").tobytes())
    out: dict[str, Any] = {"n_current": n, "file_mb": round(os.path.getsize(tmp / "cur_m.npy") / 2**20, 1)}
    for report in ("0", "1"):
        proc = subprocess.run([sys.executable, "-c", _CHILD, str(tmp / "ref_m.npy"), str(tmp / "cur_m.npy"),
                               str(tmp / f"m{report}"), report], capture_output=True, text=True, check=True)
        out["with_report" if report == "1" else "statistics_only"] = json.loads(proc.stdout.splitlines()[-1])
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1 repeat, one report size, 2e6 scores for memory")
    p.add_argument("--out", help="also write the figures to this JSON file")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        result = {
            "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "numpy": np.__version__},
            "memory": bench_memory(tmp, 2_000_000 if args.quick else 10_000_000),
            "statistics": bench_statistics(tmp, 1 if args.quick else 5),
            "report": bench_report(tmp, [5_000] if args.quick else [5_000, 10_000, 20_000]),
                }
    text = json.dumps(result, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
