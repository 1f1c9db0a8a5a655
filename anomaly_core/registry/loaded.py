"""A verified, loaded model version: the object ``Registry.load`` returns to serving and scoring."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..errors import IntegrityError, InvalidInput
from . import layout
from .codec import load_json


class Scorer(Protocol):
    def score(self, X: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class LoadedModel:
    """A detector rebuilt from verified files, with its version's threshold and metadata."""

    name: str
    version: str
    threshold: float
    metadata: dict[str, Any]
    manifest_digest: str
    detector: Scorer = field(repr=False)
    alias: str | None = None

    def score(self, X: np.ndarray) -> np.ndarray:
        """Raw windows ``(N, T, F)`` -> float64 ``(N,)``; higher = more anomalous."""
        return np.asarray(self.detector.score(X), dtype=np.float64)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """``score > threshold`` as bool ``(N,)``."""
        return self.score(X) > self.threshold


def parse_threshold(files: Mapping[str, bytes], name: str, version: str) -> float:
    """The ``value`` of ``threshold.json``: a finite number."""
    if layout.THRESHOLD not in files:
        raise IntegrityError(f"version {version} of {name!r} has no {layout.THRESHOLD}; it cannot be loaded")
    doc = load_json(files[layout.THRESHOLD], f"{layout.THRESHOLD} of {name!r} version {version}")
    value = doc.get("value") if isinstance(doc, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"{layout.THRESHOLD} of {name!r} version {version} needs a finite number "
                           f"under 'value', got {value!r}")
    return float(value)


def build(name: str, version: str, files: Mapping[str, bytes], manifest_digest: str,
          alias: str | None) -> LoadedModel:
    """Rebuild the detector from already verified files (never from pickle: see models.persist)."""
    from ..models.persist import load_detector  # lazy: the registry must import without torch

    threshold = parse_threshold(files, name, version)
    metadata = load_json(files[layout.METADATA], f"metadata of {name!r} version {version}")
    return LoadedModel(name=name, version=version, threshold=threshold,
                       metadata=metadata if isinstance(metadata, dict) else {},
                       manifest_digest=manifest_digest, detector=load_detector(files), alias=alias)
