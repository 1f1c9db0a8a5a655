"""Fixtures of the drift suite: seeded score samples, score files, and a fake model registry."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from anomaly_core import registry
from anomaly_core.errors import NotFound


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def same_large() -> tuple[np.ndarray, np.ndarray]:
    """100,000 reference vs 1,000,000 current scores from one log-normal distribution."""
    r = np.random.default_rng(7)
    return r.lognormal(0, 0.5, 100_000), r.lognormal(0, 0.5, 1_000_000)


@pytest.fixture
def write_npy(tmp_path: Path) -> Callable[[str, np.ndarray], Path]:
    def write(name: str, values: np.ndarray) -> Path:
        path = tmp_path / name
        np.save(path, values)
        return path

    return write


class FakeRegistry:
    """The slice of the registry API ``anomaly drift`` uses: ``resolve`` and ``read_file``."""

    def __init__(self, files: dict[tuple[str, str, str], bytes], aliases: dict[tuple[str, str], str]) -> None:
        self.files = files
        self.aliases = aliases
        self.opened: list[str] = []

    def resolve(self, name: str, alias: str) -> str:
        try:
            return self.aliases[(name, alias)]
        except KeyError:
            raise NotFound(f"alias {alias!r} of {name!r} does not exist") from None

    def read_file(self, name: str, version: str, filename: str) -> bytes:
        try:
            return self.files[(name, str(version), filename)]
        except KeyError:
            raise NotFound(f"{name}/{version}/{filename} does not exist") from None


def npy_bytes(values: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, values)
    return buf.getvalue()


@pytest.fixture
def fake_registry(monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeRegistry]:
    """Install a fake ``open_registry``; call it with the reference scores and threshold of version 3."""

    def install(reference: np.ndarray | None, threshold: dict[str, Any] | None = None) -> FakeRegistry:
        files: dict[tuple[str, str, str], bytes] = {}
        if reference is not None:
            files[("telemetry", "3", "reference_scores.npy")] = npy_bytes(reference)
        if threshold is not None:
            files[("telemetry", "3", "threshold.json")] = json.dumps(threshold).encode()
        reg = FakeRegistry(files, {("telemetry", "production"): "3"})

        def open_registry(uri: str) -> FakeRegistry:
            reg.opened.append(uri)
            return reg

        monkeypatch.setattr(registry, "open_registry", open_registry, raising=False)
        return reg

    return install
