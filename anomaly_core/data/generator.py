"""The paper's synthetic telemetry (section 3.1), seeded.

Each window holds one unit-amplitude sine per feature (frequency U(0.1, 0.5) Hz sampled at 1 Hz,
random phase) plus Gaussian noise (sigma 0.1). A ``contamination`` share of windows gets one of three
anomalies; the paper gives no magnitudes, so we fix them (DESIGN notes/paper.md):

* ``point``: 1-3 spikes of +-U(3, 5) at random (step, feature) cells;
* ``shift``: 1-3 features offset by +-U(1, 2) from a start in the first half of the window to its end;
* ``variance``: noise sigma x U(3, 5) in 1-3 features from a start in the first half.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInput

ANOMALY_KINDS = ("point", "shift", "variance")
NOISE_SIGMA = 0.1
FREQ_RANGE_HZ = (0.1, 0.5)


@dataclass(frozen=True)
class WindowedDataset:
    """The ``.npz`` contract: ``X`` raw float32 ``(N, T, F)``, optional ``y`` (1 = anomalous), ``kind``."""

    X: np.ndarray
    y: np.ndarray | None = None
    kind: np.ndarray | None = None
    feature_names: list[str] | None = None

    def __len__(self) -> int:
        return len(self.X)

    def subset(self, index: slice | np.ndarray) -> WindowedDataset:
        return WindowedDataset(
            self.X[index],
            None if self.y is None else self.y[index],
            None if self.kind is None else self.kind[index],
            self.feature_names,
        )


def _check_sizes(samples: int, seq_len: int, features: int, contamination: float) -> None:
    for label, v in (("samples", samples), ("seq-len", seq_len), ("features", features)):
        if int(v) < 1:
            raise InvalidInput(f"{label} must be a positive integer, got {v}")
    if not 0.0 <= contamination < 1.0:
        raise InvalidInput(f"contamination must be in [0, 1), got {contamination}")


def inject_anomaly(window: np.ndarray, kind: str, rng: np.random.Generator) -> None:
    """Inject one anomaly of ``kind`` into ``window`` (T, F) in place."""
    T, F = window.shape
    n_feat = int(rng.integers(1, min(3, F) + 1))
    feats = rng.choice(F, size=n_feat, replace=False)
    if kind == "point":
        n_spikes = int(rng.integers(1, 4))
        steps = rng.integers(0, T, size=n_spikes)
        cols = rng.integers(0, F, size=n_spikes)
        window[steps, cols] += rng.choice((-1.0, 1.0), size=n_spikes) * rng.uniform(3.0, 5.0, size=n_spikes)
    elif kind == "shift":
        start = int(rng.integers(0, max(1, T // 2)))
        offsets = rng.choice((-1.0, 1.0), size=n_feat) * rng.uniform(1.0, 2.0, size=n_feat)
        window[start:, feats] += offsets
    elif kind == "variance":
        start = int(rng.integers(0, max(1, T // 2)))
        factor = rng.uniform(3.0, 5.0, size=n_feat)
        # extra noise so the total sigma is NOISE_SIGMA * factor
        extra = NOISE_SIGMA * np.sqrt(factor**2 - 1.0)
        window[start:, feats] += rng.normal(0.0, 1.0, size=(T - start, n_feat)) * extra
    else:
        raise InvalidInput(f"unknown anomaly kind {kind!r}; known: {', '.join(ANOMALY_KINDS)}")


def generate_windows(samples: int = 2000, seq_len: int = 30, features: int = 10, *,
                     contamination: float = 0.1, seed: int | None = 0,
                     kinds: tuple[str, ...] = ANOMALY_KINDS) -> WindowedDataset:
    """Generate ``samples`` windows of the paper's synthetic data."""
    _check_sizes(samples, seq_len, features, contamination)
    rng = np.random.default_rng(seed)
    t = np.arange(seq_len, dtype=np.float64)[None, :, None]
    freq = rng.uniform(*FREQ_RANGE_HZ, size=(samples, 1, features))
    phase = rng.uniform(0.0, 2 * np.pi, size=(samples, 1, features))
    X = np.sin(2 * np.pi * freq * t + phase) + rng.normal(0.0, NOISE_SIGMA, size=(samples, seq_len, features))
    n_anom = int(round(contamination * samples))
    y = np.zeros(samples, dtype=np.int8)
    kind = np.full(samples, "normal", dtype="<U8")
    for i in rng.choice(samples, size=n_anom, replace=False):
        k = kinds[int(rng.integers(len(kinds)))]
        inject_anomaly(X[i], k, rng)
        y[i], kind[i] = 1, k
    return WindowedDataset(X.astype(np.float32), y, kind)
