"""Batch scoring with a registered version: data file in, score file out (never half-written)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..data.io import TABLE_SUFFIXES, load_dataset, read_event_table, windows_from_table, write_atomically
from ..data.windows import window_end_index
from ..errors import InvalidInput

SCORE_SUFFIXES = (".npy", ".parquet")


def score_file(store: str, name: str, data: str, out: str, *, version: str | None = None,
               alias: str | None = None, stride: int = 1) -> dict[str, Any]:
    """Score ``data`` (.npz windows or an event table) and write ``.npy`` scores or a Parquet table
    with ``score`` and ``is_anomaly`` (plus the scored event's ``timestamp`` for event tables)."""
    from ..registry import open_registry

    out_path = Path(out)
    if out_path.suffix not in SCORE_SUFFIXES:
        raise InvalidInput(f"--out must end in .npy or .parquet, got {out_path.name!r}")
    model = open_registry(store).load(name, alias=alias, version=version)
    scaler = model.detector.scaler_
    timestamps = None
    if Path(data).suffix in TABLE_SUFFIXES:
        frame = read_event_table(data)
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
    flags = scores > model.threshold
    if out_path.suffix == ".npy":
        write_atomically(out_path, lambda tmp: np.save(tmp, scores, allow_pickle=False))
    else:
        import pandas as pd

        table = pd.DataFrame({"score": scores, "is_anomaly": flags})
        if timestamps is not None:
            table.insert(0, "timestamp", timestamps)
        write_atomically(out_path, lambda tmp: table.to_parquet(tmp, index=False))
    result: dict[str, Any] = {"name": name, "version": model.version, "alias": alias, "out": str(out_path),
                              "threshold": model.threshold, "windows": int(len(scores)),
                              "anomalies": int(flags.sum()), "alert_rate": float(flags.mean())}
    if ds.y is not None:
        from ..evaluation.metrics import detection_metrics

        result["metrics"] = detection_metrics(ds.y, scores, model.threshold)
    return result
