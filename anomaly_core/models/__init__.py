"""Detectors behind one interface (:class:`BaseDetector`), looked up by name."""

from __future__ import annotations

from typing import Any

from ..errors import InvalidInput
from .base import BaseDetector, DetectorState
from .classical import IsolationForestDetector, OneClassSVMDetector, PCADetector, WindowEnergyDetector
from .neural import DenseAutoencoderDetector, LSTMAutoencoderDetector, PaperLSTMAutoencoderDetector

DETECTORS: dict[str, type[BaseDetector]] = {
    cls.name: cls
    for cls in (LSTMAutoencoderDetector, PaperLSTMAutoencoderDetector, DenseAutoencoderDetector,
                IsolationForestDetector, OneClassSVMDetector, PCADetector, WindowEnergyDetector)
}


def make_detector(name: str, **params: Any) -> BaseDetector:
    """A new, unfitted detector; unknown names and parameters are clear errors."""
    try:
        cls = DETECTORS[name]
    except KeyError:
        raise InvalidInput(f"unknown model {name!r}; known: {', '.join(DETECTORS)}") from None
    det = cls()
    unknown = set(params) - set(det.get_params())
    if unknown:
        raise InvalidInput(f"model {name!r} has no parameter(s) {sorted(unknown)}; "
                           f"known: {sorted(det.get_params())}")
    return det.set_params(**params)


def applicable_params(name: str, **candidates: Any) -> dict[str, Any]:
    """The ``candidates`` that model ``name`` takes and that are not ``None`` (shared options such as
    a seed or an epoch cap, which only some detectors have)."""
    known = make_detector(name).get_params()
    return {k: v for k, v in candidates.items() if v is not None and k in known}


__all__ = ["DETECTORS", "BaseDetector", "DetectorState", "applicable_params", "make_detector"]
