"""Routers, one per resource: probes (health, readiness, metrics), scoring, admin (reload, feedback)."""

from __future__ import annotations

from typing import Any

from ..schemas import ErrorResponse

_DESCRIPTIONS = {
    401: "Missing or wrong API token",
    403: "Endpoint disabled: no API token is configured on the server",
    409: "The alias points at a version that cannot be served",
    413: "Body or batch over the configured limit",
    415: "Unsupported content type",
    422: "Invalid input; the detail names the problem",
    503: "No verified model loaded yet, or the store is unavailable",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for error codes, all with the one-sentence ``ErrorResponse`` body."""
    return {code: {"model": ErrorResponse, "description": _DESCRIPTIONS[code]} for code in codes}
