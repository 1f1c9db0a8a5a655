"""The narrow storage contract the registry is built on, and the choice of backend by URI.

A store holds immutable or compare-and-swapped byte objects under relative POSIX keys. Two
backends implement it: :class:`~anomaly_core.registry.local.LocalStore` (a folder) and
:class:`~anomaly_core.registry.s3.S3Store` (boto3, any S3-compatible endpoint). Both speak only the
project's exceptions, so the registry never sees ``OSError`` or ``botocore`` errors.
"""

from __future__ import annotations

import os
import re
from typing import Protocol, runtime_checkable
from urllib.parse import urlparse

from ..errors import InvalidInput

KNOWN_SCHEMES = ("file", "s3")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


@runtime_checkable
class Store(Protocol):
    """Byte objects under keys like ``models/telemetry/versions/3/manifest.json``.

    * ``create`` is create-only (never overwrites); ``replace`` is compare-and-swap on the etag.
    * A reader never sees a partially written object.
    * Errors: ``NotFound``, ``AlreadyExists``, ``PreconditionFailed``, ``Conflict``,
      ``StoreUnavailable`` (all from :mod:`anomaly_core.errors`).
    """

    uri: str

    def get(self, key: str) -> tuple[bytes, str]:
        """``(body, etag)``; ``NotFound`` when the key does not exist."""
        ...

    def head(self, key: str) -> str | None:
        """The etag of ``key``, or ``None`` when it does not exist (cheap: for polling)."""
        ...

    def create(self, key: str, body: bytes) -> str:
        """Write ``key`` only if it does not exist; return its etag. ``AlreadyExists`` otherwise."""
        ...

    def replace(self, key: str, body: bytes, *, if_match: str) -> str:
        """Overwrite ``key`` only if its etag is still ``if_match``; ``PreconditionFailed`` otherwise."""
        ...

    def list(self, prefix: str) -> list[str]:
        """Every key under ``prefix`` (a folder-like key), sorted."""
        ...

    def children(self, prefix: str) -> list[str]:
        """Names one level below ``prefix`` (files and folders), sorted."""
        ...


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe relative POSIX key, else raise ``InvalidInput``.

    Shared by both backends so that nothing a caller passes can name an object outside the store
    root: no absolute paths, no ``..`` or ``.`` segments, no empty segments, no backslashes or NUL,
    and no segment starting with ``.`` (the local store keeps its temporary and lock files there).
    """
    if not isinstance(key, str) or not key:
        raise InvalidInput(f"store key must be a non-empty string, got {key!r}")
    if key.startswith("/") or "\\" in key or "\x00" in key:
        raise InvalidInput(f"store key must be a relative POSIX path, got {key!r}")
    for segment in key.split("/"):
        if not segment:
            raise InvalidInput(f"store key has an empty segment: {key!r}")
        if segment.startswith("."):
            raise InvalidInput(f"store key segment {segment!r} starts with '.' in {key!r}")
    return key


def validate_prefix(prefix: str) -> str:
    """A listing prefix: ``""`` (the root) or a valid key, returned with one trailing ``/``."""
    stripped = prefix.rstrip("/")
    return "" if not stripped else validate_key(stripped) + "/"


def open_store(uri: str | os.PathLike[str]) -> Store:
    """Pick a backend by scheme: a plain path or ``file://`` -> local folder, ``s3://`` -> S3."""
    if isinstance(uri, os.PathLike):
        uri = os.fspath(uri)
    if not isinstance(uri, str) or not uri.strip():
        raise InvalidInput(f"store URI must be a non-empty string, got {uri!r}")
    match = _SCHEME.match(uri)
    if match is None:
        from .local import LocalStore

        return LocalStore(uri)
    scheme = match.group(1).lower()
    if scheme == "file":
        parsed = urlparse(uri)
        if parsed.netloc not in ("", "localhost"):
            raise InvalidInput(f"file:// store URI must name a local path (file:///path), got {uri!r}")
        from .local import LocalStore

        return LocalStore(parsed.path)
    if scheme == "s3":
        from .s3 import S3Store

        return S3Store(uri)
    raise InvalidInput(f"unknown store URI scheme {scheme!r} in {uri!r}; known: "
                       f"{', '.join(s + '://' for s in KNOWN_SCHEMES)} or a plain folder path")
