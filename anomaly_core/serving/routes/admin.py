"""Admin: ``POST /v1/reload`` and ``POST /v1/feedback``, both behind the bearer token (router dependency)."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ...errors import StoreError
from ..deps import FeedbackDep, HolderDep, MetricsDep, require_api_token
from ..schemas import FeedbackRequest, FeedbackResponse, ReloadRequest, ReloadResponse
from . import error_responses

router = APIRouter(prefix="/v1", tags=["admin"], dependencies=[Depends(require_api_token)],
                   responses=error_responses(401, 403))

_RELOAD_STATUS = {"swapped": 200, "unchanged": 200, "failed": 409, "not_set": 409, "store_error": 503}


@router.post("/reload", response_model=ReloadResponse, responses=error_responses(409, 503),
             summary="Check the alias now and swap in its version if it changed")
async def reload(holder: HolderDep, body: ReloadRequest | None = None) -> JSONResponse:
    outcome = await run_in_threadpool(holder.check, force=bool(body and body.force))
    answer = ReloadResponse(result=outcome.result, version=outcome.version, previous_version=outcome.previous_version,
                            target_version=outcome.target_version, detail=outcome.detail or outcome.result,
                            seconds=round(outcome.seconds, 4))
    return JSONResponse(status_code=_RELOAD_STATUS[outcome.result], content=answer.model_dump())


@router.post("/feedback", status_code=201, response_model=FeedbackResponse, responses=error_responses(422, 503),
             summary="Store triage labels for scored windows")
async def feedback(body: FeedbackRequest, store: FeedbackDep, holder: HolderDep,
                   metrics: MetricsDep) -> FeedbackResponse:
    served = holder.served
    try:
        key = await run_in_threadpool(store.write, body.items, labeller=body.labeller,
                                      served_version=served.version if served else None)
    except StoreError as err:  # never drop an operator's label silently: say so, they can retry
        raise HTTPException(503, detail=f"feedback was not stored: {err}; retry later") from None
    for label, n in Counter(item.label for item in body.items).items():
        metrics.feedback.labels(label=label).inc(n)
    return FeedbackResponse(stored=len(body.items), key=key)
