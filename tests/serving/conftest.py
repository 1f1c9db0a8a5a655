"""Fixtures for the serving suite: a store with three trained versions, apps, a live uvicorn server, moto.

Versions are PCA models (they train in well under a second); the serving code does not care which
detector it serves. Every test gets its own copy of the template store, so alias moves never leak.
"""

from __future__ import annotations

import contextlib
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from serving_helpers import NAME, MotoS3, TestClient, Trained, make_settings, running_client

from anomaly_core.data.generator import generate_windows
from anomaly_core.data.io import save_dataset
from anomaly_core.registry import Registry, open_registry


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """Three PCA versions of ``telemetry`` trained on different data, no alias set."""
    from anomaly_core.pipeline.training import train_model

    base = tmp_path_factory.mktemp("serving")
    data, root = base / "data", base / "store"
    data.mkdir()
    save_dataset(generate_windows(150, seed=40), data / "val.npz")
    versions = []
    for seed in (41, 42, 43):
        save_dataset(generate_windows(300, seed=seed), data / f"train{seed}.npz")
        result = train_model(str(root), NAME, str(data / f"train{seed}.npz"), val=str(data / "val.npz"),
                             model="pca")
        versions.append(result["version"])
    return Trained(root, data, tuple(versions))


@pytest.fixture
def store_root(trained: Trained, tmp_path: Path) -> Path:
    """A private copy of the template store (no alias set yet)."""
    root = tmp_path / "store"
    shutil.copytree(trained.root, root)
    return root


@pytest.fixture
def registry(store_root: Path) -> Registry:
    return open_registry(str(store_root))


@pytest.fixture
def promoted(registry: Registry, trained: Trained) -> Registry:
    """The private store with ``production`` -> the first version."""
    registry.promote(NAME, trained.versions[0], "production", reason="test setup")
    return registry


@pytest.fixture(scope="session")
def windows() -> np.ndarray:
    """Windows of the models' shape (30 x 10), some anomalous."""
    return generate_windows(64, seed=7, contamination=0.2).X


@pytest.fixture
def client(promoted: Registry, store_root: Path) -> Iterator[TestClient]:
    with running_client(make_settings(store_root)) as c:
        yield c


# -- S3 (moto over HTTP) ---------------------------------------------------------------------------------


@pytest.fixture
def moto_s3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[MotoS3]:
    """A moto S3 server of this test's own (the test may stop it), fake credentials, one bucket."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    env = {"AWS_ENDPOINT_URL": endpoint, "AWS_ENDPOINT_URL_S3": endpoint, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
           # a stopped endpoint must fail fast, not after botocore's default retries
           "AWS_MAX_ATTEMPTS": "1", "ANOMALY_S3_CONNECT_TIMEOUT": "0.5", "ANOMALY_S3_READ_TIMEOUT": "2"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    client = boto3.session.Session().client("s3", endpoint_url=endpoint, region_name="us-east-1")
    bucket = f"t-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    moto = MotoS3(server, endpoint, client, bucket)
    try:
        yield moto
    finally:
        with contextlib.suppress(Exception):  # the test may have stopped it already
            server.stop()
