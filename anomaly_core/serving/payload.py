"""Turn a ``/v1/score`` body into a float32 ``(N, T, F)`` array, or a 4xx naming the problem.

Two JSON paths, both ending in the same whole-array checks:

* fast: pyarrow's JSON reader with an explicit ``list<list<list<double>>>`` schema (strict JSON,
  C++, releases the GIL): 10 ms for 256 x 30 x 10 numbers where ``json.loads`` + ``np.asarray``
  take 27 ms, and pydantic's per-element validation far more. It accepts only a clean case (one
  object, the one key, numbers, no nulls, rectangular, finite) and otherwise steps aside;
* careful: ``json.loads`` + ``np.asarray``, and :func:`_diagnose` walking the lists to name the
  first bad element. It decides every body the fast path did not take, so messages come from one
  place. Messages never echo the input beyond a few characters.
"""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np

JSON_TYPES = ("application/json",)
NPY_TYPES = ("application/x-npy", "application/octet-stream")
_F32_MAX = float(np.finfo(np.float32).max)
#: below this, json.loads is as fast as setting up pyarrow's reader (a window of 30 x 10 is ~6 kB)
_FAST_MIN_BYTES = 32 * 1024


class PayloadError(Exception):
    """A request the server refuses: ``status`` (413/415/422) and a sentence."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _bad(detail: str) -> PayloadError:
    return PayloadError(422, detail)


def _short(value: Any, limit: int = 24) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({'true' if value else 'false'})"
    if isinstance(value, str):
        return f"a string ({_short(value)})"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _reject_constant(name: str) -> float:
    # json.loads accepts NaN/Infinity by default; they are not JSON and not scoreable.
    raise PayloadError(422, f"{name} is not a finite number; windows must hold finite numbers only")


def media_type(content_type: str | None) -> str:
    """``json`` or ``npy`` for a Content-Type header; 415 for anything else."""
    base = (content_type or "application/json").split(";", 1)[0].strip().lower()
    if base in JSON_TYPES or base.endswith("+json") or base == "":
        return "json"
    if base in NPY_TYPES:
        return "npy"
    raise PayloadError(415, f"unsupported content type {_short(base, 60)}; send application/json "
                            "({'windows': [...]}) or application/x-npy (a .npy array of shape N x T x F)")


def decode_windows(body: bytes, content_type: str | None, *, window_length: int, n_features: int,
                   max_windows: int) -> np.ndarray:
    """The windows of a score request as C-contiguous float32 ``(N, T, F)``; ``PayloadError`` otherwise."""
    if media_type(content_type) == "npy":
        arr = _from_npy(body)
    else:
        arr = _from_json(body, window_length, n_features, max_windows)
    return _check_array(arr, window_length, n_features, max_windows)


_ARROW: Any = None


def _arrow() -> Any:
    """(pyarrow, pyarrow.json, parse options), built once on first use (pyarrow is a dependency)."""
    global _ARROW
    if _ARROW is None:
        import pyarrow as pa
        import pyarrow.json as pj

        schema = pa.schema([("windows", pa.list_(pa.list_(pa.list_(pa.float64()))))])
        options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error",
                                  newlines_in_values=True)
        _ARROW = (pa, pj, options)
    return _ARROW


def _from_json_fast(body: bytes) -> np.ndarray | None:
    """The windows when the body is clean, else ``None`` (the careful path then decides and explains)."""
    pa, pj, options = _arrow()
    read = pj.ReadOptions(use_threads=False, block_size=max(len(body) + 1, 1 << 16))  # one block: one object
    try:
        table = pj.read_json(io.BytesIO(body), read_options=read, parse_options=options)
    except pa.ArrowException:
        return None
    if table.num_rows != 1:
        return None
    windows = table.column("windows").combine_chunks()
    steps = windows.flatten()
    features = steps.flatten()
    values = features.flatten()
    if windows.null_count or steps.null_count or features.null_count or values.null_count or not len(steps):
        return None
    n_steps = np.diff(np.asarray(steps.offsets))
    n_features = np.diff(np.asarray(features.offsets))
    if not len(n_steps) or not len(n_features) or n_steps.min() != n_steps.max() \
            or n_features.min() != n_features.max():
        return None  # ragged (or an empty window)
    arr = values.to_numpy(zero_copy_only=False)
    if not np.isfinite(arr).all():  # NaN/Infinity literals: the careful path names them
        return None
    return arr.reshape(len(steps), int(n_steps[0]), int(n_features[0]))


def _from_json(body: bytes, T: int, F: int, max_windows: int) -> np.ndarray:
    fast = _from_json_fast(body) if len(body) > _FAST_MIN_BYTES else None
    if fast is not None:
        if len(fast) > max_windows:
            raise PayloadError(413, f"{len(fast)} windows in one request; the limit is {max_windows} "
                                    "(ANOMALY_MAX_WINDOWS): split the batch")
        return fast
    if not body.strip():
        raise _bad("empty body; send {\"windows\": [[[x, ...], ...], ...]} (N x T x F numbers)")
    try:
        doc = json.loads(body, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        raise _bad(f"body is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}") from None
    except UnicodeDecodeError:
        raise _bad("body is not valid JSON: it is not UTF-8 text") from None
    except RecursionError:
        raise _bad("body is not valid JSON we accept: nested too deeply (windows are N x T x F)") from None
    if not isinstance(doc, dict):
        raise _bad(f"body must be a JSON object {{\"windows\": [...]}}, got {_kind(doc)}")
    if "windows" not in doc:
        keys = ", ".join(_short(k) for k in list(doc)[:5])
        raise _bad(f"body has no 'windows' key (keys: {keys or 'none'}); send {{\"windows\": N x T x F numbers}}")
    extra = [k for k in doc if k != "windows"]
    if extra:
        raise _bad(f"unknown key(s) {', '.join(_short(k) for k in extra[:5])}; the body holds only 'windows'")
    windows = doc["windows"]
    if not isinstance(windows, list):
        raise _bad(f"'windows' must be a list of windows (N x T x F numbers), got {_kind(windows)}")
    if not windows:
        raise _bad("'windows' is empty; send at least one window")
    if len(windows) > max_windows:
        raise PayloadError(413, f"{len(windows)} windows in one request; the limit is {max_windows} "
                                "(ANOMALY_MAX_WINDOWS): split the batch")
    try:
        arr = np.asarray(windows)
    except (ValueError, TypeError, OverflowError):  # ragged lists, or huge integers
        arr = None
    # A boolean beside numbers silently becomes 0/1 in numpy; the literal in the body gives it away
    # (strings cannot hide one: they would have made the dtype non-numeric).
    if arr is None or arr.dtype.kind not in "fi" or b"true" in body or b"false" in body:
        _diagnose(windows, T, F)
        try:  # every element is a number: ints too large for int64, or mixed int/float
            arr = np.array(windows, dtype=np.float64)
        except OverflowError:
            raise _bad("a number is too large to be a float (beyond 1.8e308)") from None
    return arr


def _diagnose(windows: list[Any], T: int, F: int) -> None:
    """Walk the lists and raise for the first element that is not part of an N x T x F array of numbers."""
    for i, window in enumerate(windows):
        if not isinstance(window, list):
            raise _bad(f"windows[{i}] is {_kind(window)}, expected a window (a list of {T} time steps); "
                       "windows must be N x T x F (rank 3)")
        if len(window) != T:
            raise _bad(f"windows[{i}] has {len(window)} time steps; the model expects {T}")
        for t, step in enumerate(window):
            if not isinstance(step, list):
                raise _bad(f"windows[{i}][{t}] is {_kind(step)}, expected a list of {F} feature values; "
                           "windows must be N x T x F (rank 3)")
            if len(step) != F:
                raise _bad(f"windows[{i}][{t}] has {len(step)} features; the model expects {F}")
            for f, value in enumerate(step):
                if isinstance(value, bool) or not isinstance(value, int | float):
                    extra = " (rank above 3)" if isinstance(value, list) else ""
                    raise _bad(f"windows[{i}][{t}][{f}] is {_kind(value)}{extra}; expected a finite number")


def _from_npy(body: bytes) -> np.ndarray:
    """Parse the .npy header ourselves, check that the data is exactly what it declares, then view it.

    ``np.load`` would allocate the declared shape before reading (a 100-byte body could ask for
    terabytes), and it also opens .npz archives; this reads nothing but one plain array, never pickle.
    """
    fmt = np.lib.format
    if not body.startswith(fmt.MAGIC_PREFIX):
        raise _bad("body is not a .npy array (no .npy magic); send numpy.save output or use application/json")
    fp = io.BytesIO(body)
    try:
        major, _ = fmt.read_magic(fp)
        read_header = fmt.read_array_header_1_0 if major == 1 else fmt.read_array_header_2_0
        shape, fortran, dtype = read_header(fp)
    except Exception as err:  # hostile headers can fail in many ways (ValueError, SyntaxError, ...): all 422
        raise _bad(f"body is not a valid .npy array: {_short(str(err), 120)}") from None
    if dtype.hasobject or dtype.kind not in "fiu" or dtype.fields is not None:
        raise _bad(f".npy array has dtype {str(dtype)[:40]}; expected floats (or integers)")
    if len(shape) != 3:
        raise _bad(f"windows must be N x T x F (rank 3: windows, time steps, features); got rank {len(shape)} "
                   f"with shape {_short(tuple(shape), 60)}")
    count = int(np.prod(shape, dtype=np.int64)) if all(int(d) >= 0 for d in shape) else -1
    offset = fp.tell()
    if count < 0 or count * dtype.itemsize != len(body) - offset:
        raise _bad(f".npy header declares shape {_short(tuple(shape), 60)} of {dtype}, but the body holds "
                   f"{len(body) - offset} data bytes")
    arr = np.frombuffer(body, dtype=dtype, count=count, offset=offset)
    return arr.reshape(shape, order="F" if fortran else "C")


def _check_array(arr: np.ndarray, T: int, F: int, max_windows: int) -> np.ndarray:
    if arr.ndim != 3:
        raise _bad(f"windows must be N x T x F (rank 3: windows, time steps, features); got rank {arr.ndim} "
                   f"with shape {_short(arr.shape, 60)}")
    n, t, f = arr.shape
    if n == 0:
        raise _bad("'windows' is empty; send at least one window")
    if n > max_windows:
        raise PayloadError(413, f"{n} windows in one request; the limit is {max_windows} (ANOMALY_MAX_WINDOWS): "
                                "split the batch")
    if t != T:
        raise _bad(f"windows have {t} time steps; the model expects {T}")
    if f != F:
        raise _bad(f"windows have {f} features; the model expects {F}")
    if arr.dtype.kind == "f":
        finite = np.isfinite(arr)
        if not finite.all():
            i, s, k = (int(v) for v in np.argwhere(~finite)[0])
            raise _bad(f"{int((~finite).sum())} value(s) are NaN or infinite, first at windows[{i}][{s}][{k}]; "
                       "windows must hold finite numbers only")
    big = np.abs(arr) > _F32_MAX
    if big.any():  # the models compute in float32: such a value would become inf
        i, s, k = (int(v) for v in np.argwhere(big)[0])
        raise _bad(f"value at windows[{i}][{s}][{k}] is beyond the float32 range (|x| > 3.4e38) the model "
                   "computes in")
    return np.ascontiguousarray(arr, dtype=np.float32)
