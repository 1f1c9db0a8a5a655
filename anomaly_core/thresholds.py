"""Turning scores into alerts: the threshold rules and the record stored as ``threshold.json``.

* ``quantile``: the ``level`` quantile of nominal validation scores. Deployable without labels; the
  expected false-alarm rate on nominal data is ``1 - level``.
* ``best_f1``: the score that maximises F1 on labelled validation data.
* ``youden``: the ROC point maximising TPR - FPR (Youden's J) on labelled validation data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import InvalidInput

RULES = ("quantile", "best_f1", "youden")
DEFAULT_RULE = "quantile"
DEFAULT_LEVEL = 0.99


def _summary(scores: np.ndarray) -> dict[str, float]:
    q = np.quantile(scores, [0.5, 0.9, 0.99]) if len(scores) else [np.nan] * 3
    return {"n": int(len(scores)), "mean": float(np.mean(scores)) if len(scores) else float("nan"),
            "std": float(np.std(scores)) if len(scores) else float("nan"),
            "p50": float(q[0]), "p90": float(q[1]), "p99": float(q[2])}


def quantile_threshold(nominal_scores: np.ndarray, level: float = DEFAULT_LEVEL) -> float:
    if not 0.0 < level < 1.0:
        raise InvalidInput(f"quantile level must be in (0, 1), got {level}")
    s = np.asarray(nominal_scores, dtype=np.float64)
    if s.size == 0:
        raise InvalidInput("no nominal validation scores to take a quantile of")
    return float(np.quantile(s, level))


def best_f1_threshold(y: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import precision_recall_curve  # lazy: the CLI imports this module for its constants

    _require_both_classes(y)
    precision, recall, thr = precision_recall_curve(y, scores)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    # thr[i] predicts score >= thr[i]; our alerts are score > threshold, so step just below it
    return float(np.nextafter(thr[int(np.argmax(f1[:-1]))], -np.inf))


def youden_threshold(y: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import roc_curve

    _require_both_classes(y)
    fpr, tpr, thr = roc_curve(y, scores)
    i = int(np.argmax(tpr - fpr))
    return float(np.nextafter(thr[i], -np.inf)) if np.isfinite(thr[i]) else float(np.max(scores))


def _require_both_classes(y: np.ndarray) -> None:
    if y is None or len(np.unique(y)) < 2:
        raise InvalidInput("this threshold rule needs labelled validation data with both classes")


def tune_threshold(scores: np.ndarray, y: np.ndarray | None = None, *, rule: str = DEFAULT_RULE,
                   level: float = DEFAULT_LEVEL) -> dict[str, Any]:
    """Choose a threshold by ``rule`` and return the record stored in ``threshold.json``."""
    scores = np.asarray(scores, dtype=np.float64)
    nominal = scores if y is None else scores[np.asarray(y) == 0]
    if rule == "quantile":
        value = quantile_threshold(nominal, level)
    elif rule == "best_f1":
        value = best_f1_threshold(y, scores)
    elif rule == "youden":
        value = youden_threshold(y, scores)
    else:
        raise InvalidInput(f"unknown threshold rule {rule!r}; known: {', '.join(RULES)}")
    record: dict[str, Any] = {
        "value": value,
        "rule": rule,
        "level": level if rule == "quantile" else None,
        "expected_alert_rate": float(np.mean(nominal > value)) if len(nominal) else None,
        "validation": {"nominal": _summary(nominal)},
    }
    if y is not None and np.any(np.asarray(y) == 1):
        record["validation"]["anomalous"] = _summary(scores[np.asarray(y) == 1])
    return record
