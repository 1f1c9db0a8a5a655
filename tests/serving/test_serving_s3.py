"""The store going away: serve from S3 (moto over HTTP), stop the S3 server, keep scoring; drops are counted."""

from __future__ import annotations

import time

import numpy as np
from serving_helpers import NAME, MotoS3, Trained, live_server, make_settings, wait_for

from anomaly_core.registry import open_registry


def _metric(http, name: str, **labels: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(http.get("/metrics").text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


def test_scoring_continues_when_the_store_goes_away(moto_s3: MotoS3, trained: Trained, windows: np.ndarray) -> None:
    from anomaly_core.pipeline.training import train_model

    version = train_model(moto_s3.uri, NAME, str(trained.data / "train41.npz"), val=str(trained.data / "val.npz"),
                          model="pca")["version"]
    registry = open_registry(moto_s3.uri)
    registry.promote(NAME, version, "production", reason="s3 test")
    expected = registry.load(NAME, alias="production").score(windows[:8])
    settings = make_settings(moto_s3.uri, poll_interval_s=0.1, score_log_flush_s=0.1, score_log_max_rows=40)
    with live_server(settings) as live, live.client() as http:
        wait_for(lambda: http.get("/readyz").status_code == 200)
        assert http.post("/v1/score", json={"windows": windows[:8].tolist()}).status_code == 200
        wait_for(lambda: moto_s3.keys("score_logs/"), timeout=10)  # the log reaches S3 while it is up

        moto_s3.server.stop()  # the store goes away
        wait_for(lambda: _metric(http, "anomaly_alias_poll_errors_total") > 0, timeout=10)
        slowest = 0.0
        for _ in range(12):  # 96 rows: more than the 40-row buffer holds
            started = time.perf_counter()
            r = http.post("/v1/score", json={"windows": windows[:8].tolist()})
            slowest = max(slowest, time.perf_counter() - started)
            assert r.status_code == 200, r.text
            np.testing.assert_allclose(r.json()["scores"], expected, rtol=1e-12)
            assert r.headers["x-model-version"] == version
        assert slowest < 1.0  # nothing on the request path waits for the store
        wait_for(lambda: _metric(http, "anomaly_score_log_rows_dropped_total") > 0, timeout=10)
        # a write to a vanished endpoint may take until the read timeout to fail: wait for it
        wait_for(lambda: _metric(http, "anomaly_score_log_flush_failures_total") > 0, timeout=15)
        assert http.get("/readyz").status_code == 200
        assert http.get("/v1/model").json()["version"] == version
        assert _metric(http, "anomaly_model_reloads_total", result="failure") == 0  # an outage is not a bad version
        metrics = live.app.state.metrics.registry
    # after shutdown (whose last flush failed too) every row is either written or counted as dropped
    written = metrics.get_sample_value("anomaly_score_log_rows_written_total")
    dropped = metrics.get_sample_value("anomaly_score_log_rows_dropped_total")
    assert written >= 8 and dropped > 0
    assert written + dropped == 13 * 8
    assert metrics.get_sample_value("anomaly_score_log_buffered_rows") == 0
