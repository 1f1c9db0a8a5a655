"""S3 faults: an unreachable endpoint, missing credentials or bucket, and the error translation table."""

from __future__ import annotations

import time
import types

import pytest
from botocore.exceptions import ClientError

from anomaly_core.errors import (
    AlreadyExists,
    Conflict,
    NotFound,
    PreconditionFailed,
    StoreError,
    StoreUnavailable,
)
from anomaly_core.registry import open_registry
from anomaly_core.registry.s3 import S3Store, translate_client_error


def test_unreachable_endpoint_names_it_within_bounded_time(closed_port_endpoint: str) -> None:
    reg = open_registry("s3://models/anomaly")
    for call in (lambda: reg.list_versions("telemetry"),
                 lambda: reg.register("telemetry", {"a.bin": b"x"}, metadata={}),
                 lambda: reg.load("telemetry", alias="production")):
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match=closed_port_endpoint.replace(".", r"\.")):
            call()
        assert time.monotonic() - started < 15  # bounded retries, not a hang


def test_missing_credentials_are_a_clear_error(moto_endpoint: str, s3_uri: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata lookup in tests
    with pytest.raises(StoreUnavailable, match=rf"no AWS credentials for S3 endpoint {moto_endpoint}"):
        open_registry(s3_uri).list_versions("telemetry")


def test_missing_bucket_is_not_read_as_missing_version(moto_endpoint: str, s3_uri: str) -> None:
    reg = open_registry("s3://no-such-bucket-here/registry")
    with pytest.raises(StoreUnavailable, match=f"bucket does not exist at S3 endpoint {moto_endpoint}"):
        reg.resolve("telemetry", "production")


def _client_error(code: str, status: int) -> ClientError:
    response = {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "PutObject")  # type: ignore[arg-type]


@pytest.mark.parametrize(("code", "status", "expected"), [
    ("PreconditionFailed", 412, PreconditionFailed),
    ("NoSuchKey", 404, NotFound),
    ("404", 404, NotFound),
    ("ConditionalRequestConflict", 409, Conflict),
    ("InvalidAccessKeyId", 403, StoreUnavailable),
    ("SignatureDoesNotMatch", 403, StoreUnavailable),
    ("AccessDenied", 403, StoreUnavailable),
    ("NoSuchBucket", 404, StoreUnavailable),
    ("InternalError", 500, StoreUnavailable),
    ("SlowDown", 503, StoreUnavailable),
    ("InvalidArgument", 400, StoreError),
])
def test_error_translation(code: str, status: int, expected: type[StoreError]) -> None:
    err = translate_client_error(_client_error(code, status), "k/x", "http://minio:9000")
    assert type(err) is expected
    assert "k/x" in str(err) or "http://minio:9000" in str(err)
    if expected is StoreUnavailable:
        assert "http://minio:9000" in str(err)


def test_create_only_412_becomes_already_exists() -> None:
    err = translate_client_error(_client_error("PreconditionFailed", 412), "k", "e", on_412=AlreadyExists)
    assert isinstance(err, AlreadyExists)


def test_listing_follows_continuation_pages() -> None:
    """More than one page of keys (S3 returns at most 1000 per call) is listed completely."""

    class Pages:
        meta = types.SimpleNamespace(endpoint_url="http://fake:9000")

        def __init__(self) -> None:
            self.calls: list[dict] = []

        def list_objects_v2(self, **kwargs: object) -> dict:
            self.calls.append(kwargs)
            if "ContinuationToken" not in kwargs:
                return {"IsTruncated": True, "NextContinuationToken": "t1",
                        "Contents": [{"Key": "p/models/m/versions/1/a"}]}
            return {"IsTruncated": False, "Contents": [{"Key": "p/models/m/versions/2/b"}]}

    store = S3Store("s3://bucket/p")
    store._client = fake = Pages()
    assert store.list("models/m/versions/") == ["models/m/versions/1/a", "models/m/versions/2/b"]
    assert [c.get("ContinuationToken") for c in fake.calls] == [None, "t1"]
    assert fake.calls[0]["Prefix"] == "p/models/m/versions/"
