"""Feature drift: the same two-sample statistics per input feature, so a report names what moved.

Windowed data ``(N, T, F)`` is reduced to per-window summaries (mean and std of each feature over the
window, named ``f3.mean`` / ``f3.std``): a level shift moves the means, a variance change moves the
stds, and N values per summary keep the statistics comparable with the score's. An event table is
compared column by column on the raw values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidInput, SchemaMismatch
from .stats import sort_finite, two_sample

#: Columns of an event table or score table that are never features.
NON_FEATURE_COLUMNS = ("timestamp", "label", "kind", "score", "is_anomaly")
#: Windows summarised per batch, so only one batch is ever held as float64.
BATCH = 65_536


def window_summaries(X: np.ndarray, names: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Mean and std over the time axis of each feature: ``{"f0.mean": (N,), "f0.std": (N,), ...}``."""
    X = np.asarray(X)
    if X.ndim != 3:
        raise InvalidInput(f"windows must have shape (N, T, F), got {X.shape}")
    n, _, f = X.shape
    names = [f"f{i}" for i in range(f)] if names is None else [str(s) for s in names]
    if len(names) != f:
        raise InvalidInput(f"{len(names)} feature names for {f} features")
    means = np.empty((n, f))
    stds = np.empty((n, f))
    for start in range(0, n, BATCH):
        block = np.asarray(X[start:start + BATCH], dtype=np.float64)
        means[start:start + BATCH] = block.mean(axis=1)
        stds[start:start + BATCH] = block.std(axis=1)
    out: dict[str, np.ndarray] = {}
    for i, name in enumerate(names):
        out[f"{name}.mean"] = means[:, i]
        out[f"{name}.std"] = stds[:, i]
    return out


def table_columns(frame: pd.DataFrame, exclude: Sequence[str] = NON_FEATURE_COLUMNS) -> dict[str, np.ndarray]:
    """Numeric columns of an event table as float64 arrays; non-feature columns are left out."""
    cols = [c for c in frame.columns if str(c) not in exclude]
    bad = [str(c) for c in cols if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise InvalidInput(f"feature columns must be numeric; not numeric: {bad}")
    return {str(c): frame[c].to_numpy(dtype=np.float64) for c in cols}


def as_feature_columns(data: Any) -> dict[str, np.ndarray]:
    """Windows ``(N, T, F)``, an event-table DataFrame, or a mapping of 1-D arrays -> named columns."""
    if isinstance(data, pd.DataFrame):
        return table_columns(data)
    if isinstance(data, Mapping):
        return {str(k): np.asarray(v, dtype=np.float64).reshape(-1) for k, v in data.items()}
    return window_summaries(np.asarray(data))


def feature_drift(reference: Any, current: Any, *, bins: int = 10) -> dict[str, dict[str, Any]]:
    """Per-feature statistics (see :class:`~anomaly_core.drift.stats.TwoSample`) plus NaN counts.

    Both sides must have the same features; a missing or extra one is a :class:`SchemaMismatch`
    (never a silent partial comparison). A feature with no finite value on a side gets
    ``{"error": ...}`` instead of statistics.
    """
    ref_cols, cur_cols = as_feature_columns(reference), as_feature_columns(current)
    if not ref_cols:
        raise InvalidInput("no feature columns to compare")
    if set(ref_cols) != set(cur_cols):
        missing = sorted(set(ref_cols) - set(cur_cols))
        extra = sorted(set(cur_cols) - set(ref_cols))
        raise SchemaMismatch(f"current features differ from the reference: missing {missing}, extra {extra}")
    out: dict[str, dict[str, Any]] = {}
    for name, ref_values in ref_cols.items():
        rs, rn = sort_finite(ref_values)
        cs, cn = sort_finite(cur_cols[name])
        entry: dict[str, Any] = {"non_finite": {"reference": rn.to_dict(), "current": cn.to_dict()}}
        if rs.size and cs.size:
            entry.update(two_sample(rs, cs, bins=bins).to_dict())
        else:
            entry["error"] = "no finite values on one side"
        out[name] = entry
    return out

