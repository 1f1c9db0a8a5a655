"""Reading and writing the data contracts (DESIGN.md section 3) with errors that name the problem."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InvalidInput
from .generator import WindowedDataset
from .validation import check_labels, check_windows
from .windows import sliding_windows, window_labels

TABLE_SUFFIXES = (".parquet", ".pq", ".csv")
RESERVED_COLUMNS = ("timestamp", "label", "kind")


def write_atomically(path: str | os.PathLike[str], write: Callable[[Path], None]) -> None:
    """Write ``path`` through a temporary sibling so a failure never leaves a partial file behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def existing_file(path: str | os.PathLike[str]) -> Path:
    """``path`` as a Path, or :class:`InvalidInput` when it is missing, not a file, or empty."""
    p = Path(path)
    if not p.is_file():
        raise InvalidInput(f"{p}: no such file")
    if p.stat().st_size == 0:
        raise InvalidInput(f"{p}: the file is empty")
    return p


def read_event_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A Parquet or CSV event table, sorted by ``timestamp`` when it has one."""
    p = existing_file(path)
    try:
        frame = pd.read_csv(p) if p.suffix == ".csv" else pd.read_parquet(p)
    except (ValueError, OSError, pd.errors.ParserError) as err:
        raise InvalidInput(f"{p}: cannot read the event table ({err})") from err
    if frame.empty:
        raise InvalidInput(f"{p}: the event table has no rows")
    if "timestamp" in frame.columns:
        frame = frame.sort_values("timestamp", kind="stable").reset_index(drop=True)
    return frame


def feature_columns(frame: pd.DataFrame) -> list[str]:
    cols = [c for c in frame.columns if c not in RESERVED_COLUMNS]
    bad = [c for c in cols if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise InvalidInput(f"feature columns must be numeric; not numeric: {bad}")
    if not cols:
        raise InvalidInput("the event table has no feature columns")
    return cols


def windows_from_table(frame: pd.DataFrame, window_length: int, stride: int = 1) -> WindowedDataset:
    """Lazy windows over an event table (a strided view over one float32 copy of the values)."""
    cols = feature_columns(frame)
    values = np.ascontiguousarray(frame[cols].to_numpy(dtype=np.float32))
    if not np.isfinite(values).all():
        raise InvalidInput(f"event table: {int((~np.isfinite(values)).sum())} non-finite value(s) (NaN or inf)")
    X = sliding_windows(values, window_length, stride)
    y = window_labels(frame["label"].to_numpy(), window_length, stride) if "label" in frame else None
    return WindowedDataset(X, None if y is None else y.astype(np.int8), None, [str(c) for c in cols])


def load_dataset(path: str | os.PathLike[str], *, window_length: int | None = None,
                 stride: int = 1) -> WindowedDataset:
    """Load a windowed ``.npz`` or window an event table (``window_length`` required for tables)."""
    p = existing_file(path)
    if p.suffix in TABLE_SUFFIXES:
        if window_length is None:
            raise InvalidInput(f"{p}: an event table needs a window length (--seq-len)")
        return windows_from_table(read_event_table(p), window_length, stride)
    with open(p, "rb") as fh:
        magic = fh.read(4)
    if magic != b"PK\x03\x04":  # np.load would otherwise try to unpickle arbitrary bytes
        raise InvalidInput(f"{p}: not a readable .npz file (not a zip archive)")
    try:
        with np.load(p, allow_pickle=False) as npz:
            if not isinstance(npz, np.lib.npyio.NpzFile):
                raise InvalidInput(f"{p}: expected an .npz archive with an 'X' array, got a bare array")
            if "X" not in npz.files:
                raise InvalidInput(f"{p}: no 'X' array in the archive (found: {', '.join(npz.files) or 'none'})")
            X = npz["X"]
            y = npz["y"] if "y" in npz.files else None
            kind = npz["kind"] if "kind" in npz.files else None
            names = [str(n) for n in npz["feature_names"]] if "feature_names" in npz.files else None
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise InvalidInput(f"{p}: not a readable .npz file ({err})") from err
    except ValueError as err:  # object arrays need pickle: refused
        raise InvalidInput(f"{p}: cannot read without pickle ({err})") from err
    X = check_windows(X, what=str(p))
    if y is not None:
        y = check_labels(y, len(X), what=f"{p}: y")
    return WindowedDataset(X, y, kind, names)


def save_dataset(ds: WindowedDataset, path: str | os.PathLike[str]) -> None:
    """Write the ``.npz`` contract through a temporary file (no partial output on failure)."""
    arrays: dict[str, np.ndarray] = {"X": np.asarray(ds.X, dtype=np.float32)}
    if ds.y is not None:
        arrays["y"] = np.asarray(ds.y, dtype=np.int8)
    if ds.kind is not None:
        arrays["kind"] = np.asarray(ds.kind, dtype=str)
    if ds.feature_names is not None:
        arrays["feature_names"] = np.asarray(ds.feature_names, dtype=str)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)

    write_atomically(path, write)
