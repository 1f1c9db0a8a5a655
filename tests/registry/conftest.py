"""Fixtures for the registry suite: every `backend` test runs on a local folder and on S3 (moto, HTTP).

The S3 run talks to a real HTTP endpoint (``ThreadedMotoServer`` on 127.0.0.1, a free port), one
fresh bucket per test, fake credentials set with monkeypatch. moto's conditional checks are not
atomic by construction, but measured over its HTTP server no race had two winners, so the race
tests below exercise the registry's CAS logic; in production the guarantee comes from S3/MinIO.
"""

from __future__ import annotations

import functools
import json
import socket
import sys
import types
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from anomaly_core.registry import Registry
from anomaly_core.registry.s3 import S3Store
from anomaly_core.registry.store import Store, open_store


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _aws_env(monkeypatch: pytest.MonkeyPatch, endpoint: str, tmp_path: Path) -> None:
    env = {"AWS_ENDPOINT_URL": endpoint, "AWS_ENDPOINT_URL_S3": endpoint, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           # keep the developer's own AWS files out of the test
           "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def moto_client(moto_endpoint: str) -> Any:
    """A raw boto3 client on the moto server (built once: client creation costs ~0.1 s)."""
    import boto3

    return boto3.session.Session().client("s3", endpoint_url=moto_endpoint, region_name="us-east-1",
                                          aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture(scope="session")
def boto_session() -> Any:
    """One boto3 session for the suite's stores: building a client from a fresh session costs ~0.15 s.

    It still resolves the endpoint and credentials from the (monkeypatched) environment.
    """
    import boto3

    return boto3.session.Session()


@pytest.fixture
def s3_uri(moto_endpoint: str, moto_client: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A fresh bucket on the shared moto server; returns ``s3://bucket/registry``."""
    _aws_env(monkeypatch, moto_endpoint, tmp_path)
    bucket = f"t-{uuid.uuid4().hex[:16]}"  # isolate by bucket, not by resetting the server
    moto_client.create_bucket(Bucket=bucket)
    return f"s3://{bucket}/registry"


@pytest.fixture
def closed_port_endpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """An endpoint on 127.0.0.1 where nothing listens (a port just bound and released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    _aws_env(monkeypatch, endpoint, tmp_path)
    return endpoint


@dataclass
class Backend:
    """One store under test plus raw access to it, for planting faults the API refuses to make."""

    kind: str
    uri: str
    raw_put: Callable[[str, bytes], None]  # overwrite a key, bypassing every guard
    raw_keys: Callable[[], list[str]]
    session: Any = None  # a shared boto3 session for S3 (speed only)

    @functools.cached_property
    def store(self) -> Store:
        return S3Store(self.uri, session=self.session) if self.kind == "s3" else open_store(self.uri)

    @functools.cached_property
    def registry(self) -> Registry:
        return Registry(self.store)


def _local_backend(root: Path) -> Backend:
    def put(key: str, body: bytes) -> None:
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)

    def keys() -> list[str]:
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                      if p.is_file() and not p.name.startswith("."))

    return Backend("local", str(root), put, keys)


def _s3_backend(uri: str, client: Any, session: Any) -> Backend:
    bucket, _, prefix = uri[5:].partition("/")

    def put(key: str, body: bytes) -> None:
        client.put_object(Bucket=bucket, Key=f"{prefix}/{key}", Body=body)

    def keys() -> list[str]:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/")
        return sorted(o["Key"][len(prefix) + 1:] for p in pages for o in p.get("Contents", []))

    return Backend("s3", uri, put, keys, session)


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "local":
        return _local_backend(tmp_path / "store")
    return _s3_backend(request.getfixturevalue("s3_uri"), request.getfixturevalue("moto_client"),
                       request.getfixturevalue("boto_session"))


@pytest.fixture
def registry(backend: Backend) -> Registry:
    return backend.registry


def _version_files(seed: int = 0, *, threshold: float = 0.5, size: int = 4096) -> dict[str, bytes]:
    """A small but realistic version: weights, preprocessing, threshold, reference scores, card."""
    rng = np.random.default_rng(seed)
    return {
        "weights.bin": rng.bytes(size),
        "preprocessing.json": json.dumps({"mean": [0.0, 1.0], "std": [1.0, 2.0]}).encode(),
        "threshold.json": json.dumps({"value": threshold, "quantile": 0.99}).encode(),
        "reference_scores.npy": rng.standard_normal(64).astype("<f8").tobytes(),
        "figures/scores.png": b"\x89PNG\r\n\x1a\n" + rng.bytes(256),
        "model_card.md": f"# model {seed}\n".encode(),
    }


@pytest.fixture
def make_files() -> Callable[..., dict[str, bytes]]:
    """``make_files(seed, threshold=..., size=...)`` -> the files of a version."""
    return _version_files


@pytest.fixture
def metadata() -> dict[str, Any]:
    return {"model_type": "fake", "params": {"k": 1}, "metrics": {"f1": 0.9}, "code_version": "test"}


class FakeDetector:
    """Scores a window by its mean; built only from the bytes of ``weights.bin``."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self.n_files = len(files)
        self.weights = files["weights.bin"]

    def score(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=np.float64).reshape(len(X), -1).mean(axis=1)


@pytest.fixture
def fake_load_detector(monkeypatch: pytest.MonkeyPatch) -> list[Mapping[str, bytes]]:
    """Replace ``anomaly_core.models.persist`` by a stub; returns the file maps it was given."""
    calls: list[Mapping[str, bytes]] = []

    def load_detector(files: Mapping[str, bytes]) -> Any:
        calls.append(files)
        return FakeDetector(files)

    stub = types.ModuleType("anomaly_core.models.persist")
    stub.load_detector = load_detector  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "anomaly_core.models.persist", stub)
    return calls
