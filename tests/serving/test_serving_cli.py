"""``anomaly serve`` as an operator runs it: a real process, readiness, scoring, and a clean SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
from serving_helpers import NAME, wait_for

from anomaly_core.registry import Registry
from anomaly_core.serving.score_log import read_score_log


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_anomaly_serve_process(registry: Registry, store_root: Path, trained, windows: np.ndarray,
                               tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "ANOMALY_API_TOKEN": "", "ANOMALY_SCORE_LOG_FLUSH_S": "600"}  # flush only at shutdown
    log = open(tmp_path / "serve.log", "w+")  # noqa: SIM115 - closed below, after the process
    proc = subprocess.Popen([sys.executable, "-m", "anomaly_core.cli", "serve", "--store", str(store_root),
                             "--name", NAME, "--port", str(port), "--poll-interval", "0.2"],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        def up() -> httpx.Response | None:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-2000:]
            try:
                return httpx.get(f"{base}/readyz", timeout=2)
            except httpx.TransportError:
                return None

        first = wait_for(up, timeout=60, interval=0.2)
        assert first.status_code == 503 and "is not set" in first.json()["detail"]  # no model yet
        assert httpx.get(f"{base}/healthz").status_code == 200
        registry.promote(NAME, trained.versions[2], "production", reason="cli test")
        wait_for(lambda: httpx.get(f"{base}/readyz").status_code == 200, timeout=20)
        r = httpx.post(f"{base}/v1/score", json={"windows": windows[:5].tolist()})
        assert r.status_code == 200 and r.headers["x-model-version"] == trained.versions[2]
        assert httpx.post(f"{base}/v1/reload").status_code == 403  # no token configured: admin is off
        proc.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal: the conventional "terminated" status
        assert proc.wait(30) in (0, -signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        log.close()
    # the rows were written by the shutdown flush (the interval was 10 minutes)
    frame = read_score_log(registry.store, NAME)
    assert len(frame) == 5 and set(frame["request_id"]) == {r.json()["request_id"]}
    assert "anomaly serve on http://127.0.0.1" in (tmp_path / "serve.log").read_text()
