"""Helpers shared by the serving tests (imported by name: test modules and conftest.py)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import numpy as np
import uvicorn
from fastapi import FastAPI

with warnings.catch_warnings():  # starlette suggests httpx2 here; httpx is what this project pins
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from anomaly_core.errors import NotFound, StoreUnavailable
from anomaly_core.registry import LoadedModel
from anomaly_core.serving import ServingSettings, create_app

NAME = "telemetry"
TOKEN = "s3cret-token"


@dataclass(frozen=True)
class Trained:
    root: Path  # the template store (never modified by a test)
    data: Path  # folder with the .npz files
    versions: tuple[str, ...]


def make_settings(store: str | Path, **overrides: Any) -> ServingSettings:
    """Fast-moving settings for tests: 0.1 s polls and log flushes, a token configured."""
    values: dict[str, Any] = {"store_uri": str(store), "model_name": NAME, "poll_interval_s": 0.1,
                              "score_log_flush_s": 0.2, "api_token": TOKEN, "reload_backoff_max_s": 1.0}
    values.update(overrides)
    return ServingSettings(**values)


@contextlib.contextmanager
def running_client(settings: ServingSettings, *, ready: bool = True, **kwargs: Any) -> Iterator[TestClient]:
    """A TestClient with the lifespan running (and, by default, a model loaded)."""
    app = create_app(settings, **kwargs)
    with TestClient(app, raise_server_exceptions=False) as client:
        if ready:
            assert app.state.holder.wait_ready(15), client.get("/readyz").json()
        yield client


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- a real HTTP server ----------------------------------------------------------------------------------


@dataclass
class LiveServer:
    app: FastAPI
    url: str
    server: uvicorn.Server

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10, **kwargs)


@contextlib.contextmanager
def live_server(settings: ServingSettings, **kwargs: Any) -> Iterator[LiveServer]:
    """uvicorn on 127.0.0.1 (a port bound here, so it is free and known) in a thread, real sockets."""
    app = create_app(settings, **kwargs)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield LiveServer(app, f"http://127.0.0.1:{port}", server)
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail with a clear message on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


@dataclass
class MotoS3:
    server: Any
    endpoint: str
    client: Any
    bucket: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/registry"

    def keys(self, prefix: str = "") -> list[str]:
        out = self.client.list_objects_v2(Bucket=self.bucket, Prefix=f"registry/{prefix}")
        return [o["Key"][len("registry/"):] for o in out.get("Contents", [])]


# -- a registry double -----------------------------------------------------------------------------------


class FakeDetector:
    """Scores a window by mean(x**2) in float32 (+ a per-version bias).

    With ``gate``, a batch holding the value 7.0 waits for it (so the load-time probe never does).
    """

    def __init__(self, bias: float = 0.0, *, T: int = 3, F: int = 2, nan: bool = False,
                 gate: threading.Event | None = None) -> None:
        self.scaler_ = SimpleNamespace(window_length_=T, n_features_in_=F, feature_names_=[f"f{i}" for i in range(F)],
                                       mean_=np.zeros(F))
        self.bias, self.nan, self.gate = bias, nan, gate

    def score(self, X: np.ndarray) -> np.ndarray:
        if self.gate is not None and np.any(np.asarray(X) == 7.0):
            assert self.gate.wait(10), "test gate never opened"
        with np.errstate(over="ignore"):
            s = np.square(np.asarray(X, dtype=np.float32)).mean(axis=(1, 2), dtype=np.float32) + self.bias
        return np.full(len(X), np.nan) if self.nan else s.astype(np.float64)


def fake_model(version: str, detector: FakeDetector | None = None, threshold: float = 1.0) -> LoadedModel:
    return LoadedModel(name=NAME, version=version, threshold=threshold, metadata={"model_type": "fake"},
                       manifest_digest=f"digest-{version}", detector=detector or FakeDetector(float(version)),
                       alias="production")


class FakeSource:
    """Stands in for a Registry: an alias pointer, versions (a model or an exception to raise), counters."""

    def __init__(self, versions: dict[str, LoadedModel | Exception], alias_to: str | None = None) -> None:
        self.versions = versions
        self.alias_to = alias_to
        self.moves = 0
        self.loads: list[str] = []
        self.down = False

    def point(self, version: str | None) -> None:
        self.alias_to = version
        self.moves += 1

    def _check_up(self) -> None:
        if self.down:
            raise StoreUnavailable("fake store is down")

    def alias_etag(self, name: str, alias: str) -> str | None:
        self._check_up()
        return None if self.alias_to is None else f"etag-{self.moves}"

    def resolve(self, name: str, alias: str) -> str:
        self._check_up()
        if self.alias_to is None:
            raise NotFound("alias not set")
        return self.alias_to

    def load(self, name: str, *, alias: str | None = None, version: str | None = None) -> LoadedModel:
        self._check_up()
        target = version or self.alias_to
        assert target is not None
        self.loads.append(target)
        found = self.versions[target]
        if isinstance(found, Exception):
            raise found
        return found
