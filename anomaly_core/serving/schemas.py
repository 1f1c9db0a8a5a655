"""Request and response models of the serving API, named by role.

Every model is strict (``true`` and ``"1.0"`` are not numbers, unknown keys are refused). The
score request is documented here but validated with numpy in :mod:`.payload` (pydantic per-element
validation of 256 x 30 x 10 numbers costs more than the model): both enforce the same contract.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

FiniteNumber = Annotated[float, Field(strict=True, allow_inf_nan=False)]
RequestId = Annotated[str, Field(pattern=r"^[A-Za-z0-9._:-]{1,128}$", strict=True)]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class ScoreRequest(_Strict):
    """``POST /v1/score`` body (``application/json``); an ``application/x-npy`` body holds the same array."""

    windows: list[list[list[FiniteNumber]]] = Field(
        min_length=1,
        description="Raw (unscaled) windows, N x T x F: N windows of T time steps of F features, in the "
                    "model's feature order (see GET /v1/model). Finite numbers only; at most "
                    "ANOMALY_MAX_WINDOWS windows.",
        examples=[[[[0.1, -0.3], [0.2, -0.1], [0.0, 0.4]]]],
    )


class ScoreResponse(BaseModel):
    """Scores of one request, in request order, and the version that computed them."""

    model_version: str = Field(description="Also sent as the X-Model-Version header")
    threshold: float = Field(description="is_anomaly = score > threshold")
    scores: list[float] = Field(description="One finite float per window; higher = more anomalous")
    is_anomaly: list[bool]
    request_id: str = Field(description="Also sent as X-Request-ID; the key for feedback and the score log")


class ErrorResponse(BaseModel):
    """Every 4xx/5xx answer: one sentence naming the problem (the input is never echoed)."""

    detail: str


class HealthResponse(BaseModel):
    status: Literal["ok"] = "ok"


class ReadyResponse(BaseModel):
    status: Literal["ready"] = "ready"
    version: str
    alias: str


class ModelInfo(BaseModel):
    """``GET /v1/model``: what is being served."""

    name: str
    alias: str
    version: str
    threshold: float
    loaded_at: str = Field(description="UTC ISO-8601 time of the swap")
    manifest_digest: str = Field(description="SHA-256 of the version's manifest.json")
    model_type: str | None
    window_length: int
    n_features: int
    features: list[str]
    registered_at: str | None = None


class ReloadRequest(_Strict):
    """``POST /v1/reload`` body (optional)."""

    force: bool = Field(False, description="Ignore the cached alias etag and the failure back-off")


class ReloadResponse(BaseModel):
    result: Literal["swapped", "unchanged", "failed", "not_set", "store_error"]
    version: str | None = Field(description="Version served after the reload")
    previous_version: str | None
    target_version: str | None = Field(description="Version the alias points at")
    detail: str
    seconds: float


class FeedbackItem(_Strict):
    """One triage label: a scored window named by request id (+ index) or by its hash."""

    request_id: RequestId | None = None
    window_index: Annotated[int, Field(ge=0, strict=True)] | None = Field(
        None, description="Index in that request's windows; omitted: the label applies to every window")
    window_hash: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", strict=True)] | None = Field(
        None, description="sha256 hex of the window as little-endian float32 in C order "
                          "(hashlib.sha256(np.asarray(w, '<f4').tobytes()).hexdigest())")
    label: Literal["anomaly", "nominal"]
    note: Annotated[str, Field(max_length=1000, strict=True)] | None = None

    @model_validator(mode="after")
    def _names_a_window(self) -> FeedbackItem:
        if self.request_id is None and self.window_hash is None:
            raise ValueError("each item needs a request_id or a window_hash")
        if self.window_index is not None and self.request_id is None:
            raise ValueError("window_index needs the request_id it indexes into")
        return self


class FeedbackRequest(_Strict):
    """``POST /v1/feedback`` body."""

    items: list[FeedbackItem] = Field(min_length=1, max_length=10_000)
    labeller: Annotated[str, Field(max_length=128, strict=True)] | None = Field(
        None, description="Who triaged (free text, recorded with the labels)")


class FeedbackResponse(BaseModel):
    stored: int
    key: str = Field(description="Store key of the feedback object")
