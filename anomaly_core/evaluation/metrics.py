"""Detection metrics, all from scikit-learn."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)


def detection_metrics(y: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, Any]:
    """Precision, recall, F1 (alerts are ``score > threshold``), AUC-ROC, AUC-PR, confusion matrix."""
    y = np.asarray(y).astype(int)
    scores = np.asarray(scores, dtype=np.float64)
    pred = (scores > threshold).astype(int)
    both = len(np.unique(y)) == 2
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
    return {
        "precision": float(precision_score(y, pred, zero_division=0)),
        "recall": float(recall_score(y, pred, zero_division=0)),
        "f1": float(f1_score(y, pred, zero_division=0)),
        "auc_roc": float(roc_auc_score(y, scores)) if both else None,
        "auc_pr": float(average_precision_score(y, scores)) if both else None,
        "confusion_matrix": {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)},
        "alert_rate": float(pred.mean()),
        "n": int(len(y)),
        "n_anomalous": int(y.sum()),
    }


def oracle_threshold(y: np.ndarray, scores: np.ndarray) -> float:
    """The threshold that raises exactly as many alerts as there are anomalies (so precision =
    recall = F1), which is how the paper's Table 3 appears to be computed. It uses test labels:
    a reporting convention, never a deployable rule."""
    k = int(np.sum(y))
    if k == 0:
        return float(np.max(scores))
    s = np.sort(np.asarray(scores, dtype=np.float64))[::-1]
    return float(s[k]) if k < len(s) else float(s[-1]) - 1.0
