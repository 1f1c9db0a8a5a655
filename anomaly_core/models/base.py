"""The one interface every detector follows (scikit-learn estimator habits, PyOD's score direction).

* ``__init__`` only stores keyword arguments; ``fit`` validates, derives and returns ``self``.
* Learned state ends in ``_`` and is set only by ``fit`` (or by ``from_state`` when loading).
* ``score(X)`` takes raw (unscaled) windows ``(N, T, F)`` and returns float64 ``(N,)``,
  higher = more anomalous. Each detector owns its persisted preprocessing.
* Persistence without pickle: ``get_state()`` returns JSON-able config plus named float arrays;
  ``from_state`` rebuilds an identical detector (see :mod:`anomaly_core.models.persist`).
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

import numpy as np

from ..data.validation import check_finite, check_windows
from ..data.windows import iter_batches
from ..errors import InvalidInput, NotFittedError
from ..preprocessing import Standardizer

#: called after every training epoch with (epoch, train loss, validation loss)
Progress = Callable[[int, float, float], None]

#: bytes of float32 windows validated, standardised and scored at a time (bounds memory for lazy
#: inputs: about 7,000 windows of 30 x 10, 270 of the paper's Table 1 shape 60 x 128)
SCORE_CHUNK_BYTES = 8 << 20


class BaseDetector(abc.ABC):
    """Base class: subclasses implement ``_fit`` and ``_score`` on standardised windows."""

    #: the name used on the command line and in ``metadata.json``
    name: ClassVar[str]

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments, JSON-able (scikit-learn's ``get_params`` without nesting)."""
        import inspect

        sig = inspect.signature(type(self).__init__)
        return {p: getattr(self, p) for p in sig.parameters if p != "self"}

    def set_params(self, **params: Any) -> Self:
        valid = self.get_params()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"{type(self).__name__} has no parameter {key!r}; known: {sorted(valid)}")
            setattr(self, key, value)
        return self

    # -- fitting and scoring ------------------------------------------------------------------------

    def fit(self, X: np.ndarray, y: np.ndarray | None = None, *, X_val: np.ndarray | None = None,
            feature_names: list[str] | None = None, progress: Progress | None = None) -> Self:
        """Fit on windows ``X``; when labels ``y`` are given only nominal windows (``y == 0``) are used.

        ``X_val`` (nominal validation windows) drives early stopping for the neural detectors, which
        call ``progress(epoch, train_loss, val_loss)`` after every epoch. ``feature_names`` (default
        ``f0 ... f{F-1}``) become part of the persisted schema that scoring checks.
        """
        X = check_windows(X, what="training data")
        if y is not None:
            y = np.asarray(y)
            if y.shape != (len(X),):
                raise InvalidInput(f"labels have shape {y.shape}, expected ({len(X)},)")
            X = X[y == 0]
            if len(X) == 0:
                raise InvalidInput("training data has no nominal windows (every label is 1)")
        self.scaler_ = Standardizer(feature_names=feature_names).fit(X)
        Z = self.scaler_.transform(X)
        Z_val = None
        if X_val is not None and len(X_val):
            Z_val = self.scaler_.transform(check_windows(X_val, what="validation data"))
        self._fit(Z, Z_val, progress)
        return self

    def score(self, X: np.ndarray) -> np.ndarray:
        """Anomaly score per window, float64 ``(N,)``; higher = more anomalous.

        Works in bounded batches, so ``X`` may be a lazy strided view over an event table.
        """
        self._check_fitted()
        X = self.scaler_.check(X, finite=False)
        out = np.empty(len(X), dtype=np.float64)
        batch = max(1, SCORE_CHUNK_BYTES // (4 * X.shape[1] * X.shape[2]))
        for sl in iter_batches(len(X), batch):
            part = np.ascontiguousarray(X[sl], dtype=np.float32)
            check_finite(part, what="data", offset=sl.start)
            out[sl] = self._score(self.scaler_.transform(part))
        return out

    decision_function = score  # PyOD's name for the same thing

    @abc.abstractmethod
    def _fit(self, Z: np.ndarray, Z_val: np.ndarray | None, progress: Progress | None) -> None:
        """Fit on standardised nominal windows."""

    @abc.abstractmethod
    def _score(self, Z: np.ndarray) -> np.ndarray:
        """Score standardised windows."""

    def _check_fitted(self) -> None:
        if not hasattr(self, "scaler_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call fit() first")

    # -- persistence ----------------------------------------------------------------------------------

    def get_state(self) -> DetectorState:
        """Everything ``fit`` learned, in pickle-free pieces (see :mod:`anomaly_core.models.persist`)."""
        self._check_fitted()
        return self._get_state()

    @classmethod
    def from_state(cls, params: dict[str, Any], state: DetectorState, scaler: Standardizer) -> Self:
        det = cls(**params)
        det.scaler_ = scaler
        det._set_state(state)
        return det

    @abc.abstractmethod
    def _get_state(self) -> DetectorState: ...

    @abc.abstractmethod
    def _set_state(self, state: DetectorState) -> None: ...


@dataclass
class DetectorState:
    """Fitted state: JSON-able ``config``, named numeric ``arrays`` (safetensors), opaque ``blobs``
    (files in a safe format of their own, e.g. skops)."""

    config: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
