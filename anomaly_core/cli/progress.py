"""A progress line on stderr, only when stderr is a terminal (logs and --json stay clean)."""

from __future__ import annotations

import sys


class EpochBar:
    """``bar(epoch, train_loss, val_loss)`` redraws one line; ``close()`` ends it (early stops included)."""

    def __init__(self, total: int, label: str = "training") -> None:
        self.total, self.label, self.drawn = max(int(total), 1), label, False

    def __call__(self, epoch: int, train_loss: float, val_loss: float) -> None:
        done = int(30 * min(epoch, self.total) / self.total)
        sys.stderr.write(f"\r{self.label} [{'#' * done}{'.' * (30 - done)}] epoch {epoch}/{self.total} "
                         f"loss {train_loss:.4f} val {val_loss:.4f}")
        sys.stderr.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")
            self.drawn = False


def epoch_bar(total: int | None, label: str = "training") -> EpochBar | None:
    """An :class:`EpochBar` on a terminal with a known epoch count, else ``None``."""
    return EpochBar(total, label) if total and sys.stderr.isatty() else None
