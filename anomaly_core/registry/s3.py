"""The S3 store (AWS, MinIO, moto): conditional PUTs give create-only writes and compare-and-swap.

* create-only: ``put_object(IfNoneMatch="*")``; an existing key answers 412.
* compare-and-swap: ``put_object(IfMatch=<etag>)``; a changed object answers 412, a missing one 404.
* The endpoint comes from boto3's own configuration (``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL``,
  or the AWS config file), so MinIO and moto need no code here. With a custom endpoint botocore
  uses path-style addressing, which MinIO expects.
* Retries are bounded (botocore's "standard" mode) and every failure becomes a project exception;
  a down endpoint or refused credentials become ``StoreUnavailable`` naming the endpoint.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from ..errors import (
    AlreadyExists,
    Conflict,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    StoreError,
    StoreUnavailable,
)
from .store import validate_key, validate_prefix

_CREDENTIAL_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "ExpiredToken",
                     "InvalidToken", "TokenRefreshRequired", "AuthorizationHeaderMalformed", "403"}
_NOT_FOUND_CODES = {"NoSuchKey", "404", "NotFound"}


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> ``("bucket", "some/prefix")``."""
    if not uri.lower().startswith("s3://"):
        raise InvalidInput(f"not an s3:// URI: {uri!r}")
    bucket, _, prefix = uri[5:].partition("/")
    if not bucket:
        raise InvalidInput(f"s3 store URI needs a bucket (s3://bucket/prefix), got {uri!r}")
    prefix = prefix.strip("/")
    if prefix:
        validate_key(prefix)
    return bucket, prefix


def translate_client_error(err: Exception, key: str, endpoint: str, *,
                           on_412: type[StoreError] = PreconditionFailed) -> StoreError:
    """Turn a botocore ``ClientError`` into the project exception for the situation.

    The caller raises the result ``from err`` so the original stays available as ``__cause__``.
    """
    response: dict[str, Any] = getattr(err, "response", {}) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code == "PreconditionFailed" or status == 412:
        return on_412(f"precondition failed on key {key!r} at {endpoint}")
    if code in _NOT_FOUND_CODES:
        return NotFound(f"no object {key!r} at {endpoint}")
    if code == "NoSuchBucket":
        # Not a missing key: the registry must not read it as "no such version".
        return StoreUnavailable(f"bucket does not exist at S3 endpoint {endpoint} (key {key!r})")
    if code == "ConditionalRequestConflict" or status == 409:
        return Conflict(f"concurrent write to key {key!r} at {endpoint}; retry")
    if code in _CREDENTIAL_CODES or status == 403:
        return StoreUnavailable(f"S3 endpoint {endpoint} refused the credentials ({code or status}); "
                                "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_PROFILE")
    if isinstance(status, int) and status >= 500:
        return StoreUnavailable(f"S3 endpoint {endpoint} failed ({code or status}) on key {key!r} "
                                "after retries")
    return StoreError(f"S3 error {code or status} on key {key!r} at {endpoint}")


class S3Store:
    """Objects under ``s3://bucket/prefix``; keys are relative to the prefix."""

    def __init__(self, uri: str, *, session: Any = None) -> None:
        """``session``: a ``boto3.session.Session`` to build the client from (default: a new one)."""
        self.bucket, self.prefix = parse_s3_uri(uri)
        self.uri = f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"
        self._session = session
        self._client: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"S3Store({self.uri!r})"

    # -- client and errors --------------------------------------------------------------------------

    @property
    def client(self) -> Any:
        """The boto3 client, built on first use (not in the constructor) and then shared."""
        with self._lock:
            if self._client is None:
                import boto3
                from botocore.config import Config

                attempts = int(os.environ.get("AWS_MAX_ATTEMPTS") or 3)
                config = Config(retries={"total_max_attempts": attempts, "mode": "standard"},
                                connect_timeout=float(os.environ.get("ANOMALY_S3_CONNECT_TIMEOUT", 3)),
                                read_timeout=float(os.environ.get("ANOMALY_S3_READ_TIMEOUT", 30)),
                                max_pool_connections=32)
                self._client = (self._session or boto3.session.Session()).client("s3", config=config)
            return self._client

    @property
    def endpoint(self) -> str:
        return str(self.client.meta.endpoint_url)

    def _call(self, method: str, key: str, *, on_412: type[StoreError] = PreconditionFailed,
              **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        try:
            return getattr(self.client, method)(Bucket=self.bucket, **kwargs)
        except ClientError as err:
            raise translate_client_error(err, key, self.endpoint, on_412=on_412) from err
        except NoCredentialsError as err:
            raise StoreUnavailable(f"no AWS credentials for S3 endpoint {self.endpoint}; set "
                                   "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE") from err
        except BotoCoreError as err:  # connection refused, DNS, timeouts: after botocore's retries
            raise StoreUnavailable(f"S3 endpoint {self.endpoint} unreachable for {self.uri}: {err}") from err

    def _full(self, key: str) -> str:
        validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _relative(self, full: str) -> str:
        return full[len(self.prefix) + 1:] if self.prefix else full

    # -- the Store protocol -------------------------------------------------------------------------

    def get(self, key: str) -> tuple[bytes, str]:
        response = self._call("get_object", key, Key=self._full(key))
        from botocore.exceptions import BotoCoreError

        try:
            body = response["Body"].read()
        except BotoCoreError as err:  # the connection dropped mid-body
            raise StoreUnavailable(f"S3 endpoint {self.endpoint} dropped the read of {key!r}: {err}") from err
        return body, str(response["ETag"])

    def head(self, key: str) -> str | None:
        try:
            return str(self._call("head_object", key, Key=self._full(key))["ETag"])
        except NotFound:
            return None

    def create(self, key: str, body: bytes) -> str:
        response = self._call("put_object", key, on_412=AlreadyExists, Key=self._full(key), Body=body,
                              IfNoneMatch="*")
        return str(response["ETag"])

    def replace(self, key: str, body: bytes, *, if_match: str) -> str:
        response = self._call("put_object", key, Key=self._full(key), Body=body, IfMatch=if_match)
        return str(response["ETag"])

    def _pages(self, prefix: str, **kwargs: Any) -> Any:
        prefix = validate_prefix(prefix)
        full = f"{self.prefix}/{prefix}" if self.prefix else prefix
        token: str | None = None
        while True:
            extra = {"ContinuationToken": token} if token else {}
            try:
                page = self._call("list_objects_v2", prefix or "/", Prefix=full, **kwargs, **extra)
            except NotFound as err:  # a listing has no missing key: this is not an S3 bucket
                raise StoreUnavailable(f"S3 endpoint {self.endpoint} answered 404 to a listing of bucket "
                                       f"{self.bucket!r}: wrong endpoint, or not an S3 service") from err
            yield page
            if not page.get("IsTruncated"):
                return
            token = page["NextContinuationToken"]

    def list(self, prefix: str) -> list[str]:
        pages = self._pages(prefix)
        return sorted(self._relative(obj["Key"]) for page in pages for obj in page.get("Contents", []))

    def children(self, prefix: str) -> list[str]:
        names: set[str] = set()
        for page in self._pages(prefix, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                names.add(common["Prefix"].rstrip("/").rsplit("/", 1)[-1])
            for obj in page.get("Contents", []):
                names.add(obj["Key"].rsplit("/", 1)[-1])
        return sorted(names)
