"""The HTTP contract through TestClient: scoring, probes, model info, auth, feedback, score log, limits, OpenAPI."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from serving_helpers import NAME, TOKEN, TestClient, auth, make_settings, running_client, wait_for

from anomaly_core.registry import Registry
from anomaly_core.serving import ServingSettings, create_app
from anomaly_core.serving.feedback import FeedbackStore, window_hash
from anomaly_core.serving.score_log import read_score_log


def test_score_matches_the_registered_model(client: TestClient, promoted: Registry, windows: np.ndarray) -> None:
    r = client.post("/v1/score", json={"windows": windows.tolist()})
    assert r.status_code == 200, r.text
    body = r.json()
    model = promoted.load(NAME, alias="production")
    assert r.headers["x-model-version"] == body["model_version"] == model.version
    assert r.headers["x-request-id"] == body["request_id"]
    np.testing.assert_allclose(body["scores"], model.score(windows), rtol=1e-12)
    assert body["is_anomaly"] == (np.asarray(body["scores"]) > model.threshold).tolist()
    assert body["threshold"] == model.threshold
    assert any(body["is_anomaly"]) and not all(body["is_anomaly"])  # the data has both kinds


def test_npy_body_scores_the_same(client: TestClient, windows: np.ndarray) -> None:
    buf = io.BytesIO()
    np.save(buf, windows)
    binary = client.post("/v1/score", content=buf.getvalue(), headers={"content-type": "application/x-npy"})
    as_json = client.post("/v1/score", json={"windows": windows.tolist()})
    assert binary.status_code == 200, binary.text
    assert binary.json()["scores"] == as_json.json()["scores"]


def test_client_request_id_is_kept(client: TestClient, windows: np.ndarray) -> None:
    r = client.post("/v1/score", json={"windows": windows[:1].tolist()}, headers={"X-Request-ID": "job-42.a"})
    assert r.json()["request_id"] == "job-42.a"
    r = client.post("/v1/score", json={"windows": windows[:1].tolist()}, headers={"X-Request-ID": "bad id/../x"})
    assert r.json()["request_id"] != "bad id/../x"  # not a safe id: replaced


def test_model_info(client: TestClient, promoted: Registry, trained) -> None:
    info = client.get("/v1/model").json()
    shown = promoted.show(NAME, trained.versions[0])
    assert info["version"] == trained.versions[0] and info["alias"] == "production" and info["name"] == NAME
    assert info["manifest_digest"] == shown["manifest"].get("sha256", info["manifest_digest"])
    assert info["window_length"] == 30 and info["n_features"] == 10
    assert info["features"] == [f"f{i}" for i in range(10)]
    assert info["model_type"] == "pca" and info["loaded_at"].endswith("+00:00")


def test_readiness_before_and_after_a_model_exists(registry: Registry, store_root: Path, trained,
                                                   windows: np.ndarray) -> None:
    with running_client(make_settings(store_root), ready=False) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        r = wait_for(lambda: (lambda r: r if "not set" in r.text else None)(client.get("/readyz")))
        assert r.status_code == 503 and "alias 'production' of 'telemetry' is not set" in r.json()["detail"]
        score = client.post("/v1/score", json={"windows": windows[:1].tolist()})
        assert score.status_code == 503 and "no model is loaded yet" in score.json()["detail"]
        assert client.get("/v1/model").status_code == 503
        registry.promote(NAME, trained.versions[1], "production", reason="first deployment")
        ready = wait_for(lambda: (lambda r: r if r.status_code == 200 else None)(client.get("/readyz")))
        assert ready.json() == {"status": "ready", "version": trained.versions[1], "alias": "production"}
        assert client.post("/v1/score", json={"windows": windows[:1].tolist()}).status_code == 200


def test_store_uri_with_nothing_in_it_is_not_ready(tmp_path: Path) -> None:
    with running_client(make_settings(tmp_path / "empty"), ready=False) as client:
        r = wait_for(lambda: (lambda r: r if "not set" in r.text else None)(client.get("/readyz")))
        assert r.status_code == 503


# -- auth -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/reload", "/v1/feedback"])
def test_admin_endpoints_without_a_configured_token_are_403_and_say_how(promoted: Registry, store_root: Path,
                                                                        path: str) -> None:
    with running_client(make_settings(store_root, api_token=None)) as client:
        r = client.post(path, json={}, headers=auth())
        assert r.status_code == 403
        assert "ANOMALY_API_TOKEN" in r.json()["detail"] and "set" in r.json()["detail"]


@pytest.mark.parametrize("path", ["/v1/reload", "/v1/feedback"])
def test_admin_endpoints_refuse_missing_or_wrong_tokens(client: TestClient, path: str) -> None:
    for headers in ({}, auth("wrong"), {"Authorization": f"Basic {TOKEN}"}, {"Authorization": TOKEN}):
        r = client.post(path, json={}, headers=headers)
        assert r.status_code == 401, (headers, r.text)
        assert r.headers["www-authenticate"] == "Bearer"


def test_reload_with_the_token(client: TestClient, trained) -> None:
    r = client.post("/v1/reload", headers=auth())
    assert r.status_code == 200 and r.json()["result"] == "unchanged"
    assert r.json()["version"] == trained.versions[0]
    r = client.post("/v1/reload", json={"force": True}, headers=auth())
    assert r.status_code == 200 and r.json()["result"] == "unchanged"  # same version: nothing to load


def test_scoring_can_require_the_token(promoted: Registry, store_root: Path, windows: np.ndarray) -> None:
    with running_client(make_settings(store_root, require_token_for_scoring=True)) as client:
        body = {"windows": windows[:1].tolist()}
        assert client.post("/v1/score", json=body).status_code == 401
        assert client.post("/v1/score", json=body, headers=auth("nope")).status_code == 401
        assert client.post("/v1/score", json=body, headers=auth()).status_code == 200
        assert client.get("/healthz").status_code == 200  # probes stay open
    with pytest.raises(ValueError, match="ANOMALY_API_TOKEN is not set"):
        ServingSettings(store_uri=str(store_root), require_token_for_scoring=True)


# -- feedback and the score log -------------------------------------------------------------------------


def test_feedback_is_stored_for_calibration(client: TestClient, promoted: Registry, windows: np.ndarray,
                                            trained) -> None:
    scored = client.post("/v1/score", json={"windows": windows[:3].tolist()}).json()
    items = [{"request_id": scored["request_id"], "window_index": 1, "label": "anomaly", "note": "spike on f3"},
             {"window_hash": window_hash(windows[2]), "label": "nominal"}]
    r = client.post("/v1/feedback", json={"items": items, "labeller": "oncall"}, headers=auth())
    assert r.status_code == 201, r.text
    assert r.json()["stored"] == 2 and r.json()["key"].startswith("feedback/telemetry/date=")
    rows = FeedbackStore(promoted.store, NAME).read()
    assert [(row["label"], row.get("window_index")) for row in rows] == [("anomaly", 1), ("nominal", None)]
    assert rows[0]["request_id"] == scored["request_id"] and rows[0]["labeller"] == "oncall"
    assert rows[1]["window_hash"] == window_hash(windows[2]) and rows[0]["served_version"] == trained.versions[0]
    metrics = client.get("/metrics").text
    assert 'anomaly_feedback_labels_total{label="anomaly"} 1.0' in metrics


@pytest.mark.parametrize(("items", "words"), [
    ([], "items"),
    ([{"label": "anomaly"}], "request_id or a window_hash"),
    ([{"request_id": "r1", "label": "maybe"}], "label"),
    ([{"window_hash": "abc", "label": "anomaly"}], "window_hash"),
    ([{"request_id": "r1", "window_index": True, "label": "anomaly"}], "window_index"),
    ([{"request_id": "r1", "window_index": "1", "label": "anomaly"}], "window_index"),
    ([{"request_id": "r1", "label": "anomaly", "extra": 1}], "extra"),
    ([{"window_index": 0, "window_hash": "a" * 64, "label": "anomaly"}], "window_index needs the request_id"),
])
def test_bad_feedback_is_422_naming_the_field(client: TestClient, items: list, words: str) -> None:
    r = client.post("/v1/feedback", json={"items": items}, headers=auth())
    assert r.status_code == 422 and words in r.json()["detail"], r.text
    assert "input" not in r.json()  # FastAPI's default echoes the input; ours never does


def test_feedback_with_nan_and_garbage_is_a_4xx_not_a_500(client: TestClient) -> None:
    r = client.post("/v1/feedback", content=b"{", headers={**auth(), "content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"].startswith("body is not valid JSON"), r.text
    for raw in (b'{"items": [{"request_id": NaN, "label": "anomaly"}]}', b"{not json", b"\xff"):
        r = client.post("/v1/feedback", content=raw, headers={**auth(), "content-type": "application/json"})
        assert r.status_code in (400, 422) and r.json()["detail"], r.text  # 400: not UTF-8 (FastAPI's answer)


def test_scores_are_logged_as_parquet_partitions(promoted: Registry, store_root: Path, windows: np.ndarray,
                                                 trained) -> None:
    with running_client(make_settings(store_root)) as client:
        ids = [client.post("/v1/score", json={"windows": windows[i:i + 4].tolist()}).json()["request_id"]
               for i in (0, 4)]
        keys = wait_for(lambda: promoted.store.list("score_logs/telemetry/"))
    # all the rows (the last flush happens at shutdown)
    keys = promoted.store.list("score_logs/telemetry/")
    assert all(k.startswith("score_logs/telemetry/date=") and k.endswith(".parquet") for k in keys)
    frame = read_score_log(promoted.store, NAME)
    assert len(frame) == 8 and set(frame["request_id"]) == set(ids)
    assert set(frame["model_version"]) == {trained.versions[0]} and set(frame["alias"]) == {"production"}
    model = promoted.load(NAME, version=trained.versions[0])
    np.testing.assert_allclose(frame["score"], model.score(windows[:8]))
    assert frame["is_anomaly"].tolist() == (model.score(windows[:8]) > model.threshold).tolist()
    assert frame["window_index"].tolist() == [0, 1, 2, 3] * 2
    assert frame["window_hash"].tolist() == [window_hash(w) for w in windows[:8]]
    assert str(frame["time"].dt.tz) == "UTC"


# -- limits and bad input -------------------------------------------------------------------------------


def test_body_over_the_limit_is_413(promoted: Registry, store_root: Path, windows: np.ndarray) -> None:
    with running_client(make_settings(store_root, max_body_bytes=20_000)) as client:
        big = json.dumps({"windows": windows[:4].tolist()}).encode()
        assert len(big) > 20_000
        r = client.post("/v1/score", content=big, headers={"content-type": "application/json"})
        assert r.status_code == 413 and "limit is 20000 bytes" in r.json()["detail"]

        def chunks():  # no Content-Length: the stream is cut off once it passes the limit
            for i in range(0, len(big), 4096):
                yield big[i:i + 4096]

        r = client.post("/v1/score", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413, r.text
        r = client.post("/v1/feedback", content=chunks(), headers={**auth(), "content-type": "application/json"})
        assert r.status_code == 413, r.text
        small = client.post("/v1/score", json={"windows": windows[:1].tolist()})
        assert small.status_code == 200
        metrics = client.get("/metrics").text
        assert 'anomaly_requests_total{endpoint="/v1/score",status="413"} 2.0' in metrics


def test_too_many_windows_is_413(promoted: Registry, store_root: Path, windows: np.ndarray) -> None:
    with running_client(make_settings(store_root, max_windows=8)) as client:
        r = client.post("/v1/score", json={"windows": windows[:9].tolist()})
        assert r.status_code == 413 and "limit is 8" in r.json()["detail"]


def test_unknown_paths_and_methods_are_json_4xx(client: TestClient) -> None:
    assert client.get("/nope").status_code == 404
    assert client.get("/v1/score").status_code == 405
    metrics = client.get("/metrics").text
    assert 'endpoint="other",status="404"' in metrics  # unknown paths never become label values


def test_an_unexpected_error_is_a_json_500_and_counted(promoted: Registry, store_root: Path,
                                                       windows: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    from anomaly_core.serving.routes import scoring

    def boom(*args: object, **kwargs: object) -> bytes:
        raise RuntimeError("simulated bug")

    with running_client(make_settings(store_root)) as client:
        monkeypatch.setattr(scoring, "score_body", boom)
        r = client.post("/v1/score", json={"windows": windows[:1].tolist()})
        assert r.status_code == 500 and r.json() == {"detail": "internal error; the server log has the details"}
        assert client.get("/healthz").status_code == 200
        assert 'anomaly_requests_total{endpoint="/v1/score",status="500"} 1.0' in client.get("/metrics").text


# -- OpenAPI ----------------------------------------------------------------------------------------------


def test_openapi_documents_the_contract(tmp_path: Path) -> None:
    spec = create_app(make_settings(tmp_path)).openapi()  # no lifespan needed
    score = spec["paths"]["/v1/score"]["post"]
    schema = score["requestBody"]["content"]["application/json"]["schema"]
    number = schema["properties"]["windows"]["items"]["items"]["items"]
    assert number == {"type": "number"} and schema["properties"]["windows"]["minItems"] == 1
    assert schema["additionalProperties"] is False and schema["required"] == ["windows"]
    assert "application/x-npy" in score["requestBody"]["content"]
    assert {"200", "413", "415", "422", "503"} <= set(score["responses"])
    ok = score["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ok.endswith("/ScoreResponse")
    props = spec["components"]["schemas"]["ScoreResponse"]["properties"]
    assert {"model_version", "threshold", "scores", "is_anomaly", "request_id"} <= set(props)
    for path in ("/v1/reload", "/v1/feedback"):
        op = spec["paths"][path]["post"]
        assert op["security"] == [{"ApiToken": []}] and {"401", "403"} <= set(op["responses"])
    assert {"/healthz", "/readyz", "/metrics", "/v1/model"} <= set(spec["paths"])


def test_apps_are_independent(tmp_path: Path) -> None:
    # metrics live on each app's own registry: building twice in one process must not collide
    a, b = create_app(make_settings(tmp_path)), create_app(make_settings(tmp_path))
    assert a.state.metrics.registry is not b.state.metrics.registry
