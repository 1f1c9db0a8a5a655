"""Event-table simulator: continuous multivariate telemetry at 1 Hz, with anomalies and optional drift.

Each feature ``f{i}`` is a sine with its own frequency in the paper's range and noise sigma 0.1, so a
model trained on the paper's ``.npz`` windows scores these events too. Anomalies are the paper's three
kinds injected into window-long segments (every event of a segment is labelled 1). Drift changes the
process from ``drift_start`` (a share of the table) to the end:

* ``shift``: every feature's level moves by ``drift_magnitude`` (default 1.0);
* ``variance``: the noise sigma is multiplied by ``1 + drift_magnitude`` (default x2);
* ``seasonality``: every frequency is multiplied by ``1 + drift_magnitude / 2`` (default x1.5).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InvalidInput
from ..preprocessing import default_feature_names
from .generator import ANOMALY_KINDS, FREQ_RANGE_HZ, NOISE_SIGMA, inject_anomaly

DRIFT_KINDS = ("shift", "variance", "seasonality")


def generate_events(events: int = 10_000, features: int = 10, *, contamination: float = 0.01,
                    segment_length: int = 30, seed: int | None = 0, drift: str | None = None,
                    drift_start: float = 0.5, drift_magnitude: float = 1.0,
                    start: str = "2026-01-01T00:00:00Z") -> pd.DataFrame:
    """A ``timestamp`` column, ``f0 ... f{F-1}`` and an int ``label`` column (1 = anomalous event)."""
    if events < 1 or features < 1:
        raise InvalidInput(f"events and features must be positive, got {events} and {features}")
    if drift is not None and drift not in DRIFT_KINDS:
        raise InvalidInput(f"unknown drift {drift!r}; known: {', '.join(DRIFT_KINDS)}")
    if not 0.0 <= drift_start <= 1.0:
        raise InvalidInput(f"drift start must be a share in [0, 1], got {drift_start}")
    if not 0.0 <= contamination < 1.0:
        raise InvalidInput(f"contamination must be in [0, 1), got {contamination}")
    rng = np.random.default_rng(seed)
    t = np.arange(events, dtype=np.float64)[:, None]
    freq = rng.uniform(*FREQ_RANGE_HZ, size=(1, features))
    phase = rng.uniform(0.0, 2 * np.pi, size=(1, features))
    sigma = np.full(events, NOISE_SIGMA)[:, None]
    level = np.zeros((events, 1))
    d0 = int(round(drift_start * events))
    if drift == "seasonality":
        # keep the phase continuous at the change point
        f1 = freq * (1.0 + drift_magnitude / 2.0)
        arg = 2 * np.pi * freq * t + phase
        arg[d0:] = (2 * np.pi * freq * d0 + phase) + 2 * np.pi * f1 * (t[d0:] - d0)
        X = np.sin(arg)
    else:
        X = np.sin(2 * np.pi * freq * t + phase)
    if drift == "variance":
        sigma[d0:] *= 1.0 + drift_magnitude
    elif drift == "shift":
        level[d0:] = drift_magnitude
    X = X + level + rng.normal(0.0, 1.0, size=X.shape) * sigma
    label = np.zeros(events, dtype=np.int8)
    n_segments = int(round(contamination * events / segment_length))
    if n_segments and events >= segment_length:
        for s in rng.choice(events // segment_length, size=n_segments, replace=False):
            seg = slice(int(s) * segment_length, (int(s) + 1) * segment_length)
            inject_anomaly(X[seg], ANOMALY_KINDS[int(rng.integers(len(ANOMALY_KINDS)))], rng)
            label[seg] = 1
    frame = pd.DataFrame(X.astype(np.float32), columns=default_feature_names(features))
    frame.insert(0, "timestamp", pd.date_range(pd.Timestamp(start), periods=events, freq="s"))
    frame["label"] = label
    return frame
