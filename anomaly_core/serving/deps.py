"""FastAPI dependencies: the app's collaborators (from ``app.state``, set in the lifespan) and the token check.

All are ``async def`` although none awaits: FastAPI runs a plain ``def`` dependency in the thread
pool, and four such hops per request cost more than scoring a window.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .feedback import FeedbackStore
from .holder import ModelHolder
from .metrics import ServingMetrics
from .score_log import ScoreLog
from .settings import ENV_VARS, ServingSettings


async def get_settings(request: Request) -> ServingSettings:
    return request.app.state.settings


async def get_metrics(request: Request) -> ServingMetrics:
    return request.app.state.metrics


async def get_holder(request: Request) -> ModelHolder:
    return request.app.state.holder


async def get_score_log(request: Request) -> ScoreLog | None:
    return request.app.state.score_log


async def get_feedback_store(request: Request) -> FeedbackStore:
    store = request.app.state.feedback
    if store is None:
        raise HTTPException(503, detail="feedback is unavailable: the registry given to the app has no store")
    return store


SettingsDep = Annotated[ServingSettings, Depends(get_settings)]
MetricsDep = Annotated[ServingMetrics, Depends(get_metrics)]
HolderDep = Annotated[ModelHolder, Depends(get_holder)]
ScoreLogDep = Annotated[ScoreLog | None, Depends(get_score_log)]
FeedbackDep = Annotated[FeedbackStore, Depends(get_feedback_store)]

_bearer = HTTPBearer(auto_error=False, scheme_name="ApiToken",
                     description=f"The server's {ENV_VARS['api_token']}, sent as 'Authorization: Bearer <token>'")
CredentialsDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def require_api_token(settings: SettingsDep, credentials: CredentialsDep) -> None:
    """403 when no token is configured (the endpoint is off), 401 when the request's token is missing or wrong."""
    var = ENV_VARS["api_token"]
    if settings.api_token is None:
        raise HTTPException(403, detail=f"this endpoint is disabled because no API token is configured; set {var} "
                                        "on the server and send 'Authorization: Bearer <token>'")
    if credentials is None:
        raise HTTPException(401, detail="missing 'Authorization: Bearer <token>' header",
                            headers={"WWW-Authenticate": "Bearer"})
    # constant-time comparison: response timing must not reveal how much of a guess was right
    if not secrets.compare_digest(credentials.credentials.encode(), settings.api_token.encode()):
        raise HTTPException(401, detail=f"invalid API token (it must equal the server's {var})",
                            headers={"WWW-Authenticate": "Bearer"})
