"""Pure torch modules: ``forward`` only, no numpy, no I/O (the detectors own data handling)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class MaskedLSTMAutoencoder(nn.Module):
    """Bidirectional LSTM that reconstructs every step from its context, never from itself.

    The forward state after step ``t-1`` and the backward state after step ``t+1`` are concatenated
    and decoded into ``x_t``. Each step has its own latent (2 x hidden), but since step ``t`` never
    reaches its own latent the network cannot learn the identity: it has to model how the signal
    evolves (frequency, phase, level) to predict the held-out step. This is what the paper's
    repeat-vector bottleneck fails to do on sine telemetry, where it reconstructs little more than the
    window mean (see docs/benchmark.md).
    """

    def __init__(self, n_features: int, hidden_size: int = 32) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.rnn = nn.LSTM(n_features, hidden_size, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden_size, n_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)  # (B, T, 2H): forward half has seen x[:t+1], backward half x[t:]
        h = self.hidden_size
        # head([fwd[t-1], bwd[t+1]]) split into its two halves: shifting the F-wide projections is
        # cheaper than concatenating shifted 2H-wide states (same parameters, same result).
        from_past = F.linear(out[..., :h], self.head.weight[:, :h])
        from_future = F.linear(out[..., h:], self.head.weight[:, h:])
        return (self.head.bias + F.pad(from_past[:, :-1], (0, 0, 1, 0))
                + F.pad(from_future[:, 1:], (0, 0, 0, 1)))


class RepeatVectorLSTMAutoencoder(nn.Module):
    """The paper's configuration: LSTM encoder, last hidden state repeated T times, LSTM decoder."""

    def __init__(self, n_features: int, hidden_size: int = 32, latent_size: int = 32) -> None:
        super().__init__()
        self.encoder = nn.LSTM(n_features, hidden_size, batch_first=True)
        self.to_latent = nn.Linear(hidden_size, latent_size)
        self.decoder = nn.LSTM(latent_size, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, n_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h, _) = self.encoder(x)
        latent = self.to_latent(h[-1])
        out, _ = self.decoder(latent.unsqueeze(1).expand(-1, x.shape[1], -1).contiguous())
        return self.head(out)


class DenseAutoencoder(nn.Module):
    """The paper's standard AE: flattened window (T*F) -> hidden 64 -> T*F."""

    def __init__(self, n_features: int, window_length: int, hidden_size: int = 64) -> None:
        super().__init__()
        d = n_features * window_length
        self.net = nn.Sequential(nn.Linear(d, hidden_size), nn.ReLU(), nn.Linear(hidden_size, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1)).view_as(x)
