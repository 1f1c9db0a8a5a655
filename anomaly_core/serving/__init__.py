"""The serving component: a FastAPI app that scores windows with the version an alias points at.

>>> from anomaly_core.serving import ServingSettings, create_app
>>> app = create_app(ServingSettings.from_env(store_uri="/srv/store"))   # run with uvicorn

Layout: ``app`` (factory + lifespan), ``routes/`` (probes, scoring, admin), ``deps`` (dependencies,
token check), ``schemas`` (request/response models), ``payload`` (fast body decoding), ``holder``
(atomic model reference + alias poller), ``metrics``, ``score_log``, ``feedback``, ``settings``.
"""

from __future__ import annotations

from .app import create_app
from .settings import ServingSettings

__all__ = ["ServingSettings", "create_app"]
