"""Scoring: ``POST /v1/score`` and ``GET /v1/model``."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime

import numpy as np
from fastapi import APIRouter, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from ...errors import InvalidInput
from ..deps import HolderDep, MetricsDep, ScoreLogDep, SettingsDep
from ..feedback import window_hashes
from ..holder import ModelHolder, ServedModel
from ..metrics import ServingMetrics
from ..payload import PayloadError, decode_windows
from ..schemas import ModelInfo, ScoreRequest, ScoreResponse
from ..score_log import ScoreLog
from ..settings import ServingSettings
from . import error_responses

router = APIRouter(prefix="/v1", tags=["scoring"])

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
#: bodies up to this size are scored on the event loop: for a few windows (about 1 ms of work) the
#: hand-off to a worker thread costs more than the work; bigger ones go to the thread pool so the
#: loop keeps serving other requests meanwhile
_INLINE_MAX_BYTES = 64 * 1024

# The body is read raw and validated in payload.py (pyarrow + numpy); the schema documents the same contract.
_SCORE_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": ScoreRequest.model_json_schema()},
        "application/x-npy": {"schema": {"type": "string", "format": "binary",
                                         "description": "One .npy array (numpy.save) of shape N x T x F"}},
    },
}


def _request_id(request: Request) -> str:
    given = request.headers.get("x-request-id")
    return given if given and _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def _no_model(holder: ModelHolder) -> HTTPException:
    return HTTPException(503, detail=f"no model is loaded yet: {holder.readiness()[1]}")


def score_body(body: bytes, content_type: str | None, served: ServedModel, settings: ServingSettings,
               metrics: ServingMetrics, score_log: ScoreLog | None, request_id: str) -> bytes:
    """Decode, score, check, count and log one request; the JSON answer (blocking: see ``_INLINE_MAX_BYTES``)."""
    X = decode_windows(body, content_type, window_length=served.window_length, n_features=served.n_features,
                       max_windows=settings.max_windows)
    model = served.model
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is checked below and answered with a 422
            scores = model.score(X)
    except InvalidInput as err:  # the detector's own checks (already covered by decode_windows)
        raise PayloadError(422, str(err)) from None
    bad = ~np.isfinite(scores)
    if bad.any():  # e.g. finite inputs near 1e30 whose squares overflow float32
        first = np.flatnonzero(bad)[:5].tolist()
        raise PayloadError(422, f"{int(bad.sum())} window(s) give a non-finite score (first: {first}): their values "
                                f"are too far outside what version {model.version} was trained on; check units "
                                "or clip the inputs")
    flags = scores > model.threshold
    metrics.observe_scores(scores, flags)
    if score_log is not None:
        score_log.submit(version=model.version, alias=served.alias, threshold=model.threshold,
                         request_id=request_id, scores=scores, flags=flags, hashes=window_hashes(X))
    return json.dumps({"model_version": model.version, "threshold": model.threshold, "scores": scores.tolist(),
                       "is_anomaly": flags.tolist(), "request_id": request_id}, allow_nan=False).encode()


@router.post("/score", response_model=ScoreResponse, openapi_extra={"requestBody": _SCORE_BODY},
             responses=error_responses(413, 415, 422, 503), summary="Score windows with the served model")
async def score(request: Request, holder: HolderDep, settings: SettingsDep, metrics: MetricsDep,
                score_log: ScoreLogDep) -> Response:
    served = holder.served  # this request uses this model to the end, whatever the poller swaps in meanwhile
    if served is None:
        raise _no_model(holder)
    body = await request.body()
    request_id = _request_id(request)
    args = (body, request.headers.get("content-type"), served, settings, metrics, score_log, request_id)
    try:
        content = score_body(*args) if len(body) <= _INLINE_MAX_BYTES else await run_in_threadpool(score_body, *args)
    except PayloadError as err:
        raise HTTPException(err.status, detail=err.detail) from None
    return Response(content=content, media_type="application/json",
                    headers={"X-Model-Version": served.version, "X-Request-ID": request_id})


@router.get("/model", response_model=ModelInfo, responses=error_responses(503), summary="The served model")
async def model_info(holder: HolderDep) -> ModelInfo:
    served = holder.served
    if served is None:
        raise _no_model(holder)
    model = served.model
    return ModelInfo(name=model.name, alias=served.alias, version=model.version, threshold=model.threshold,
                     loaded_at=datetime.fromtimestamp(served.loaded_at, UTC).isoformat(timespec="seconds"),
                     manifest_digest=model.manifest_digest, model_type=model.metadata.get("model_type"),
                     window_length=served.window_length, n_features=served.n_features,
                     features=served.feature_names, registered_at=model.metadata.get("registered_at"))
