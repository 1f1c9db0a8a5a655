"""Body decoding: every bad input is a 4xx naming the problem; valid input decodes to exactly what it says."""

from __future__ import annotations

import io
import json
import math
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from anomaly_core.serving import payload
from anomaly_core.serving.payload import PayloadError, decode_windows, media_type
from anomaly_core.serving.schemas import ScoreRequest

T, F = 3, 2


def decode(body: bytes | str, content_type: str = "application/json", max_windows: int = 8) -> np.ndarray:
    raw = body.encode() if isinstance(body, str) else body
    return decode_windows(raw, content_type, window_length=T, n_features=F, max_windows=max_windows)


def refused(body: bytes | str, **kwargs: object) -> PayloadError:
    with pytest.raises(PayloadError) as info:
        decode(body, **kwargs)  # type: ignore[arg-type]
    return info.value


def body_of(windows: object) -> str:
    return json.dumps({"windows": windows})


GOOD = [[[0.5, -1.0], [2, 3], [1e-3, 4.5]]]


def test_valid_json_decodes_to_float32() -> None:
    X = decode(body_of(GOOD * 2))
    assert X.shape == (2, T, F) and X.dtype == np.float32 and X.flags.c_contiguous
    np.testing.assert_array_equal(X[0], np.asarray(GOOD[0], dtype=np.float32))


@pytest.mark.parametrize(("body", "status", "words"), [
    (body_of([[0.5, 1.0]] * T), 422, "rank 3"),                        # one window without the outer list
    (body_of([[[0.5, 1.0]] * (T - 1)]), 422, "2 time steps; the model expects 3"),
    (body_of([[[0.5, 1.0, 2.0]] * T]), 422, "3 features; the model expects 2"),
    (body_of([[[0.5, 1.0]] * T, [[0.5, 1.0]] * (T + 1)]), 422, "windows[1] has 4 time steps"),
    (body_of([[[0.5, "1.0"]] * T]), 422, "windows[0][0][1] is a string ('1.0')"),
    (body_of([[[0.5, True]] * T]), 422, "windows[0][0][1] is a boolean (true)"),
    (body_of([[[True, False]] * T]), 422, "is a boolean"),                 # all booleans: numpy would say dtype bool
    (body_of([[[0.5, None]] * T]), 422, "windows[0][0][1] is null"),
    (body_of([[[0.5, {"a": 1}]] * T]), 422, "is an object"),
    (body_of([[[0.5, [1.0]]] * T]), 422, "rank above 3"),
    (body_of([]), 422, "'windows' is empty"),
    (body_of([[[1.0, 1.0]] * T] * 9), 413, "9 windows in one request; the limit is 8"),
    ('{"windows": [[[NaN, 1], [1, 1], [1, 1]]]}', 422, "NaN is not a finite number"),
    ('{"windows": [[[Infinity, 1], [1, 1], [1, 1]]]}', 422, "Infinity is not a finite number"),
    ('{"windows": [[[-Infinity, 1], [1, 1], [1, 1]]]}', 422, "-Infinity is not a finite number"),
    ('{"windows": [[[1e999, 1], [1, 1], [1, 1]]]}', 422, "NaN or infinite, first at windows[0][0][0]"),
    (body_of([[[1e300, 1.0]] * T]), 422, "beyond the float32 range"),
    (body_of([[[10**400, 1.0]] * T]), 422, "too large to be a float"),
    ('{"windows": [[[1, 2], [3', 422, "not valid JSON"),
    ("", 422, "empty body"),
    ("[1, 2]", 422, "must be a JSON object"),
    ('{"data": [[[1, 2]]]}', 422, "no 'windows' key (keys: 'data')"),
    ('{"windows": [[[1, 2]]], "extra": 1}', 422, "unknown key(s) 'extra'"),
    ('{"windows": "abc"}', 422, "'windows' must be a list"),
    ('{"windows": [1, 2, 3]}', 422, "got rank 1"),
    ("[" * 100_000 + "]" * 100_000, 422, "JSON"),
    (b"\xff\xfe{", 422, "not valid JSON"),
])
def test_bad_json_is_refused_with_a_message_naming_the_problem(body: str, status: int, words: str) -> None:
    err = refused(body)
    assert err.status == status
    assert words in err.detail
    assert len(err.detail) < 300  # never the input echoed back


def test_huge_string_is_not_echoed() -> None:
    err = refused(body_of([[["x" * 100_000, 1.0]] * T]))
    assert "is a string" in err.detail and len(err.detail) < 200


def test_unsupported_content_type_is_415() -> None:
    assert refused(body_of(GOOD), content_type="text/csv").status == 415
    assert media_type(None) == "json" and media_type("application/json; charset=utf-8") == "json"
    assert media_type("application/x-npy") == "npy"


def npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    return buf.getvalue()


def test_npy_body_decodes_and_is_checked_like_json() -> None:
    X = np.random.default_rng(0).normal(size=(4, T, F))
    np.testing.assert_array_equal(decode(npy(X), "application/x-npy"), X.astype(np.float32))
    assert "2 time steps" in refused(npy(X[:, :2]), content_type="application/x-npy").detail
    bad = X.copy()
    bad[1, 2, 0] = np.nan
    assert "windows[1][2][0]" in refused(npy(bad), content_type="application/x-npy").detail
    assert "dtype bool" in refused(npy(X > 0), content_type="application/x-npy").detail
    # an object array would need pickle: refused, never unpickled
    assert "dtype object" in refused(npy(np.array([[[1, "a"]]], dtype=object)),
                                     content_type="application/x-npy").detail
    assert "no .npy magic" in refused(b"garbage", content_type="application/x-npy").detail
    # a header that declares more than the body holds: refused before anything is allocated
    huge = npy(X).replace(b"(4, 3, 2)", b"(400000000000, 3, 2)".ljust(9))
    assert "but the body holds" in refused(huge, content_type="application/x-npy").detail
    assert "but the body holds" in refused(npy(X)[:-3], content_type="application/x-npy").detail
    zipped = io.BytesIO()
    np.savez(zipped, X=X)
    assert refused(zipped.getvalue(), content_type="application/x-npy").status == 422


def test_pydantic_schema_states_the_same_strict_contract() -> None:
    ScoreRequest.model_validate_json(body_of(GOOD))
    for bad in (body_of([[[True, 1.0]]]), body_of([[["1.0", 1.0]]]), body_of([]),
                '{"windows": [[[NaN, 1.0]]]}', '{"windows": [[[1.0]]], "x": 1}'):
        with pytest.raises(ValidationError):
            ScoreRequest.model_validate_json(bad)


# -- property-based: the fast path agrees with a plain reading of the JSON -------------------------------

numbers = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False, width=32))
leaves = st.one_of(numbers, st.booleans(), st.none(), st.text(max_size=3), st.floats())
nested = st.recursive(leaves, lambda inner: st.lists(inner, max_size=4), max_leaves=40)


def _reference(windows: object) -> np.ndarray | None:
    """What a slow, obviously correct reader accepts: a rectangular N x T x F list of finite non-bool numbers."""
    if not isinstance(windows, list) or not 1 <= len(windows) <= 8:
        return None
    for w in windows:
        if not isinstance(w, list) or len(w) != T:
            return None
        for step in w:
            if not isinstance(step, list) or len(step) != F:
                return None
            for v in step:
                if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) \
                        or abs(v) > float(np.finfo(np.float32).max):
                    return None
    return np.asarray(windows, dtype=np.float64).astype(np.float32)


def right_shape(leaf: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(st.lists(st.lists(leaf, min_size=F, max_size=F), min_size=T, max_size=T), min_size=1, max_size=3)


@settings(max_examples=300, deadline=None)
@given(st.one_of(nested, right_shape(numbers), right_shape(st.one_of(numbers, numbers, numbers, leaves))))
def test_decoder_accepts_exactly_the_valid_windows(windows: object) -> None:
    body = json.dumps({"windows": windows})
    expected = _reference(windows)
    for fast_from in (0, 10**9):  # the pyarrow fast path for every body, then the json.loads path only
        with mock.patch.object(payload, "_FAST_MIN_BYTES", fast_from):
            try:
                got = decode(body)
            except PayloadError as err:
                assert expected is None, f"valid windows refused: {err.detail}"
                assert 400 <= err.status < 500 and err.detail
                continue
        assert expected is not None, "invalid windows accepted"
        np.testing.assert_array_equal(got, expected)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(alphabet='[]{},:." 0123456789eE+-.truefalsnNIiy', max_size=60).map(
    lambda t: '{"windows": ' + t + "}"), st.binary(max_size=80)))
def test_both_paths_agree_on_arbitrary_text(body: str | bytes) -> None:
    raw = body.encode() if isinstance(body, str) else body
    outcomes = []
    for fast_from in (0, 10**9):
        with mock.patch.object(payload, "_FAST_MIN_BYTES", fast_from):
            try:
                outcomes.append(decode(raw).tolist())
            except PayloadError as err:
                assert 400 <= err.status < 500
                outcomes.append(err.status)
    assert outcomes[0] == outcomes[1]
