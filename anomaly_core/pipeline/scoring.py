"""Batch scoring with a registered version: data file in, score file out (never half-written)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..data.io import TABLE_SUFFIXES, load_dataset, read_event_table, windows_from_table, write_atomically
from ..data.windows import window_end_index
from ..errors import InvalidInput
from ..registry import LoadedModel

SCORE_SUFFIXES = (".npy", ".parquet")


@dataclass
class ScoredData:
    """Scores of one data file, with what the file said about its windows."""

    scores: np.ndarray
    labels: np.ndarray | None
    timestamps: np.ndarray | None  # of each window's last (scored) event, for event tables


def score_data(model: LoadedModel, data: str, *, stride: int = 1, frame: pd.DataFrame | None = None) -> ScoredData:
    """Score ``data`` (.npz windows or an event table; ``frame`` if the table is already read) with
    ``model``, checking the window length and feature names against its schema."""
    scaler = model.detector.scaler_
    timestamps = None
    if frame is not None or Path(data).suffix in TABLE_SUFFIXES:
        frame = read_event_table(data) if frame is None else frame
        ds = windows_from_table(frame, scaler.window_length_, stride)
        if "timestamp" in frame:
            timestamps = frame["timestamp"].to_numpy()[window_end_index(len(frame), scaler.window_length_, stride)]
    else:
        ds = load_dataset(data)
    X = scaler.check(ds.X, feature_names=ds.feature_names, what=str(data), finite=False)
    scores = model.score(X)
    if not np.all(np.isfinite(scores)):  # e.g. a value so large its square overflows
        raise InvalidInput(f"{data}: {int((~np.isfinite(scores)).sum())} window(s) give a non-finite score; "
                           "values are far outside anything the model has seen")
    return ScoredData(scores, ds.y, timestamps)


def score_file(store: str, name: str, data: str, out: str, *, version: str | None = None,
               alias: str | None = None, stride: int = 1) -> dict[str, Any]:
    """Score ``data`` (.npz windows or an event table) and write ``.npy`` scores or a Parquet table
    with ``score`` and ``is_anomaly`` (plus the scored event's ``timestamp`` for event tables)."""
    from ..registry import open_registry

    out_path = Path(out)
    if out_path.suffix not in SCORE_SUFFIXES:
        raise InvalidInput(f"--out must end in .npy or .parquet, got {out_path.name!r}")
    model = open_registry(store).load(name, alias=alias, version=version)
    scored = score_data(model, data, stride=stride)
    scores, timestamps = scored.scores, scored.timestamps
    flags = scores > model.threshold
    if out_path.suffix == ".npy":
        write_atomically(out_path, lambda tmp: np.save(tmp, scores, allow_pickle=False))
    else:
        table = pd.DataFrame({"score": scores, "is_anomaly": flags})
        if timestamps is not None:
            table.insert(0, "timestamp", timestamps)
        write_atomically(out_path, lambda tmp: table.to_parquet(tmp, index=False))
    result: dict[str, Any] = {"name": name, "version": model.version, "alias": alias, "out": str(out_path),
                              "threshold": model.threshold, "windows": int(len(scores)),
                              "anomalies": int(flags.sum()), "alert_rate": float(flags.mean())}
    if scored.labels is not None:
        from ..evaluation.metrics import detection_metrics

        result["metrics"] = detection_metrics(scored.labels, scores, model.threshold)
    return result
