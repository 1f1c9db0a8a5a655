"""Small encoding helpers shared by versions and aliases: canonical JSON, digests, timestamps, actor."""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import socket
from datetime import UTC, datetime
from typing import Any

from ..errors import IntegrityError, InvalidInput


def _default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):  # numpy scalars and arrays, without importing numpy here
        return obj.tolist()
    if isinstance(obj, set | frozenset):
        return sorted(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def dump_json(obj: Any) -> bytes:
    """Canonical bytes: sorted keys, so equal objects give equal bytes (and equal etags)."""
    try:
        return (json.dumps(obj, default=_default, sort_keys=True, indent=1, allow_nan=False)
                + "\n").encode()
    except (TypeError, ValueError) as err:
        raise InvalidInput(f"cannot store as JSON: {err}") from err


def load_json(body: bytes, what: str) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise IntegrityError(f"{what} is not valid JSON: {err}") from err


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def now_iso() -> str:
    """UTC, microseconds: sorts as text and as time."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def default_actor() -> str:
    """``ANOMALY_ACTOR`` if set, else ``user@host`` (containers may have no user name)."""
    if os.environ.get("ANOMALY_ACTOR"):
        return os.environ["ANOMALY_ACTOR"]
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"
