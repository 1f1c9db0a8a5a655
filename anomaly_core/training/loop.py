"""The training loop shared by the neural detectors: composite loss, Adam, early stopping on
validation loss, best-checkpoint restore, optional on-disk checkpoints and TensorBoard scalars."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

log = logging.getLogger(__name__)


def composite_loss(recon: torch.Tensor, target: torch.Tensor, smoothness: float) -> torch.Tensor:
    """The paper's ``MSE(y, x) + lambda * mean((y_t - y_{t-1})^2)``."""
    loss = torch.mean((recon - target) ** 2)
    if smoothness > 0 and recon.shape[1] > 1:
        loss = loss + smoothness * torch.mean((recon[:, 1:] - recon[:, :-1]) ** 2)
    return loss


@dataclass
class TrainConfig:
    epochs: int = 100
    batch_size: int = 64
    learning_rate: float = 1e-3
    smoothness: float = 0.0
    patience: int | None = 10  # None disables early stopping
    min_delta: float = 1e-5
    checkpoint_dir: str | None = None
    tensorboard_dir: str | None = None


@dataclass
class TrainResult:
    epochs_run: int
    best_epoch: int
    best_val_loss: float
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    seconds: float = 0.0
    stopped_early: bool = False


def _eval_loss(model: nn.Module, X: torch.Tensor, cfg: TrainConfig) -> float:
    model.eval()
    total = 0.0
    with torch.inference_mode():
        for i in range(0, len(X), 1024):
            xb = X[i : i + 1024]
            total += composite_loss(model(xb), xb, cfg.smoothness).item() * len(xb)
    return total / len(X)


def train_autoencoder(model: nn.Module, X: torch.Tensor, X_val: torch.Tensor, cfg: TrainConfig, *,
                      generator: torch.Generator,
                      progress: Callable[[int, float, float], None] | None = None) -> TrainResult:
    """Fit ``model`` to reconstruct ``X``; stop when ``X_val`` loss stops improving; keep the best."""
    opt = torch.optim.Adam(model.parameters(), lr=cfg.learning_rate)
    writer = None
    if cfg.tensorboard_dir:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(cfg.tensorboard_dir)
    ckpt = Path(cfg.checkpoint_dir) / "best.safetensors" if cfg.checkpoint_dir else None
    result = TrainResult(0, 0, math.inf)
    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    bad = 0
    t0 = time.perf_counter()
    try:
        for epoch in range(1, cfg.epochs + 1):
            model.train()
            perm = torch.randperm(len(X), generator=generator)
            total = 0.0
            for i in range(0, len(X), cfg.batch_size):
                xb = X[perm[i : i + cfg.batch_size]]
                loss = composite_loss(model(xb), xb, cfg.smoothness)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += loss.item() * len(xb)
            train_loss, val_loss = total / len(X), _eval_loss(model, X_val, cfg)
            result.train_loss.append(train_loss)
            result.val_loss.append(val_loss)
            result.epochs_run = epoch
            if writer is not None:
                writer.add_scalar("loss/train", train_loss, epoch)
                writer.add_scalar("loss/val", val_loss, epoch)
            if progress is not None:
                progress(epoch, train_loss, val_loss)
            if val_loss < result.best_val_loss - cfg.min_delta:
                result.best_val_loss, result.best_epoch, bad = val_loss, epoch, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                if ckpt is not None:
                    from safetensors.torch import save_file

                    ckpt.parent.mkdir(parents=True, exist_ok=True)
                    save_file(best_state, str(ckpt))
            else:
                bad += 1
                if cfg.patience is not None and bad >= cfg.patience:
                    result.stopped_early = True
                    break
    finally:
        if writer is not None:
            writer.close()
    if cfg.patience is None:  # no early stopping: keep the last weights, as the ablation demands
        result.best_epoch, result.best_val_loss = result.epochs_run, result.val_loss[-1]
    else:
        model.load_state_dict(best_state)
    model.eval()
    result.seconds = time.perf_counter() - t0
    log.debug("trained %d epochs (best %d, val %.5f) in %.1fs", result.epochs_run, result.best_epoch,
              result.best_val_loss, result.seconds)
    return result
