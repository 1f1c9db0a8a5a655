from __future__ import annotations

import numpy as np
import pytest

from anomaly_core.data.events import generate_events
from anomaly_core.data.generator import NOISE_SIGMA, generate_windows, inject_anomaly
from anomaly_core.errors import InvalidInput


def test_shape_dtype_and_contamination():
    ds = generate_windows(1000, 30, 10, contamination=0.1, seed=3)
    assert ds.X.shape == (1000, 30, 10) and ds.X.dtype == np.float32
    assert ds.y.sum() == 100
    assert set(np.unique(ds.kind)) == {"normal", "point", "shift", "variance"}
    assert np.all((ds.kind == "normal") == (ds.y == 0))


def test_seeded_and_deterministic():
    a, b, c = generate_windows(50, seed=1), generate_windows(50, seed=1), generate_windows(50, seed=2)
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, c.X)


def test_nominal_windows_are_unit_sines_with_paper_noise():
    ds = generate_windows(500, 200, 4, contamination=0.0, seed=0)
    # sine of amplitude 1 has variance 1/2; noise adds sigma^2
    assert ds.X.var() == pytest.approx(0.5 + NOISE_SIGMA**2, rel=0.05)
    assert np.abs(ds.X).max() < 1.0 + 6 * NOISE_SIGMA


@pytest.mark.parametrize("kind", ["point", "shift", "variance"])
def test_anomaly_magnitudes(kind):
    rng = np.random.default_rng(0)
    for _ in range(50):
        w = np.zeros((30, 10))
        inject_anomaly(w, kind, rng)
        changed = np.flatnonzero(np.abs(w).sum(axis=0) > 0)
        assert 1 <= len(changed) <= 3
        if kind == "point":
            assert 3.0 <= np.abs(w).max() <= 10.0  # two spikes may land on one cell
        elif kind == "shift":
            col = w[:, changed[0]]
            start = np.flatnonzero(col)[0]
            assert start < 15 and np.all(col[start:] == col[-1]) and 1.0 <= abs(col[-1]) <= 2.0
        else:
            start = np.flatnonzero(np.abs(w).sum(axis=1))[0]
            assert start < 15


def test_bad_sizes_are_named():
    with pytest.raises(InvalidInput, match="samples"):
        generate_windows(0)
    with pytest.raises(InvalidInput, match="contamination"):
        generate_windows(10, contamination=1.5)


def test_events_have_schema_labels_and_drift():
    base = generate_events(4000, 3, seed=0)
    assert list(base.columns) == ["timestamp", "f0", "f1", "f2", "label"]
    assert base["timestamp"].is_monotonic_increasing
    shifted = generate_events(4000, 3, seed=0, drift="shift", contamination=0.0)
    late, early = shifted.iloc[2500:], shifted.iloc[:1500]
    assert late["f0"].mean() - early["f0"].mean() == pytest.approx(1.0, abs=0.15)
    noisy = generate_events(4000, 3, seed=0, drift="variance", contamination=0.0, drift_magnitude=2.0)
    assert noisy.iloc[2500:]["f1"].var() > noisy.iloc[:1500]["f1"].var() + 0.05
    with pytest.raises(InvalidInput, match="unknown drift"):
        generate_events(100, drift="tilt")
