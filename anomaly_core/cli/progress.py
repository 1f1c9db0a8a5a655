"""A progress line on stderr, only when stderr is a terminal (logs and --json stay clean)."""

from __future__ import annotations

import sys
from collections.abc import Callable


def epoch_progress(total: int, label: str = "training") -> Callable[[int, float, float], None] | None:
    if not sys.stderr.isatty():
        return None

    def report(epoch: int, train_loss: float, val_loss: float) -> None:
        width = 30
        done = int(width * epoch / max(total, 1))
        sys.stderr.write(f"\r{label} [{'#' * done}{'.' * (width - done)}] {epoch}/{total} "
                         f"loss {train_loss:.4f} val {val_loss:.4f}")
        if epoch >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return report
