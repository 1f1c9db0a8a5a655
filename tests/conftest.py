"""Shared fixtures: small seeded datasets and an isolated store per test."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def small_data():
    """(train, val, test) windows of the paper's data, small enough for fast tests."""
    from anomaly_core.data.generator import generate_windows

    return (generate_windows(400, seed=11), generate_windows(200, seed=12), generate_windows(200, seed=13))


@pytest.fixture
def store_uri(tmp_path, monkeypatch) -> str:
    uri = str(tmp_path / "store")
    monkeypatch.setenv("ANOMALY_STORE_URI", uri)
    return uri


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
