"""Serving settings: one frozen dataclass, read from the environment when the app is built (never at import)."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..config import DEFAULT_MODEL_NAME, DEFAULT_STORE_URI
from ..errors import InvalidInput
from ..registry.layout import check_alias, check_name

#: environment variable of every field (documented in docs/serving.md)
ENV_VARS: dict[str, str] = {
    "store_uri": "ANOMALY_STORE_URI",
    "model_name": "ANOMALY_MODEL_NAME",
    "alias": "ANOMALY_SERVE_ALIAS",
    "poll_interval_s": "ANOMALY_POLL_INTERVAL_S",
    "max_windows": "ANOMALY_MAX_WINDOWS",
    "max_body_bytes": "ANOMALY_MAX_BODY_BYTES",
    "api_token": "ANOMALY_API_TOKEN",
    "require_token_for_scoring": "ANOMALY_REQUIRE_TOKEN_FOR_SCORING",
    "score_log": "ANOMALY_SCORE_LOG",
    "score_log_flush_s": "ANOMALY_SCORE_LOG_FLUSH_S",
    "score_log_batch_rows": "ANOMALY_SCORE_LOG_BATCH_ROWS",
    "score_log_max_rows": "ANOMALY_SCORE_LOG_MAX_ROWS",
    "reload_backoff_max_s": "ANOMALY_RELOAD_BACKOFF_MAX_S",
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class ServingSettings:
    """Everything the serving component can be told; validated on construction.

    Build it with :meth:`from_env` (what ``create_app`` and ``anomaly serve`` do) or directly in tests.
    """

    store_uri: str = DEFAULT_STORE_URI
    model_name: str = DEFAULT_MODEL_NAME
    alias: str = "production"
    #: seconds between two polls of the alias object (one HEAD/stat each)
    poll_interval_s: float = 2.0
    #: windows per /v1/score request; more answer 413
    max_windows: int = 2048
    #: request body limit for every endpoint; a larger body answers 413 before it is read in full
    max_body_bytes: int = 16 * 1024 * 1024
    #: bearer token for /v1/reload and /v1/feedback; None disables them (403)
    api_token: str | None = None
    require_token_for_scoring: bool = False
    #: write scores to the store as Parquet partitions (for the drift check)
    score_log: bool = True
    score_log_flush_s: float = 10.0
    #: a flush starts early once this many rows are buffered
    score_log_batch_rows: int = 10_000
    #: the buffer bound: rows beyond it (store down for long) are dropped and counted
    score_log_max_rows: int = 200_000
    #: a version that failed to load is retried after poll_interval_s, doubling up to this
    reload_backoff_max_s: float = 60.0

    def __post_init__(self) -> None:
        check_name(self.model_name)
        check_alias(self.alias)
        if not isinstance(self.store_uri, str) or not self.store_uri.strip():
            raise InvalidInput(f"store URI must be a non-empty string, got {self.store_uri!r}")
        for name in ("poll_interval_s", "score_log_flush_s", "reload_backoff_max_s"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
                raise InvalidInput(f"{name} ({ENV_VARS[name]}) must be a positive number of seconds, got {value!r}")
        for name in ("max_windows", "max_body_bytes", "score_log_batch_rows", "score_log_max_rows"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInput(f"{name} ({ENV_VARS[name]}) must be a positive integer, got {value!r}")
        if self.api_token is not None and not self.api_token.strip():
            raise InvalidInput(f"{ENV_VARS['api_token']} is set but empty; unset it to disable the admin endpoints")
        if self.require_token_for_scoring and self.api_token is None:
            raise InvalidInput(f"{ENV_VARS['require_token_for_scoring']} is on but {ENV_VARS['api_token']} is not "
                               "set: nobody could score; set a token or turn the option off")

    @property
    def admin_enabled(self) -> bool:
        return self.api_token is not None

    def replace(self, **changes: Any) -> ServingSettings:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def public(self) -> dict[str, Any]:
        """The settings without the token, for logs."""
        values = dataclasses.asdict(self)
        values["api_token"] = "***" if self.api_token else None
        return values

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ServingSettings:
        """Read every field from its environment variable (unset or empty: the default); then ``overrides``."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            raw = env.get(ENV_VARS[field.name])
            if raw is None or not raw.strip():  # empty counts as unset (an empty token disables admin)
                continue
            values[field.name] = _parse(field.name, raw, field.default)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _parse(name: str, raw: str, default: Any) -> Any:
    var = ENV_VARS[name]
    if isinstance(default, bool):
        text = raw.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise InvalidInput(f"{var} must be one of 1/0, true/false, yes/no, on/off, got {raw!r}")
    if isinstance(default, int):
        try:
            return int(raw.strip())
        except ValueError:
            raise InvalidInput(f"{var} must be an integer, got {raw!r}") from None
    if isinstance(default, float):
        try:
            return float(raw.strip())
        except ValueError:
            raise InvalidInput(f"{var} must be a number, got {raw!r}") from None
    return raw.strip()
