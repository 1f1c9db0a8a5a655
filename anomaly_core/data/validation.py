"""Input checks shared by every entry point; each error names the problem and the expected value."""

from __future__ import annotations

import numpy as np

from ..errors import InvalidInput


def check_windows(X: object, *, what: str = "windows", window_length: int | None = None,
                  n_features: int | None = None, finite: bool = True) -> np.ndarray:
    """Return ``X`` as a float32 array of shape ``(N, T, F)`` or raise :class:`InvalidInput`.

    ``finite=False`` skips the NaN/inf scan (and keeps a lazy view lazy) for callers that check
    each batch themselves with :func:`check_finite`.
    """
    try:
        arr = np.asarray(X)
    except (TypeError, ValueError) as err:  # ragged nested lists
        raise InvalidInput(f"{what}: not a rectangular numeric array ({err})") from err
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise InvalidInput(f"{what}: expected numbers, got dtype {arr.dtype}")
    if arr.ndim != 3:
        raise InvalidInput(f"{what}: expected a rank-3 array (windows, time steps, features), "
                           f"got rank {arr.ndim} with shape {arr.shape}")
    if arr.shape[0] == 0:
        raise InvalidInput(f"{what}: no windows (shape {arr.shape})")
    if arr.shape[1] == 0 or arr.shape[2] == 0:
        raise InvalidInput(f"{what}: empty window dimension (shape {arr.shape})")
    if window_length is not None and arr.shape[1] != window_length:
        from ..errors import SchemaMismatch

        raise SchemaMismatch(f"{what}: window length {arr.shape[1]}, the model expects {window_length}")
    if n_features is not None and arr.shape[2] != n_features:
        from ..errors import SchemaMismatch

        raise SchemaMismatch(f"{what}: {arr.shape[2]} features, the model expects {n_features}")
    if finite:  # otherwise the caller converts and checks batch by batch (no full copy of a view)
        arr = arr.astype(np.float32, copy=False)
        check_finite(arr, what=what)
    return arr


def check_finite(arr: np.ndarray, *, what: str = "windows", offset: int = 0) -> None:
    """Raise :class:`InvalidInput` naming the first NaN/inf (window index counted from ``offset``)."""
    ok = np.isfinite(arr)
    if not ok.all():
        bad = np.argwhere(~ok)[0]
        raise InvalidInput(f"{what}: {int((~ok).sum())} non-finite value(s) (NaN or inf), first at window "
                           f"{offset + int(bad[0])}, step {bad[1]}, feature {bad[2]}")


def check_labels(y: object, n: int, *, what: str = "labels") -> np.ndarray:
    """Return labels as int8 0/1 of length ``n`` or raise :class:`InvalidInput`."""
    arr = np.asarray(y)
    if arr.shape != (n,):
        raise InvalidInput(f"{what}: shape {arr.shape}, expected ({n},)")
    if arr.dtype.kind not in "biuf" or not np.isin(arr, (0, 1)).all():
        raise InvalidInput(f"{what}: expected 0 (nominal) or 1 (anomalous)")
    return arr.astype(np.int8)
