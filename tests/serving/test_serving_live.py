"""Real HTTP against uvicorn (a thread, real sockets): scoring, readiness, hot swap under load, corruption, metrics."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families
from serving_helpers import NAME, FakeDetector, FakeSource, auth, fake_model, live_server, make_settings, wait_for

from anomaly_core.registry import Registry
from anomaly_core.registry import aliases as alias_moves


def test_readiness_and_scoring_over_http(registry: Registry, store_root: Path, trained, windows: np.ndarray) -> None:
    with live_server(make_settings(store_root)) as live, live.client() as http:
        assert http.get("/healthz").status_code == 200
        r = wait_for(lambda: (lambda r: r if "not set" in r.text else None)(http.get("/readyz")))
        assert r.status_code == 503
        assert http.post("/v1/score", json={"windows": windows[:1].tolist()}).status_code == 503
        registry.promote(NAME, trained.versions[0], "production", reason="first")
        wait_for(lambda: http.get("/readyz").status_code == 200)
        r = http.post("/v1/score", json={"windows": windows.tolist()})
        assert r.status_code == 200 and r.headers["x-model-version"] == trained.versions[0]
        model = registry.load(NAME, version=trained.versions[0])
        np.testing.assert_allclose(r.json()["scores"], model.score(windows), rtol=1e-12)
        # bad input over the wire: 4xx with a detail, and the process keeps serving
        for raw in (b'{"windows": [[[NaN]]]}', b'{"windows": [[[1, 2', b"\x00\x01", json.dumps(
                {"windows": [[[True] * 10] * 30]}).encode(), b'{"windows": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"):
            bad = http.post("/v1/score", content=raw, headers={"content-type": "application/json"})
            assert 400 <= bad.status_code < 500 and bad.json()["detail"], raw[:40]
        assert http.post("/v1/score", json={"windows": windows[:1].tolist()}).status_code == 200


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "anomaly_core.cli", *args], capture_output=True, text=True,
                          timeout=120, check=False)


def test_hot_swap_under_concurrent_load_fails_no_request(promoted: Registry, store_root: Path, trained,
                                                         windows: np.ndarray) -> None:
    v1, v2 = trained.versions[:2]
    batch = windows[:4]
    expected = {v: promoted.load(NAME, version=v).score(batch) for v in (v1, v2)}
    seen: dict[int, list[str]] = defaultdict(list)
    failures: list[str] = []
    stop = threading.Event()

    def client_loop(i: int, http: httpx.Client) -> None:
        while not stop.is_set():
            try:
                r = http.post("/v1/score", json={"windows": batch.tolist()})
            except httpx.HTTPError as err:
                failures.append(f"client {i}: {err!r}")
                continue
            if r.status_code != 200:
                failures.append(f"client {i}: {r.status_code} {r.text[:200]}")
                continue
            body = r.json()
            version = body["model_version"]
            # the answer was computed entirely by the version it names
            np.testing.assert_allclose(body["scores"], expected[version], rtol=1e-12)
            assert r.headers["x-model-version"] == version
            seen[i].append(version)
            stop.wait(0.005)  # leave the CPUs some room for the promote subprocess (2-core CI machines)

    with live_server(make_settings(store_root, poll_interval_s=0.1)) as live:
        clients = [live.client() for _ in range(4)]
        threads = [threading.Thread(target=client_loop, args=(i, c)) for i, c in enumerate(clients)]
        for t in threads:
            t.start()
        try:
            wait_for(lambda: all(seen[i] for i in range(4)))
            promote = _cli("registry", "promote", v2, "--alias", "production", "--reason", "swap test",
                           "--store", str(store_root), "--name", NAME)
            moved = time.monotonic()  # the alias moved just before the CLI exited
            assert promote.returncode == 0, promote.stderr
            wait_for(lambda: all(seen[i] and seen[i][-1] == v2 for i in range(4)), timeout=10)
            assert time.monotonic() - moved < 2.0  # well within a few poll intervals
            promoted.rollback(NAME, "production", reason="roll back under load")
            wait_for(lambda: all(seen[i][-1] == v1 for i in range(4)), timeout=10)
            time.sleep(0.2)
        finally:
            stop.set()
            for t in threads:
                t.join(20)
            for c in clients:
                c.close()
    assert not failures, failures[:5]
    for i, versions in seen.items():
        changes = [b for a, b in zip(versions, versions[1:], strict=False) if a != b]
        assert changes == [v2, v1], f"client {i} saw {changes}"  # one swap each way, no flapping


def test_a_request_in_flight_finishes_on_the_model_it_started_with(tmp_path: Path) -> None:
    gate = threading.Event()
    source = FakeSource({"1": fake_model("1", FakeDetector(1.0, gate=gate)), "2": fake_model("2")}, alias_to="1")
    with live_server(make_settings(tmp_path / "unused", poll_interval_s=0.05), registry=source) as live:
        live.app.state.holder.wait_ready(5)
        window = {"windows": [[[0.0, 0.0]] * 3]}
        # version 1 waits for the gate on this one; the padding (valid JSON whitespace) makes it a body
        # big enough to be scored in a worker thread, as large batches are, so the loop stays free
        blocking = json.dumps({"windows": [[[7.0, 7.0]] * 3]}) + " " * 100_000
        slow: dict[str, httpx.Response] = {}
        with live.client() as a, live.client() as b:
            t = threading.Thread(target=lambda: slow.setdefault("r", a.post(
                "/v1/score", content=blocking, headers={"content-type": "application/json"})))
            t.start()
            time.sleep(0.2)  # request A is now inside version 1's score()
            source.point("2")
            wait_for(lambda: live.app.state.holder.served.version == "2")
            fast = b.post("/v1/score", json=window)
            assert fast.json()["model_version"] == "2" and fast.json()["scores"] == [2.0]
            gate.set()
            t.join(10)
    assert slow["r"].status_code == 200
    assert slow["r"].json()["model_version"] == "1" and slow["r"].json()["scores"] == [50.0]
    assert slow["r"].headers["x-model-version"] == "1"


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_corrupted_new_version_is_refused_while_the_old_keeps_serving(
        promoted: Registry, store_root: Path, trained, windows: np.ndarray, caplog: pytest.LogCaptureFixture) -> None:
    v1, v2, v3 = trained.versions
    with live_server(make_settings(store_root, poll_interval_s=0.1)) as live, live.client() as http:
        wait_for(lambda: http.get("/readyz").status_code == 200)
        # Bit rot after v2 was verified: flip a byte of its weights, then move the alias to it the
        # way promote does (recording the manifest digest it was gated with).
        _flip_a_byte(store_root / "models" / NAME / "versions" / v2 / "weights.safetensors")
        digest = promoted.show(NAME, v2)["manifest"]["digest"]  # the manifest is intact: only the weights rotted
        alias_moves.move(promoted.store, NAME, "production", v2, reason="moved before the rot was noticed",
                         actor="test", gate=None, action="promote", expected=v1, manifest_sha256=digest)
        with caplog.at_level(logging.ERROR, logger="anomaly_core.serving.holder"):
            wait_for(lambda: _sample(http, "anomaly_model_reloads_total", result="failure") >= 1)
        assert "weights.safetensors" in caplog.text and "failed to load" in caplog.text
        for _ in range(5):
            r = http.post("/v1/score", json={"windows": windows[:2].tolist()})
            assert r.status_code == 200 and r.headers["x-model-version"] == v1
        assert http.get("/readyz").json()["version"] == v1
        assert http.get("/v1/model").json()["version"] == v1
        reload = http.post("/v1/reload", json={"force": True}, headers=auth())
        assert reload.status_code == 409
        assert reload.json()["result"] == "failed" and "weights.safetensors" in reload.json()["detail"]
        assert "still serving version " + v1 in reload.json()["detail"]
        # a good version is taken as soon as the alias points at it
        promoted.promote(NAME, v3, "production", reason="fixed")
        wait_for(lambda: http.post("/v1/score", json={"windows": windows[:1].tolist()}).headers.get(
            "x-model-version") == v3)


def _families(http: httpx.Client) -> dict[str, list]:
    text = http.get("/metrics").text
    return {f.name: f.samples for f in text_string_to_metric_families(text)}


def _sample(http: httpx.Client, name: str, **labels: str) -> float:
    for samples in _families(http).values():
        for s in samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


def test_metrics_are_valid_prometheus_with_plausible_values(promoted: Registry, store_root: Path, trained,
                                                            windows: np.ndarray) -> None:
    with live_server(make_settings(store_root)) as live, live.client() as http:
        wait_for(lambda: http.get("/readyz").status_code == 200)
        scores: list[float] = []
        flags: list[bool] = []
        for i in range(5):
            body = http.post("/v1/score", json={"windows": windows[i * 8:(i + 1) * 8].tolist()}).json()
            scores += body["scores"]
            flags += body["is_anomaly"]
        for raw in (b"{", b'{"windows": []}', b'{"windows": [[[NaN]]]}'):
            assert http.post("/v1/score", content=raw, headers={"content-type": "application/json"}).status_code == 422
        families = _families(http)
    required = ["anomaly_requests", "anomaly_request_duration_seconds", "anomaly_windows_scored", "anomaly_anomalies",
                "anomaly_score", "anomaly_model_info", "anomaly_model_reloads", "anomaly_score_log_rows_dropped"]
    assert not [n for n in required if n not in families], sorted(families)

    def value(metric: str, **labels: str) -> float:
        found = [s.value for f in families.values() for s in f
                 if s.name == metric and all(s.labels.get(k) == v for k, v in labels.items())]
        assert found, f"no sample {metric}{labels}"
        return sum(found)

    assert value("anomaly_requests_total", endpoint="/v1/score", status="200") == 5
    assert value("anomaly_requests_total", endpoint="/v1/score", status="422") == 3
    assert value("anomaly_request_duration_seconds_count", endpoint="/v1/score") == 8
    assert 0 < value("anomaly_request_duration_seconds_sum", endpoint="/v1/score") < 8 * 5
    assert value("anomaly_windows_scored_total") == 40
    assert value("anomaly_anomalies_total") == sum(flags) > 0
    assert value("anomaly_score_count") == 40
    assert value("anomaly_score_sum") == pytest.approx(sum(scores))
    assert value("anomaly_score_bucket", le="+Inf") == 40
    assert value("anomaly_model_info", version=trained.versions[0], alias="production", name=NAME) == 1
    assert value("anomaly_model_reloads_total", result="success") == 1
    assert value("anomaly_model_reloads_total", result="failure") == 0
    assert value("anomaly_model_ready") == 1
    assert value("anomaly_model_threshold") == promoted.load(NAME, alias="production").threshold
    assert value("anomaly_score_log_rows_dropped_total") == 0
