from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, f1_score, precision_score, recall_score, roc_auc_score

from anomaly_core.errors import InvalidInput
from anomaly_core.evaluation.metrics import detection_metrics, oracle_threshold
from anomaly_core.thresholds import tune_threshold


@pytest.fixture
def labelled(rng):
    y = (rng.random(2000) < 0.1).astype(int)
    scores = rng.normal(size=2000) + 2.5 * y
    return y, scores


def test_quantile_rule_uses_nominal_scores_only(labelled):
    y, s = labelled
    rec = tune_threshold(s, y, rule="quantile", level=0.95)
    assert rec["value"] == pytest.approx(np.quantile(s[y == 0], 0.95))
    assert rec["expected_alert_rate"] == pytest.approx(0.05, abs=0.002)
    assert rec["rule"] == "quantile" and rec["validation"]["nominal"]["n"] == int((y == 0).sum())


def test_best_f1_rule_maximises_f1(labelled):
    y, s = labelled
    thr = tune_threshold(s, y, rule="best_f1")["value"]
    best = f1_score(y, s > thr)
    for other in np.quantile(s, np.linspace(0.5, 0.99, 50)):
        assert f1_score(y, s > other) <= best + 1e-12


def test_youden_rule_maximises_j(labelled):
    y, s = labelled
    thr = tune_threshold(s, y, rule="youden")["value"]
    j = lambda t: ((s > t) & (y == 1)).sum() / y.sum() - ((s > t) & (y == 0)).sum() / (y == 0).sum()  # noqa: E731
    assert all(j(thr) >= j(t) - 1e-12 for t in np.quantile(s, np.linspace(0.3, 0.99, 60)))


def test_label_rules_need_labels(labelled):
    _, s = labelled
    with pytest.raises(InvalidInput, match="both classes"):
        tune_threshold(s, None, rule="best_f1")
    with pytest.raises(InvalidInput, match="unknown threshold rule"):
        tune_threshold(s, None, rule="mean")


def test_metrics_match_scikit_learn(labelled):
    y, s = labelled
    m = detection_metrics(y, s, 1.0)
    pred = s > 1.0
    assert m["precision"] == pytest.approx(precision_score(y, pred))
    assert m["recall"] == pytest.approx(recall_score(y, pred))
    assert m["f1"] == pytest.approx(f1_score(y, pred))
    assert m["auc_roc"] == pytest.approx(roc_auc_score(y, s))
    assert m["auc_pr"] == pytest.approx(average_precision_score(y, s))
    cm = m["confusion_matrix"]
    assert cm["tp"] == int((pred & (y == 1)).sum()) and cm["fp"] == int((pred & (y == 0)).sum())
    assert sum(cm.values()) == len(y)


def test_oracle_threshold_makes_precision_equal_recall(labelled):
    y, s = labelled
    m = detection_metrics(y, s, oracle_threshold(y, s))
    assert m["precision"] == pytest.approx(m["recall"])
    assert m["alert_rate"] == pytest.approx(y.mean())
