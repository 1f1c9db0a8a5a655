"""Pure ASGI middleware (no per-request task or body copy, unlike ``BaseHTTPMiddleware``)."""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .metrics import ServingMetrics

#: paths counted under their own name even when no route ran (an early 413); anything else is "other"
KNOWN_PATHS = frozenset({"/v1/score", "/v1/model", "/v1/reload", "/v1/feedback", "/healthz", "/readyz", "/metrics"})


def endpoint_label(scope: Scope) -> str:
    """The route template, so the label set stays bounded whatever paths clients send."""
    path = getattr(scope.get("route"), "path", None)
    if path is None:
        path = scope.get("path", "")
        return path if path in KNOWN_PATHS else "other"
    return path


class RequestMetricsMiddleware:
    """Counts every response by endpoint and status and times it, errors (and 500s) included."""

    def __init__(self, app: ASGIApp, metrics: ServingMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before responding

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            endpoint = endpoint_label(scope)
            self.metrics.requests.labels(endpoint=endpoint, status=str(status)).inc()
            self.metrics.duration.labels(endpoint=endpoint).observe(time.perf_counter() - started)


class BodyLimitMiddleware:
    """413 for a body over ``max_bytes``: at once from Content-Length, else as soon as the stream passes it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _detail(self, size: str) -> str:
        return f"request body is {size}; the limit is {self.max_bytes} bytes (ANOMALY_MAX_BODY_BYTES)"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await _send_json(send, 400, {"detail": "invalid Content-Length header"})
                return
            if int(declared) > self.max_bytes:
                await _send_json(send, 413, {"detail": self._detail(f"{int(declared)} bytes")})
                return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:  # chunked upload without a length: stop reading here
                    raise HTTPException(413, detail=self._detail(f"over {self.max_bytes} bytes"))
            return message

        await self.app(scope, limited, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1").strip()
    return None


async def _send_json(send: Send, status: int, content: dict[str, Any]) -> None:
    body = json.dumps(content).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
