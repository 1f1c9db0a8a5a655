from __future__ import annotations

import json

import numpy as np
import pytest

from anomaly_core.errors import InvalidInput, SchemaMismatch
from anomaly_core.preprocessing import Standardizer


def test_standardises_per_feature(rng):
    X = rng.normal(loc=[1, -2, 5], scale=[1, 3, 0.5], size=(200, 10, 3)).astype(np.float32)
    s = Standardizer().fit(X)
    Z = s.transform(X).reshape(-1, 3)
    np.testing.assert_allclose(Z.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(Z.std(0), 1, atol=1e-4)
    np.testing.assert_allclose(s.inverse_transform(s.transform(X)), X, atol=1e-4)


def test_persisted_round_trip_is_exact(rng):
    X = rng.normal(size=(50, 8, 4)).astype(np.float32)
    s = Standardizer(feature_names=["a", "b", "c", "d"]).fit(X)
    back = Standardizer.from_dict(json.loads(json.dumps(s.to_dict())))
    np.testing.assert_array_equal(back.transform(X), s.transform(X))
    assert back.feature_names_ == ["a", "b", "c", "d"] and back.window_length_ == 8


def test_constant_feature_gives_finite_values(rng):
    X = rng.normal(size=(50, 8, 3)).astype(np.float32)
    X[:, :, 1] = 5.0
    s = Standardizer().fit(X)
    assert s.constant_.tolist() == [False, True, False]
    Z = s.transform(X)
    assert np.all(np.isfinite(Z)) and np.all(Z[:, :, 1] == 0)
    moved = X.copy()
    moved[:, :, 1] = 7.0
    assert np.all(s.transform(moved)[:, :, 1] == 2.0)  # a move of the stuck metric stays visible


def test_schema_errors_name_the_problem(rng):
    s = Standardizer(feature_names=["a", "b"]).fit(rng.normal(size=(10, 5, 2)))
    with pytest.raises(SchemaMismatch, match="3 features, the model expects 2"):
        s.check(np.zeros((1, 5, 3)))
    with pytest.raises(SchemaMismatch, match="window length 4, the model expects 5"):
        s.check(np.zeros((1, 4, 2)))
    with pytest.raises(SchemaMismatch, match="do not match"):
        s.check(np.zeros((1, 5, 2)), feature_names=["b", "a"])  # a reorder is refused, never applied
    with pytest.raises(InvalidInput, match="rank-3"):
        s.check(np.zeros((5, 2)))
    bad = np.zeros((2, 5, 2))
    bad[1, 3, 0] = np.nan
    with pytest.raises(InvalidInput, match="window 1, step 3, feature 0"):
        s.check(bad)
