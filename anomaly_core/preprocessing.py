"""Persisted per-feature standardisation (the paper's z = (x - mu) / sigma), with the feature schema.

Fitted on nominal training windows, saved with every model version and reused at scoring time, so
training and inference can never disagree. A feature that is constant over the training data has
``sigma = 0``; we scale it by 1 instead (``z = x - mu``) so it contributes 0 while it stays constant
and a visible deviation when it moves, never NaN or inf.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from .data.validation import check_windows
from .errors import NotFittedError, SchemaMismatch

#: sigma below this (relative to 1 + |mu|) counts as a constant feature
CONSTANT_TOL = 1e-8


def default_feature_names(n_features: int) -> list[str]:
    """``f0 ... f{F-1}``: the names windows without a header get (DESIGN.md section 3)."""
    return [f"f{i}" for i in range(n_features)]


class Standardizer:
    """Per-feature standardisation over all time steps of all windows."""

    def __init__(self, feature_names: list[str] | None = None) -> None:
        self.feature_names = feature_names

    def fit(self, X: np.ndarray) -> Self:
        X = check_windows(X, what="training data")
        flat = X.reshape(-1, X.shape[2]).astype(np.float64)
        self.mean_ = flat.mean(axis=0)
        std = flat.std(axis=0)
        self.constant_ = std <= CONSTANT_TOL * (1.0 + np.abs(self.mean_))
        self.scale_ = np.where(self.constant_, 1.0, std)
        self.window_length_ = int(X.shape[1])
        self.n_features_in_ = int(X.shape[2])
        self.feature_names_ = list(self.feature_names or default_feature_names(self.n_features_in_))
        if len(self.feature_names_) != self.n_features_in_:
            raise SchemaMismatch(f"{len(self.feature_names_)} feature names for {self.n_features_in_} features")
        return self

    def check(self, X: object, *, feature_names: list[str] | None = None, what: str = "data",
              finite: bool = True) -> np.ndarray:
        """Validate ``X`` against the persisted schema (shape, and names when the caller has them)."""
        if not hasattr(self, "mean_"):
            raise NotFittedError("Standardizer is not fitted")
        if feature_names is not None and list(feature_names) != self.feature_names_:
            raise SchemaMismatch(f"{what}: features {list(feature_names)} do not match the model's "
                                 f"{self.feature_names_} (names and order must be equal)")
        return check_windows(X, what=what, window_length=self.window_length_, n_features=self.n_features_in_,
                             finite=finite)

    def transform(self, X: np.ndarray) -> np.ndarray:
        mean = self.mean_.astype(np.float32)
        scale = self.scale_.astype(np.float32)
        return (np.asarray(X, dtype=np.float32) - mean) / scale

    def inverse_transform(self, Z: np.ndarray) -> np.ndarray:
        return np.asarray(Z, dtype=np.float32) * self.scale_.astype(np.float32) + self.mean_.astype(np.float32)

    # -- persistence (preprocessing.json) -------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "standardize",
            "mean": self.mean_.tolist(),
            "std": self.scale_.tolist(),
            "constant": self.constant_.tolist(),
            "feature_names": self.feature_names_,
            "dtype": "float32",
            "window_length": self.window_length_,
            "n_features": self.n_features_in_,
            "constant_policy": "sigma=0 features are scaled by 1 (z = x - mu)",
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Self:
        s = cls(feature_names=list(d["feature_names"]))
        s.mean_ = np.asarray(d["mean"], dtype=np.float64)
        s.scale_ = np.asarray(d["std"], dtype=np.float64)
        s.constant_ = np.asarray(d["constant"], dtype=bool)
        s.window_length_ = int(d["window_length"])
        s.n_features_in_ = int(d["n_features"])
        s.feature_names_ = list(d["feature_names"])
        if not (len(s.mean_) == len(s.scale_) == s.n_features_in_ == len(s.feature_names_)):
            raise SchemaMismatch("preprocessing.json is inconsistent: mean/std/feature_names lengths differ")
        return s
