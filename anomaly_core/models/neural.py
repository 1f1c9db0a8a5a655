"""Neural detectors: the LSTM autoencoders and the dense AE, trained by :mod:`..training.loop`.

Scoring rules (one per detector, used everywhere: CLI, serving, benchmark):

* ``mse``: mean squared reconstruction error over the window (the paper's rule).
* ``max_feature``: each residual is divided by its nominal variance at that (step, feature),
  estimated on the training windows; the score is the largest per-feature mean over the window.
  Anomalies touch 1-3 of the features, so averaging over all features would dilute them, and the
  per-cell variance removes the larger error the masked model has at the window edges.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch
from torch import nn

from ..data.windows import iter_batches
from ..training.loop import TrainConfig, TrainResult, train_autoencoder
from .base import BaseDetector, DetectorState, Progress
from .networks import DenseAutoencoder, MaskedLSTMAutoencoder, RepeatVectorLSTMAutoencoder

log = logging.getLogger(__name__)

SCORING_RULES = ("mse", "max_feature")
#: windows per inference batch: small enough to stay in cache, large enough to amortise overhead
SCORE_BATCH = 1024
#: share of the training windows held out (the latest ones) for early stopping when no validation set
HOLDOUT = 0.1


class NeuralDetector(BaseDetector):
    """Shared fit/score/persistence for torch autoencoders; subclasses only build the network."""

    scoring_default = "mse"

    def __init__(self, *, hidden_size: int = 32, epochs: int = 100, batch_size: int = 64,
                 learning_rate: float = 1e-3, smoothness: float = 0.0, patience: int | None = 10,
                 scoring: str | None = None, random_state: int | None = 0,
                 checkpoint_dir: str | None = None, tensorboard_dir: str | None = None) -> None:
        self.hidden_size = hidden_size
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.smoothness = smoothness
        self.patience = patience
        self.scoring = scoring
        self.random_state = random_state
        self.checkpoint_dir = checkpoint_dir
        self.tensorboard_dir = tensorboard_dir

    def _build(self, window_length: int, n_features: int) -> nn.Module:
        raise NotImplementedError

    @property
    def scoring_rule(self) -> str:
        rule = self.scoring or self.scoring_default
        if rule not in SCORING_RULES:
            raise ValueError(f"scoring must be one of {SCORING_RULES}, got {rule!r}")
        return rule

    def _fit(self, Z: np.ndarray, Z_val: np.ndarray | None, progress: Progress | None) -> None:
        _ = self.scoring_rule  # fail before training on a bad rule
        if Z_val is None:
            n_hold = max(1, int(round(HOLDOUT * len(Z)))) if len(Z) > 1 else 0
            Z, Z_val = (Z[:-n_hold], Z[-n_hold:]) if n_hold else (Z, Z)
        cfg = TrainConfig(epochs=int(self.epochs), batch_size=int(self.batch_size),
                          learning_rate=float(self.learning_rate), smoothness=float(self.smoothness),
                          patience=self.patience, checkpoint_dir=self.checkpoint_dir,
                          tensorboard_dir=self.tensorboard_dir)
        # Seed a private RNG stream: no process-wide seeding leaks out of fit().
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0 if self.random_state is None else int(self.random_state))
            self.network_ = self._build(Z.shape[1], Z.shape[2])
            gen = torch.Generator().manual_seed(0 if self.random_state is None else int(self.random_state))
            self.training_: TrainResult = train_autoencoder(
                self.network_, torch.from_numpy(np.ascontiguousarray(Z)),
                torch.from_numpy(np.ascontiguousarray(Z_val)), cfg, generator=gen, progress=progress)
        resid = self._residuals(Z)
        self.residual_var_ = np.maximum((resid.astype(np.float64) ** 2).mean(axis=0), 1e-6).astype(np.float32)

    def _residuals(self, Z: np.ndarray) -> np.ndarray:
        out = np.empty_like(Z, dtype=np.float32)
        self.network_.eval()
        with torch.inference_mode():
            for sl in iter_batches(len(Z), SCORE_BATCH):
                xb = torch.from_numpy(np.ascontiguousarray(Z[sl], dtype=np.float32))
                out[sl] = (self.network_(xb) - xb).numpy()
        return out

    def _score(self, Z: np.ndarray) -> np.ndarray:
        scores = np.empty(len(Z), dtype=np.float64)
        rule = self.scoring_rule
        inv_var = (1.0 / self.residual_var_).astype(np.float32)
        self.network_.eval()
        with torch.inference_mode():
            inv = torch.from_numpy(inv_var)
            for sl in iter_batches(len(Z), SCORE_BATCH):
                xb = torch.from_numpy(np.ascontiguousarray(Z[sl], dtype=np.float32))
                sq = (self.network_(xb) - xb).square_()
                if rule == "mse":
                    s = sq.mean(dim=(1, 2))
                else:
                    s = (sq * inv).mean(dim=1).amax(dim=1)
                scores[sl] = s.numpy()
        return scores

    def reconstruction_share(self, X: np.ndarray) -> float:
        """Share of the nominal variance the model reconstructs, ``1 - MSE / Var`` (standardised)."""
        Z = self.scaler_.transform(self.scaler_.check(X))
        resid = self._residuals(Z)
        return float(1.0 - np.mean(resid.astype(np.float64) ** 2) / np.var(Z.astype(np.float64)))

    # -- persistence -----------------------------------------------------------------------------------

    def _get_state(self) -> DetectorState:
        arrays = {f"net.{k}": v.detach().cpu().numpy() for k, v in self.network_.state_dict().items()}
        arrays["residual_var"] = self.residual_var_
        t = self.training_
        config: dict[str, Any] = {
            "window_length": int(self.scaler_.window_length_), "n_features": int(self.scaler_.n_features_in_),
            "training": {"epochs_run": t.epochs_run, "best_epoch": t.best_epoch,
                         "best_val_loss": t.best_val_loss, "train_loss": t.train_loss,
                         "val_loss": t.val_loss, "seconds": t.seconds, "stopped_early": t.stopped_early},
        }
        return DetectorState(config=config, arrays=arrays)

    def _set_state(self, state: DetectorState) -> None:
        net = self._build(int(state.config["window_length"]), int(state.config["n_features"]))
        weights = {k[4:]: torch.from_numpy(np.array(v)) for k, v in state.arrays.items() if k.startswith("net.")}
        net.load_state_dict(weights, strict=True)
        self.network_ = net.eval()
        self.residual_var_ = np.asarray(state.arrays["residual_var"], dtype=np.float32)
        self.training_ = TrainResult(**state.config["training"])


class LSTMAutoencoderDetector(NeuralDetector):
    """The platform's LSTM-AE: masked bidirectional reconstruction, per-feature standardised residuals."""

    name = "lstm_ae"
    scoring_default = "max_feature"

    def __init__(self, *, hidden_size: int = 32, epochs: int = 120, batch_size: int = 64,
                 learning_rate: float = 3e-3, smoothness: float = 0.05, patience: int | None = 15,
                 scoring: str | None = None, random_state: int | None = 0,
                 checkpoint_dir: str | None = None, tensorboard_dir: str | None = None) -> None:
        super().__init__(hidden_size=hidden_size, epochs=epochs, batch_size=batch_size,
                         learning_rate=learning_rate, smoothness=smoothness, patience=patience,
                         scoring=scoring, random_state=random_state, checkpoint_dir=checkpoint_dir,
                         tensorboard_dir=tensorboard_dir)

    def _build(self, window_length: int, n_features: int) -> nn.Module:
        return MaskedLSTMAutoencoder(n_features, int(self.hidden_size))


class PaperLSTMAutoencoderDetector(NeuralDetector):
    """The paper's LSTM-AE as configured there (repeat vector, hidden 32, latent 32, MSE + smoothness)."""

    name = "lstm_ae_paper"

    def __init__(self, *, hidden_size: int = 32, latent_size: int = 32, epochs: int = 100,
                 batch_size: int = 64, learning_rate: float = 1e-3, smoothness: float = 0.1,
                 patience: int | None = 10, scoring: str | None = None, random_state: int | None = 0,
                 checkpoint_dir: str | None = None, tensorboard_dir: str | None = None) -> None:
        super().__init__(hidden_size=hidden_size, epochs=epochs, batch_size=batch_size,
                         learning_rate=learning_rate, smoothness=smoothness, patience=patience,
                         scoring=scoring, random_state=random_state, checkpoint_dir=checkpoint_dir,
                         tensorboard_dir=tensorboard_dir)
        self.latent_size = latent_size

    def _build(self, window_length: int, n_features: int) -> nn.Module:
        return RepeatVectorLSTMAutoencoder(n_features, int(self.hidden_size), int(self.latent_size))


class DenseAutoencoderDetector(NeuralDetector):
    """The paper's standard AE: T*F -> 64 -> T*F, MSE score."""

    name = "dense_ae"

    def __init__(self, *, hidden_size: int = 64, epochs: int = 200, batch_size: int = 64,
                 learning_rate: float = 1e-3, smoothness: float = 0.0, patience: int | None = 15,
                 scoring: str | None = None, random_state: int | None = 0,
                 checkpoint_dir: str | None = None, tensorboard_dir: str | None = None) -> None:
        super().__init__(hidden_size=hidden_size, epochs=epochs, batch_size=batch_size,
                         learning_rate=learning_rate, smoothness=smoothness, patience=patience,
                         scoring=scoring, random_state=random_state, checkpoint_dir=checkpoint_dir,
                         tensorboard_dir=tensorboard_dir)

    def _build(self, window_length: int, n_features: int) -> nn.Module:
        return DenseAutoencoder(n_features, window_length, int(self.hidden_size))
