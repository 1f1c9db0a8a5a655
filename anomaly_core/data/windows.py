"""Lazy sliding windows over event tables and time-ordered splits.

A ``(n_events, F)`` table becomes windows through a strided view (no copy): the paper's Table 1 scale
(1.45 M events x 128 features, lookback 60) would be 44 GB if materialised. The last event of each
window is the one the window scores, so a window's label is its last event's label.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..errors import InvalidInput


def sliding_windows(values: np.ndarray, window_length: int, stride: int = 1) -> np.ndarray:
    """Read-only strided view ``(N, T, F)`` over ``values`` ``(n_events, F)``; no data is copied."""
    values = np.asarray(values)
    if values.ndim != 2:
        raise InvalidInput(f"event values must be 2-D (events, features), got shape {values.shape}")
    if window_length < 1 or stride < 1:
        raise InvalidInput(f"window length and stride must be >= 1, got {window_length} and {stride}")
    if len(values) < window_length:
        raise InvalidInput(f"{len(values)} events are fewer than one window of {window_length}")
    view = np.lib.stride_tricks.sliding_window_view(values, window_length, axis=0)  # (N, F, T)
    return view[::stride].transpose(0, 2, 1)


def window_end_index(n_events: int, window_length: int, stride: int = 1) -> np.ndarray:
    """Index of the last (scored) event of every window."""
    return np.arange(window_length - 1, n_events, stride)


def window_labels(labels: np.ndarray, window_length: int, stride: int = 1) -> np.ndarray:
    """Label of each window = label of its last event."""
    return np.asarray(labels)[window_end_index(len(labels), window_length, stride)]


def iter_batches(n: int, batch_size: int) -> Iterator[slice]:
    """Bounded chunks over ``n`` rows (scikit-learn's ``gen_batches`` habit)."""
    if batch_size < 1:
        raise InvalidInput(f"batch size must be >= 1, got {batch_size}")
    for start in range(0, n, batch_size):
        yield slice(start, min(start + batch_size, n))


def time_ordered_split(n: int, fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)
                       ) -> tuple[slice, slice, slice]:
    """Train / validation / test slices in time order (no shuffling: the future never trains the past)."""
    if abs(sum(fractions) - 1.0) > 1e-9 or min(fractions) < 0:
        raise InvalidInput(f"split fractions must be >= 0 and sum to 1, got {fractions}")
    a = int(round(n * fractions[0]))
    b = int(round(n * (fractions[0] + fractions[1])))
    if min(a, b - a, n - b) < 1:
        raise InvalidInput(f"{n} windows are too few for a {fractions} split")
    return slice(0, a), slice(a, b), slice(b, n)
