"""The Evidently adapter: the only module that imports evidently (0.7 API, imported lazily: ~5 s).

Evidently renders the report an operator opens; it does not decide anything. It never samples and
reprocesses every row several times (notes/evidently.md), so it gets a bounded, seeded sample of each
column. Its per-column drift uses ``wasserstein`` (normed), because its PSI bins are equal-width and
understate drift of heavy-tailed scores; our own full-data statistics live in ``summary.json``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_SAMPLE_SIZE = 10_000
HTML_NAME = "report.html"
JSON_NAME = "report.json"


def sample_column(values: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Up to ``size`` finite values drawn without replacement (NaN/inf are counted in our summary).

    Draws 10 % extra rows and drops the non-finite ones, so the sample is ``size`` long unless more
    than about a tenth of the column is NaN/inf; no full-size mask or copy is made.
    """
    values = np.asarray(values).reshape(-1)
    draw = min(values.size, size + size // 10 + 10)
    if draw < values.size:
        idx = np.sort(rng.choice(values.size, size=draw, replace=False))
        values = values[idx]  # fancy indexing on a memmap reads only these rows
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    return rng.permutation(values)[:size] if values.size > size else values


def _frame(columns: Mapping[str, np.ndarray], size: int, rng: np.random.Generator) -> Any:
    import pandas as pd

    # Columns are sampled independently: Evidently's drift tests are per column, so this keeps each
    # column's distribution while letting a score and features come from differently sized inputs.
    sampled = {name: sample_column(v, size, rng) for name, v in columns.items()}
    k = min(v.size for v in sampled.values())
    return pd.DataFrame({name: v[:k] for name, v in sampled.items()})


def render_report(reference: Mapping[str, np.ndarray], current: Mapping[str, np.ndarray],
                  out_dir: str | os.PathLike[str], *, sample_size: int = DEFAULT_SAMPLE_SIZE, seed: int = 0,
                  thresholds: Mapping[str, float] | None = None) -> dict[str, Any]:
    """Write ``report.html`` and ``report.json`` for the named columns; return a small digest.

    ``reference`` and ``current`` map column names (``score``, ``f0.mean``, ...) to 1-D arrays with
    the same names on both sides. ``thresholds`` sets Evidently's per-column drift threshold on the
    normed Wasserstein distance (default: Evidently's 0.1).
    """
    if set(reference) != set(current) or not reference:
        raise ValueError("reference and current need the same, non-empty set of columns")
    if sample_size < 1:
        raise ValueError(f"sample_size must be >= 1, got {sample_size}")
    rng = np.random.default_rng(seed)
    cols = list(reference)
    ref_df = _frame(reference, sample_size, rng)
    cur_df = _frame({c: current[c] for c in cols}, sample_size, rng)
    if ref_df.empty or cur_df.empty:
        raise ValueError("no finite values to put in the report")

    t0 = time.perf_counter()
    os.environ.setdefault("DO_NOT_TRACK", "1")  # no usage telemetry from a batch job
    import evidently
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    t_import = time.perf_counter() - t0
    # Explicit types: inference calls an integer column with few distinct values categorical.
    dd = DataDefinition(numerical_columns=cols)
    preset = DataDriftPreset(columns=cols, num_method="wasserstein",
                             per_column_threshold=dict(thresholds or {}) or None)
    snapshot = Report([preset], include_tests=True).run(
        Dataset.from_pandas(cur_df, data_definition=dd),  # current first, then reference
        Dataset.from_pandas(ref_df, data_definition=dd))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    html, js = out / HTML_NAME, out / JSON_NAME
    for path, save in ((html, snapshot.save_html), (js, snapshot.save_json)):
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        save(str(tmp))  # save_html only writes when given a str
        os.replace(tmp, path)
    return {
        "html": str(html), "json": str(js), "evidently_version": evidently.__version__,
        "sample": {"reference": len(ref_df), "current": len(cur_df), "requested": sample_size, "seed": seed},
        "columns": _column_results(snapshot.dict()),
        "seconds": round(time.perf_counter() - t0, 3), "import_seconds": round(t_import, 3),
    }


def _column_results(d: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Evidently's per-column value and test status, keyed on ``config`` (not the display name)."""
    out: dict[str, dict[str, Any]] = {}
    for m in d.get("metrics", []):
        cfg = m.get("config", {})
        if str(cfg.get("type", "")).endswith("ValueDrift"):
            out[str(cfg["column"])] = {"method": cfg.get("method"), "value": m.get("value")}
    for t in d.get("tests", []):
        params = t.get("metric_config", {}).get("params", {})
        if str(params.get("type", "")).endswith("ValueDrift") and params.get("column") in out:
            status = t.get("status")
            out[params["column"]]["status"] = getattr(status, "value", status)
    return out
