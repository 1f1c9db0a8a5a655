"""Settings read from the environment at call time (never at import)."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_STORE_URI = "var/store"
DEFAULT_MODEL_NAME = "telemetry"


@dataclass(frozen=True)
class Settings:
    """Process-wide settings; every field has an environment variable."""

    store_uri: str = DEFAULT_STORE_URI  # ANOMALY_STORE_URI
    model_name: str = DEFAULT_MODEL_NAME  # ANOMALY_MODEL_NAME

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            store_uri=env.get("ANOMALY_STORE_URI") or DEFAULT_STORE_URI,
            model_name=env.get("ANOMALY_MODEL_NAME") or DEFAULT_MODEL_NAME,
        )
