"""The app factory: ``create_app(settings)`` builds a fresh app; the lifespan starts the poller and the log.

Nothing is built at import: each call owns its metrics registry, model holder and score log, so tests
can build many apps in one process and ``anomaly serve`` builds exactly one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from ..registry import open_registry
from .deps import require_api_token
from .feedback import FeedbackStore
from .holder import ModelHolder, ModelSource
from .metrics import ServingMetrics
from .middleware import BodyLimitMiddleware, RequestMetricsMiddleware
from .routes import admin, probes, scoring
from .score_log import ScoreLog
from .settings import ServingSettings

log = logging.getLogger(__name__)

_MAX_ERRORS = 5


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 naming each problem by location, never echoing the input (FastAPI's default does, and a body
    holding NaN then cannot be serialised: the 422 becomes a 500)."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    parts = []
    for err in errors[:_MAX_ERRORS]:
        if err.get("type") == "json_invalid":  # loc is a character offset here, not a field
            reason = str((err.get("ctx") or {}).get("error", "JSON decode error"))[:200]
            return JSONResponse(status_code=422, content={"detail": f"body is not valid JSON: {reason}"})
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        parts.append(f"{loc}: {str(err.get('msg', 'invalid'))[:200]}")
    more = f" (and {len(errors) - _MAX_ERRORS} more)" if len(errors) > _MAX_ERRORS else ""
    return JSONResponse(status_code=422, content={"detail": "invalid request: " + "; ".join(parts) + more})


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(status_code=500, content={"detail": "internal error; the server log has the details"})


def _package_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("anomaly-platform")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def create_app(settings: ServingSettings | None = None, *, registry: ModelSource | None = None) -> FastAPI:
    """A serving app for ``settings`` (default: read from the environment now).

    ``registry``: an already opened :class:`~anomaly_core.registry.Registry` (or a test double);
    default ``open_registry(settings.store_uri)``. The score log and feedback need its ``store``.
    """
    settings = settings or ServingSettings.from_env()
    metrics = ServingMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        source: Any = registry if registry is not None else open_registry(settings.store_uri)
        store = getattr(source, "store", None)
        holder = ModelHolder(source, name=settings.model_name, alias=settings.alias, metrics=metrics,
                             poll_interval_s=settings.poll_interval_s, backoff_max_s=settings.reload_backoff_max_s)
        score_log = None
        if settings.score_log and store is not None:
            score_log = ScoreLog(store, name=settings.model_name, metrics=metrics,
                                 flush_interval_s=settings.score_log_flush_s,
                                 batch_rows=settings.score_log_batch_rows, max_rows=settings.score_log_max_rows)
        app.state.holder = holder
        app.state.score_log = score_log
        app.state.feedback = FeedbackStore(store, settings.model_name) if store is not None else None
        log.info("serving %s (alias %s) from %s; settings %s", settings.model_name, settings.alias,
                 getattr(store, "uri", source), settings.public())
        holder.start()  # first poll at once, in its thread: /healthz answers while the model loads
        if score_log is not None:
            score_log.start()
        try:
            yield
        finally:  # blocking joins off the event loop
            await asyncio.to_thread(holder.stop)
            if score_log is not None:
                await asyncio.to_thread(score_log.close)

    app = FastAPI(title="anomaly-serving", version=_package_version(), lifespan=lifespan,
                  description="Scores telemetry windows with the model version an alias points at; "
                              "follows the alias and hot-swaps. See docs/serving.md.")
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.holder = app.state.score_log = app.state.feedback = None
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _internal_error)
    app.include_router(probes.router)
    scoring_auth = [Depends(require_api_token)] if settings.require_token_for_scoring else []
    app.include_router(scoring.router, dependencies=scoring_auth)
    app.include_router(admin.router)
    # Added last = outermost: requests refused for size are still counted and timed.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics)
    return app
