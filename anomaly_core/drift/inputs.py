"""Reading what the drift check compares: score files, event tables and windowed ``.npz`` files.

- ``.npy``: a 1-D array of scores, as ``anomaly score`` writes it (memory-mapped: a 1e7-score file is
  not read twice).
- ``.parquet`` / ``.pq`` / ``.csv``: a ``score`` column (optional ``label`` for separation) and/or
  numeric feature columns (an event table; ``timestamp``, ``label``, ``kind``, ``is_anomaly`` are not
  features).
- ``.npz``: windows ``X (N, T, F)`` (optional ``feature_names``), summarised per window.

An empty input is not an error here: the policy turns it into ``insufficient_data``.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data.io import existing_file
from ..errors import InvalidInput
from .features import NON_FEATURE_COLUMNS, window_summaries

TABLE_SUFFIXES = (".parquet", ".pq", ".csv")


@dataclass
class DriftInput:
    """One side of a comparison: scores and/or named feature columns."""

    source: str
    scores: np.ndarray | None = None
    labels: np.ndarray | None = None
    features: dict[str, np.ndarray] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "+".join(k for k, v in (("scores", self.scores), ("features", self.features)) if v is not None)


def scores_from_array(arr: np.ndarray, source: str) -> DriftInput:
    if arr.ndim != 1:
        raise InvalidInput(f"{source}: expected a 1-D array of scores, got shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise InvalidInput(f"{source}: scores must be numbers, got dtype {arr.dtype}")
    return DriftInput(source=source, scores=arr)


def scores_from_npy_bytes(raw: bytes, source: str) -> DriftInput:
    """Scores from the bytes of a ``.npy`` file (e.g. a registry's ``reference_scores.npy``)."""
    try:
        arr = np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise InvalidInput(f"{source}: not a readable .npy array ({err})") from None
    return scores_from_array(arr, source)


def _read_npy(p: Path) -> DriftInput:
    try:
        arr = np.load(p, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise InvalidInput(f"{p}: not a readable .npy array ({err})") from None
    if isinstance(arr, np.lib.npyio.NpzFile):
        arr.close()
        return _read_npz(p)
    return scores_from_array(arr, str(p))


def _read_npz(p: Path) -> DriftInput:
    try:
        with np.load(p, allow_pickle=False) as npz:
            if not isinstance(npz, np.lib.npyio.NpzFile):
                raise InvalidInput(f"{p}: expected an .npz archive with an 'X' array")
            if "X" not in npz.files:
                found = ", ".join(npz.files) or "none"
                raise InvalidInput(f"{p}: no 'X' array in the archive (found: {found})")
            X = npz["X"]
            names = [str(n) for n in npz["feature_names"]] if "feature_names" in npz.files else None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
        raise InvalidInput(f"{p}: not a readable .npz file ({err})") from None
    if X.ndim != 3:
        raise InvalidInput(f"{p}: X must have shape (N, T, F), got {X.shape}")
    if not np.issubdtype(X.dtype, np.number):
        raise InvalidInput(f"{p}: X must be numeric, got dtype {X.dtype}")
    return DriftInput(source=str(p), features=window_summaries(X, names))


def _read_table(p: Path) -> DriftInput:
    import pandas as pd

    try:
        if p.suffix == ".csv":
            frame = pd.read_csv(p)
        else:
            import pyarrow.parquet as pq

            # Read only the columns we use (a scored table may carry wide payloads).
            names = pq.read_schema(p).names
            unused = ("timestamp", "kind", "is_anomaly")
            frame = pd.read_parquet(p, columns=[c for c in names if c not in unused])
    except (ValueError, OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise InvalidInput(f"{p}: cannot read the table ({err})") from None
    if frame.empty:  # a header-only CSV types its columns as object; an empty window is still numeric
        frame = frame.astype({c: "float64" for c in frame.columns if frame[c].dtype == object})
    out = DriftInput(source=str(p))
    if "score" in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame["score"]):
            raise InvalidInput(f"{p}: the 'score' column must be numeric, got {frame['score'].dtype}")
        out.scores = frame["score"].to_numpy(dtype=np.float64)
        if "label" in frame.columns:
            out.labels = frame["label"].to_numpy()
    feats = [c for c in frame.columns if str(c) not in NON_FEATURE_COLUMNS]
    numeric = [c for c in feats if pd.api.types.is_numeric_dtype(frame[c])]
    skipped = [str(c) for c in feats if c not in numeric]
    if skipped:
        out.notes.append(f"{p}: non-numeric column(s) ignored: {skipped}")
    if numeric:
        out.features = {str(c): frame[c].to_numpy(dtype=np.float64) for c in numeric}
    if out.scores is None and out.features is None:
        raise InvalidInput(f"{p}: no 'score' column and no numeric feature columns "
                           f"(columns: {list(frame.columns)})")
    return out


def load_input(path: str | os.PathLike[str]) -> DriftInput:
    """Read one side of the comparison; a clear :class:`InvalidInput` for anything unusable."""
    p = existing_file(path)
    suffix = p.suffix.lower()
    if suffix == ".npy":
        return _read_npy(p)
    if suffix == ".npz":
        return _read_npz(p)
    if suffix in TABLE_SUFFIXES:
        return _read_table(p)
    raise InvalidInput(f"{p}: unknown file type {suffix!r} (expected .npy, .npz, .parquet, .pq or .csv)")
