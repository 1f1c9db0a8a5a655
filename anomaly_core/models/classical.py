"""Baselines: Isolation Forest and One-Class SVM (the paper's), PCA error and window energy (references).

scikit-learn scores "lower = more abnormal"; these wrappers negate once so that, like every detector
here, higher = more anomalous. Windows are flattened to ``T * F`` standardised values.
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.svm import OneClassSVM

from .base import BaseDetector, DetectorState, Progress
from .safe_sklearn import dumps_estimator, loads_estimator


def window_energy_of(Z: np.ndarray) -> np.ndarray:
    """Mean squared standardised value of each window ``Z`` (N, T, F)."""
    return np.mean(Z.astype(np.float64) ** 2, axis=(1, 2))


def _flat(Z: np.ndarray) -> np.ndarray:
    return Z.reshape(len(Z), -1)


class _SklearnDetector(BaseDetector):
    """Persists its fitted estimator with skops (no pickle), loaded back with a fixed trust list."""

    def _get_state(self) -> DetectorState:
        return DetectorState(blobs={"estimator.skops": dumps_estimator(self.estimator_)})

    def _set_state(self, state: DetectorState) -> None:
        self.estimator_ = loads_estimator(state.blobs["estimator.skops"])


class IsolationForestDetector(_SklearnDetector):
    name = "iforest"

    def __init__(self, *, n_estimators: int = 100, contamination: float = 0.1,
                 random_state: int | None = 0) -> None:
        self.n_estimators = n_estimators
        self.contamination = contamination
        self.random_state = random_state

    def _fit(self, Z: np.ndarray, Z_val: np.ndarray | None, progress: Progress | None) -> None:
        self.estimator_ = IsolationForest(n_estimators=self.n_estimators, contamination=self.contamination,
                                          random_state=self.random_state).fit(_flat(Z))

    def _score(self, Z: np.ndarray) -> np.ndarray:
        return -self.estimator_.score_samples(_flat(Z))


class OneClassSVMDetector(_SklearnDetector):
    name = "ocsvm"

    def __init__(self, *, nu: float = 0.1, kernel: str = "rbf", gamma: str | float = "scale") -> None:
        self.nu = nu
        self.kernel = kernel
        self.gamma = gamma

    def _fit(self, Z: np.ndarray, Z_val: np.ndarray | None, progress: Progress | None) -> None:
        self.estimator_ = OneClassSVM(nu=self.nu, kernel=self.kernel, gamma=self.gamma).fit(_flat(Z))

    def _score(self, Z: np.ndarray) -> np.ndarray:
        return -self.estimator_.decision_function(_flat(Z))


class PCADetector(BaseDetector):
    """Reference row: reconstruction error of a linear projection (no learning beyond PCA)."""

    name = "pca"

    def __init__(self, *, n_components: int = 32, random_state: int | None = 0) -> None:
        self.n_components = n_components
        self.random_state = random_state

    def _fit(self, Z: np.ndarray, Z_val: np.ndarray | None, progress: Progress | None) -> None:
        flat = _flat(Z).astype(np.float64)
        k = int(min(self.n_components, flat.shape[0], flat.shape[1]))
        pca = PCA(n_components=k, random_state=self.random_state).fit(flat)
        self.components_, self.center_ = pca.components_, pca.mean_

    def _score(self, Z: np.ndarray) -> np.ndarray:
        centred = _flat(Z).astype(np.float64) - self.center_
        recon = (centred @ self.components_.T) @ self.components_
        return np.mean((centred - recon) ** 2, axis=1)

    def _get_state(self) -> DetectorState:
        return DetectorState(arrays={"components": self.components_, "center": self.center_})

    def _set_state(self, state: DetectorState) -> None:
        self.components_ = np.asarray(state.arrays["components"], dtype=np.float64)
        self.center_ = np.asarray(state.arrays["center"], dtype=np.float64)


class WindowEnergyDetector(BaseDetector):
    """Reference row: mean squared standardised value of the window. A trivial score any learned
    detector must beat; the paper's repeat-vector LSTM-AE ends up close to it."""

    name = "energy"

    def __init__(self) -> None:
        pass

    def _fit(self, Z: np.ndarray, Z_val: np.ndarray | None, progress: Progress | None) -> None:
        pass

    def _score(self, Z: np.ndarray) -> np.ndarray:
        return window_energy_of(Z)

    def _get_state(self) -> DetectorState:
        return DetectorState()

    def _set_state(self, state: DetectorState) -> None:
        pass
