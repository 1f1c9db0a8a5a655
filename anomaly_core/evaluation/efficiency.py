"""Scoring throughput and latency, measured the same way for every detector."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def throughput(score: Callable[[np.ndarray], np.ndarray], X: np.ndarray, *, min_seconds: float = 1.0,
               warmup: int = 1024) -> dict[str, float]:
    """Windows per second of ``score`` on ``X`` (repeated until ``min_seconds`` have passed)."""
    score(X[:warmup])
    n, t0 = 0, time.perf_counter()
    while True:
        score(X)
        n += len(X)
        elapsed = time.perf_counter() - t0
        if elapsed >= min_seconds:
            break
    wps = n / elapsed
    return {"windows_per_second": wps, "latency_ms_per_window": 1e3 / wps}


def single_window_latency(score: Callable[[np.ndarray], np.ndarray], X: np.ndarray,
                          repeats: int = 200) -> dict[str, float]:
    """p50/p99 of scoring one window at a time (what a single-window request pays)."""
    times = []
    for i in range(repeats):
        x = X[i % len(X)][None]
        t0 = time.perf_counter()
        score(x)
        times.append(time.perf_counter() - t0)
    ms = np.asarray(times) * 1e3
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99))}


def plain_torch_lstm_throughput(window_length: int, n_features: int, hidden: int = 32,
                                n_windows: int = 50_000, batch: int = 8192) -> float:
    """A plain ``torch.nn.LSTM`` autoencoder forward of the same shape (the yardstick in the issue)."""
    import torch
    from torch import nn

    class _Plain(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.e = nn.LSTM(n_features, hidden, batch_first=True)
            self.d = nn.LSTM(hidden, hidden, batch_first=True)
            self.o = nn.Linear(hidden, n_features)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            _, (h, _) = self.e(x)
            y, _ = self.d(h[-1].unsqueeze(1).repeat(1, x.shape[1], 1))
            return self.o(y)

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        m = _Plain().eval()
        x = torch.randn(n_windows, window_length, n_features)
    with torch.inference_mode():
        m(x[:1024])
        t0 = time.perf_counter()
        for i in range(0, n_windows, batch):
            m(x[i : i + batch])
        return n_windows / (time.perf_counter() - t0)
