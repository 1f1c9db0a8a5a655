"""Drift of the score distribution (and of input features) against a model version's reference.

Public API::

    score_drift(reference, current, threshold=..., expected_rate=...) -> {"n": ..., "score": ...}
    feature_drift(reference, current) -> {feature: statistics}
    decide(stats, policy) -> {"verdict", "reason", "fired", "rules"}
    run_drift(reference, current, out_dir) -> summary (also written as out_dir/summary.json,
                                                       next to Evidently's report.html / report.json)

Our statistics are computed on the full data (``stats``); Evidently only renders a sampled report
(``evidently_report``, imported lazily). See docs/drift.md for what the numbers mean.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidInput
from .features import as_feature_columns, feature_drift
from .inputs import DriftInput, load_input
from .policy import VERDICTS, Policy, decide
from .stats import alert_rate_test, quantiles, separation, sort_finite, two_sample

__all__ = ["VERDICTS", "DriftInput", "Policy", "decide", "feature_drift", "load_input", "run_drift",
           "score_drift"]

log = logging.getLogger(__name__)
SUMMARY_NAME = "summary.json"
SUMMARY_SCHEMA = "anomaly.drift.summary/1"


def score_drift(reference: Any, current: Any, *, threshold: float | None = None,
                expected_rate: float | None = None, bins: int = 10, default_alert_rate: float = 0.01,
                reference_labels: Any = None, current_labels: Any = None) -> dict[str, Any]:
    """Statistics of current scores against reference scores, on all finite values.

    Returns ``{"n": {"reference": counts, "current": counts}, "score": statistics or None}``; the counts
    include NaN/+inf/-inf, which are excluded from the statistics. ``score`` is None when a side has no
    finite value. Labels (0/1, aligned with the scores) add ``score.separation`` (AUC-ROC).
    """
    ref, ref_n = sort_finite(reference)
    cur, cur_n = sort_finite(current)
    out: dict[str, Any] = {"n": {"reference": ref_n.to_dict(), "current": cur_n.to_dict()}, "score": None}
    if ref.size == 0 or cur.size == 0:
        return out
    score: dict[str, Any] = two_sample(ref, cur, bins=bins).to_dict()
    score["alert_rate"] = alert_rate_test(ref, cur, threshold=threshold, expected_rate=expected_rate,
                                          default_rate=default_alert_rate)
    score["quantiles"] = {"reference": quantiles(ref), "current": quantiles(cur)}
    sep = _separation(reference, reference_labels, current, current_labels)
    if sep is not None:
        score["separation"] = sep
    out["score"] = score
    return out


def _separation(reference: Any, ref_labels: Any, current: Any, cur_labels: Any) -> dict[str, Any] | None:
    cur = separation(np.asarray(current), np.asarray(cur_labels)) if cur_labels is not None else None
    if cur is None:
        return None
    ref = separation(np.asarray(reference), np.asarray(ref_labels)) if ref_labels is not None else None
    if ref is not None:
        cur["reference_auc"] = ref["auc"]
        cur["auc_drop"] = ref["auc"] - cur["auc"]
    return cur


def _as_input(obj: Any, role: str) -> DriftInput:
    if isinstance(obj, DriftInput):
        return obj
    if isinstance(obj, str | os.PathLike):
        return load_input(obj)
    import pandas as pd

    if isinstance(obj, pd.DataFrame):
        scores = obj["score"].to_numpy(dtype=np.float64) if "score" in obj.columns else None
        labels = obj["label"].to_numpy() if scores is not None and "label" in obj.columns else None
        feats = as_feature_columns(obj.drop(columns=[c for c in ("score",) if c in obj.columns]))
        return DriftInput(source=f"<{role} DataFrame>", scores=scores, labels=labels, features=feats or None)
    arr = np.asarray(obj)
    if arr.ndim == 1:
        return DriftInput(source=f"<{role} scores>", scores=arr)
    if arr.ndim == 3:
        return DriftInput(source=f"<{role} windows>", features=as_feature_columns(arr))
    raise InvalidInput(f"{role}: expected scores (N,), windows (N, T, F), a table or a file, "
                       f"got shape {arr.shape}")


def _feature_counts(features: Mapping[str, np.ndarray]) -> dict[str, int]:
    """Rows of a feature-only input; ``finite`` is the fewest finite values of any feature."""
    return {"total": min(v.size for v in features.values()),
            "finite": min(int(np.isfinite(v).sum()) for v in features.values())}


def _non_finite_warnings(n: Mapping[str, Mapping[str, int]]) -> list[str]:
    out = []
    for side, c in n.items():
        excluded = c["total"] - c["finite"]
        if excluded:
            out.append(f"{side}: {excluded} of {c['total']} scores are not finite ({c['nan']} NaN, "
                       f"{c['posinf']} +inf, {c['neginf']} -inf) and were excluded from the statistics")
    return out


def _policy_threshold(policy: Policy, metric: str) -> float | None:
    for rule in policy.rules:
        for c in rule.when:
            if c.metric == metric and c.op in (">=", ">"):
                return c.value
    return None


def run_drift(reference: Any, current: Any, out_dir: str | os.PathLike[str], *,
              threshold: float | None = None, expected_rate: float | None = None,
              policy: Policy | None = None, reference_features: Any = None, current_features: Any = None,
              report: bool = True, sample_size: int = 10_000, seed: int = 0) -> dict[str, Any]:
    """Compare, decide, and write ``summary.json`` (+ Evidently ``report.html``/``report.json``).

    ``reference``/``current`` are file paths, :class:`DriftInput`, 1-D score arrays, windows
    ``(N, T, F)`` or DataFrames. Scores are compared when both sides have scores, features when both
    have features (``*_features`` add features to score inputs). Returns the summary dict.
    """
    t0 = time.perf_counter()
    policy = policy or Policy()
    ref_in, cur_in = _as_input(reference, "reference"), _as_input(current, "current")
    if reference_features is not None or current_features is not None:
        if reference_features is None or current_features is None:
            raise InvalidInput("feature drift needs reference and current features, got only one side")
        ref_f, cur_f = _as_input(reference_features, "reference"), _as_input(current_features, "current")
        for f in (ref_f, cur_f):
            if not f.features:
                raise InvalidInput(f"{f.source}: no feature columns for feature drift")
        # Copies, so a caller's DriftInput is not changed.
        ref_in = replace(ref_in, features=ref_f.features, notes=[*ref_in.notes, *ref_f.notes])
        cur_in = replace(cur_in, features=cur_f.features, notes=[*cur_in.notes, *cur_f.notes])
    do_scores = ref_in.scores is not None and cur_in.scores is not None
    do_features = ref_in.features is not None and cur_in.features is not None
    if not (do_scores or do_features):
        raise InvalidInput(f"nothing to compare: the reference has {ref_in.kind or 'nothing'}, "
                           f"the current has {cur_in.kind or 'nothing'}")

    warnings = [*ref_in.notes, *cur_in.notes]
    for side, this, other in (("reference", ref_in, cur_in), ("current", cur_in, ref_in)):
        if this.features is not None and other.features is None:
            warnings.append(f"only the {side} has feature columns: feature drift was not computed")
    stats: dict[str, Any] = {"score": None, "features": None}
    if do_scores:
        stats.update(score_drift(ref_in.scores, cur_in.scores, threshold=threshold,
                                 expected_rate=expected_rate, bins=policy.bins,
                                 default_alert_rate=policy.default_alert_rate,
                                 reference_labels=ref_in.labels, current_labels=cur_in.labels))
        warnings += _non_finite_warnings(stats["n"])
    if do_features:
        assert ref_in.features is not None and cur_in.features is not None
        if not do_scores:
            stats["n"] = {"reference": _feature_counts(ref_in.features),
                          "current": _feature_counts(cur_in.features)}
        if min(stats["n"]["reference"]["finite"], stats["n"]["current"]["finite"]) > 0:
            stats["features"] = feature_drift(ref_in.features, cur_in.features, bins=policy.bins)
    t_stats = time.perf_counter() - t0
    decision = decide(stats, policy)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report_info: dict[str, Any] | None = None
    if report and decision["verdict"] != "insufficient_data":
        report_info = _report(ref_in, cur_in, out, do_scores, do_features, policy, sample_size, seed,
                              warnings)

    summary: dict[str, Any] = {
        "schema": SUMMARY_SCHEMA,
        **decision,
        **stats,
        "inputs": {"reference": ref_in.source, "current": cur_in.source},
        "policy": policy.to_dict(),
        "report": report_info,
        "warnings": warnings,
        "timings": {"statistics_s": round(t_stats, 3), "total_s": round(time.perf_counter() - t0, 3)},
        "summary": str(out / SUMMARY_NAME),
    }
    summary = _finite_json(summary)
    tmp = out / f".{SUMMARY_NAME}.{os.getpid()}.tmp"
    text = json.dumps(summary, indent=2, sort_keys=True, default=_json_default, allow_nan=False)
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, out / SUMMARY_NAME)
    for w in warnings:
        log.warning("%s", w)
    return summary


def _report(ref_in: DriftInput, cur_in: DriftInput, out: Path, do_scores: bool, do_features: bool,
            policy: Policy, sample_size: int, seed: int, warnings: list[str]) -> dict[str, Any]:
    from .evidently_report import render_report

    ref_cols: dict[str, np.ndarray] = {}
    cur_cols: dict[str, np.ndarray] = {}
    thresholds: dict[str, float] = {}
    if do_scores:
        ref_cols["score"], cur_cols["score"] = ref_in.scores, cur_in.scores  # type: ignore[assignment]
        if (t := _policy_threshold(policy, "score.wasserstein_norm")) is not None:
            thresholds["score"] = t
    if do_features:
        assert ref_in.features is not None and cur_in.features is not None
        ref_cols.update(ref_in.features)
        cur_cols.update(cur_in.features)
        if (t := _policy_threshold(policy, "features.*.wasserstein_norm")) is not None:
            thresholds.update(dict.fromkeys(ref_in.features, t))
    try:
        return render_report(ref_cols, cur_cols, out, sample_size=sample_size, seed=seed,
                             thresholds=thresholds)
    except Exception as err:  # the report is for people; its failure must not hide the verdict
        log.debug("evidently report failed", exc_info=True)
        warnings.append(f"the Evidently report was not written: {type(err).__name__}: {err}")
        return {"error": f"{type(err).__name__}: {err}"}


def _finite_json(obj: Any) -> Any:
    """NaN/inf floats become None: strict JSON readers reject ``NaN`` (e.g. a KS p-value of nan)."""
    if isinstance(obj, dict):
        return {k: _finite_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite_json(v) for v in obj]
    if isinstance(obj, float | np.floating) and not np.isfinite(obj):
        return None
    return obj


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
