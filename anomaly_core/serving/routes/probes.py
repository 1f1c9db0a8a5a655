"""Probes: liveness, readiness and the Prometheus exposition."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from ..deps import HolderDep, MetricsDep
from ..metrics import CONTENT_TYPE_LATEST
from ..schemas import HealthResponse, ReadyResponse
from . import error_responses

router = APIRouter(tags=["probes"])


@router.get("/healthz", response_model=HealthResponse, summary="The process is up")
async def healthz() -> HealthResponse:
    return HealthResponse()


@router.get("/readyz", response_model=ReadyResponse, responses=error_responses(503),
            summary="200 only while a verified model is loaded")
async def readyz(holder: HolderDep) -> ReadyResponse | JSONResponse:
    served = holder.served
    if served is None:
        return JSONResponse(status_code=503, content={"detail": holder.readiness()[1]})
    return ReadyResponse(version=served.version, alias=served.alias)


@router.get("/metrics", response_class=Response, summary="Prometheus text exposition",
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"}})
async def metrics(metrics: MetricsDep) -> Response:
    return Response(content=metrics.render(), media_type=CONTENT_TYPE_LATEST)
