"""Property-based fuzzing of the request bodies: never a 5xx, always JSON with a short detail, valid input scores."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from serving_helpers import NAME, TestClient, Trained, auth, make_settings, running_client

from anomaly_core.registry import open_registry

T, F = 30, 10
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def fuzz_client(trained: Trained, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("fuzz") / "store"
    shutil.copytree(trained.root, root)
    open_registry(str(root)).promote(NAME, trained.versions[0], "production", reason="fuzz")
    with running_client(make_settings(root, max_windows=16, max_body_bytes=256_000, score_log=False)) as client:
        yield client


def check_answer(r, n_windows: int | None = None) -> None:
    assert r.status_code < 500, r.text[:300]
    body = r.json()  # always JSON
    if r.status_code == 200:
        assert all(math.isfinite(s) for s in body["scores"])
        assert len(body["scores"]) == len(body["is_anomaly"])
        if n_windows is not None:
            assert len(body["scores"]) == n_windows
    else:
        assert 400 <= r.status_code < 500
        assert isinstance(body["detail"], str) and body["detail"]
        assert len(r.content) < 1200  # a message, never the input echoed back


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8))
json_value = st.recursive(json_leaf, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                             st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                          max_leaves=60)


@FUZZ
@given(doc=st.one_of(json_value, st.fixed_dictionaries({"windows": json_value})))
def test_any_json_document(fuzz_client: TestClient, doc: object) -> None:
    raw = json.dumps(doc).encode()  # may contain NaN / Infinity literals, as real clients send
    check_answer(fuzz_client.post("/v1/score", content=raw, headers={"content-type": "application/json"}))


@FUZZ
@given(raw=st.binary(max_size=2000), content_type=st.sampled_from(
    ["application/json", "application/x-npy", "text/plain", "", "application/json; charset=latin-1"]))
def test_any_bytes(fuzz_client: TestClient, raw: bytes, content_type: str) -> None:
    check_answer(fuzz_client.post("/v1/score", content=raw, headers={"content-type": content_type}))


extreme = st.one_of(st.floats(width=32), st.floats(), st.integers(-(10**40), 10**40), st.just(1e308),
                    st.just(3.4e38), st.just(-1e30), st.just(5e-324))


@settings(FUZZ, max_examples=60)
@given(n=st.integers(1, 3), data=st.data())
def test_right_shape_any_numbers(fuzz_client: TestClient, n: int, data: st.DataObject) -> None:
    # the right shape, values from everywhere on the number line: a score or a 422, nothing else
    values = data.draw(st.lists(extreme, min_size=n * T * F, max_size=n * T * F))
    X = np.asarray(values, dtype=object).reshape(n, T, F).tolist()
    raw = json.dumps({"windows": X}).encode()
    check_answer(fuzz_client.post("/v1/score", content=raw, headers={"content-type": "application/json"}), n)


@FUZZ
@given(cut=st.integers(0, 4000), junk=st.text(max_size=20))
def test_damaged_valid_bodies(fuzz_client: TestClient, cut: int, junk: str) -> None:
    good = json.dumps({"windows": np.zeros((2, T, F)).tolist()})
    cut = min(cut, len(good))
    raw = (good[:cut] + junk + good[cut + len(junk):]).encode()
    check_answer(fuzz_client.post("/v1/score", content=raw, headers={"content-type": "application/json"}))


@FUZZ
@given(doc=st.one_of(json_value, st.fixed_dictionaries({"items": st.lists(
    st.dictionaries(st.sampled_from(["request_id", "window_index", "window_hash", "label", "note", "x"]),
                    json_leaf, max_size=5), max_size=3)})))
def test_any_feedback_document(fuzz_client: TestClient, doc: object) -> None:
    raw = json.dumps(doc).encode()
    r = fuzz_client.post("/v1/feedback", content=raw, headers={**auth(), "content-type": "application/json"})
    assert r.status_code < 500, r.text[:300]
    assert r.status_code in (201, 422, 503) and (r.status_code == 201 or r.json()["detail"])


def test_the_server_is_still_healthy_and_errors_were_counted(fuzz_client: TestClient) -> None:
    assert fuzz_client.get("/healthz").status_code == 200
    metrics = fuzz_client.get("/metrics").text
    assert 'anomaly_requests_total{endpoint="/v1/score",status="422"}' in metrics
    assert 'status="500"' not in metrics
