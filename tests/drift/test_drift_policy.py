"""Verdicts: no false alarm at n = 1e6, injected drift detected, the rule that fired named."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from anomaly_core.drift import decide, feature_drift, score_drift
from anomaly_core.drift.policy import Condition, Policy
from anomaly_core.errors import InvalidInput


def verdict_of(ref: np.ndarray, cur: np.ndarray, policy: Policy | None = None, **kw: object) -> dict:
    return decide(score_drift(ref, cur, **kw), policy)


def test_same_distribution_at_one_million_is_not_drift(same_large: tuple[np.ndarray, np.ndarray]) -> None:
    ref, cur = same_large
    stats = score_drift(ref, cur)
    d = decide(stats)
    assert d["verdict"] == "none", d["reason"]
    # At this size KS p-values react to nothing; the effect sizes are what the rules read.
    assert stats["score"]["ks_statistic"] < 0.01 and stats["score"]["psi"] < 0.001


def test_lognormal_scale_change_gives_recalibrate(same_large: tuple[np.ndarray, np.ndarray]) -> None:
    ref, cur = same_large
    d = verdict_of(ref, 1.2 * cur)
    assert d["verdict"] == "recalibrate"
    assert "score_psi" in d["fired"] and "score_psi" in d["reason"]


def test_heavier_tailed_scale_change_is_caught_by_the_alert_rate(rng: np.random.Generator) -> None:
    ref, cur = rng.lognormal(0, 1, 100_000), 1.2 * rng.lognormal(0, 1, 500_000)
    d = verdict_of(ref, cur)
    assert d["verdict"] == "recalibrate" and "alert_rate" in d["fired"]


@pytest.mark.parametrize("name, make", [
    ("level shift", lambda r: r.normal(0.3, 1.0, 20_000)),
    ("variance change", lambda r: r.normal(0.0, 1.5, 20_000)),
])
def test_injected_score_drift_gives_a_drift_verdict(rng: np.random.Generator, name: str, make) -> None:
    d = verdict_of(rng.normal(0, 1, 50_000), make(rng))
    assert d["verdict"] in ("recalibrate", "retrain"), name
    assert d["fired"], name


def windows(r: np.random.Generator, n: int, shift: float = 0.0, scale: float = 1.0) -> np.ndarray:
    X = r.normal(size=(n, 20, 4))
    X[:, :, 2] = X[:, :, 2] * scale + shift
    return X.astype(np.float32)


# A variance change widens the spread of window means too, so both summaries of f2 move.
@pytest.mark.parametrize("shift, scale, moved", [(0.5, 1.0, {"f2.mean"}), (0.0, 1.6, {"f2.mean", "f2.std"})])
def test_feature_drift_gives_retrain_and_names_the_feature(rng: np.random.Generator, shift: float,
                                                           scale: float, moved: set[str]) -> None:
    ref, cur = windows(rng, 5000), windows(rng, 5000, shift, scale)
    feats = feature_drift(ref, cur)
    assert set(feats) == {f"f{i}.{s}" for i in range(4) for s in ("mean", "std")}
    stats = {"n": {"reference": {"finite": 5000}, "current": {"finite": 5000}}, "features": feats}
    d = decide(stats)
    assert d["verdict"] == "retrain"
    flagged = {f for r in d["rules"] if r["fired"] for f in r.get("features", [])}
    assert flagged == moved


def test_unchanged_features_give_none(rng: np.random.Generator) -> None:
    feats = feature_drift(windows(rng, 5000), windows(rng, 5000))
    stats = {"n": {"reference": {"finite": 5000}, "current": {"finite": 5000}}, "features": feats}
    assert decide(stats)["verdict"] == "none"


def test_lost_separation_gives_retrain_even_without_score_drift(rng: np.random.Generator) -> None:
    ref = rng.normal(size=20_000)
    y_ref = (rng.random(20_000) < 0.05).astype(int)
    ref += 3.0 * y_ref  # the reference separates well
    y_cur = (rng.random(20_000) < 0.05).astype(int)
    cur = rng.normal(size=20_000) + 0.3 * y_cur  # anomalies no longer stand out
    d = verdict_of(ref, cur, reference_labels=y_ref, current_labels=y_cur)
    assert d["verdict"] == "retrain"
    assert {"separation_auc", "separation_drop"} <= set(d["fired"])


@pytest.mark.parametrize("n_cur", [0, 5, 999])
def test_too_few_current_scores_is_insufficient_data(rng: np.random.Generator, n_cur: int) -> None:
    d = verdict_of(rng.normal(size=10_000), rng.normal(5, 1, n_cur))  # far off, but too few to judge
    assert d["verdict"] == "insufficient_data" and "minimum 1000" in d["reason"]


def test_nan_scores_are_counted_not_used(rng: np.random.Generator) -> None:
    cur = rng.normal(size=5000)
    cur[:1200] = np.nan
    cur[1200:1210] = np.inf
    stats = score_drift(rng.normal(size=5000), cur)
    assert stats["n"]["current"] == {"total": 5000, "finite": 3790, "nan": 1200, "posinf": 10, "neginf": 0}
    assert stats["score"]["n_current"] == 3790
    cur[1200:4500] = np.nan  # leaves 500 finite values: below the minimum
    assert decide(score_drift(rng.normal(size=5000), cur))["verdict"] == "insufficient_data"


def test_policy_from_json_combines_rules_with_or(tmp_path: Path, same_large) -> None:
    spec = {"min_current": 10, "rules": [
        {"name": "alert", "when": ["score.alert_rate.p_value < 0.01"], "then": "recalibrate"},
        {"name": "major_psi", "when": "score.psi >= 0.25", "then": "retrain"},
    ]}
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(spec))
    policy = Policy.from_json(path)
    assert policy.min_current == 10 and policy.to_dict()["rules"][1]["when"] == ["score.psi >= 0.25"]
    ref, cur = same_large
    d = verdict_of(ref, cur * 1.5, policy)
    assert d["verdict"] == "retrain" and d["fired"] == ["alert", "major_psi"]  # the severer one wins


def test_ks_pvalue_alone_would_alarm_on_a_negligible_shift_at_large_n(rng: np.random.Generator) -> None:
    ref, cur = rng.normal(size=100_000), rng.normal(0.03, 1.0, 1_000_000)  # 0.03 sd: nobody cares
    stats = score_drift(ref, cur)
    assert stats["score"]["ks_pvalue"] < 1e-6
    assert decide(stats)["verdict"] == "none"
    rule = {"name": "ks_p", "when": "score.ks_pvalue < 0.01", "then": "recalibrate"}
    p_only = Policy.from_dict({"rules": [rule]})
    assert decide(stats, p_only)["verdict"] == "recalibrate"


def test_rules_on_missing_metrics_are_skipped(rng: np.random.Generator) -> None:
    d = verdict_of(rng.normal(size=2000), rng.normal(size=2000))
    skipped = {r["rule"]: r["skipped"] for r in d["rules"] if "skipped" in r}
    assert set(skipped) == {"feature_psi", "feature_wasserstein", "separation_auc", "separation_drop"}
    assert not any(r["fired"] for r in d["rules"])


def test_wildcard_conditions_bind_the_same_feature() -> None:
    stats = {"n": {"reference": {"finite": 5000}, "current": {"finite": 5000}},
             "features": {"a": {"psi": 0.5, "ks_statistic": 0.01}, "b": {"psi": 0.01, "ks_statistic": 0.5}}}
    when = ["features.*.psi >= 0.1", "features.*.ks_statistic >= 0.1"]
    both = Policy.from_dict({"rules": [{"name": "r", "when": when, "then": "retrain"}]})
    assert decide(stats, both)["verdict"] == "none"
    stats["features"]["b"]["psi"] = 0.2
    d = decide(stats, both)
    assert d["verdict"] == "retrain" and d["rules"][0]["features"] == ["b"]


@pytest.mark.parametrize("spec, message", [
    ({"rules": [{"name": "x", "when": ["score.psi ~ 1"], "then": "retrain"}]}, "cannot parse"),
    ({"rules": [{"name": "x", "when": ["score.psi > 1"], "then": "panic"}]}, "recalibrate or retrain"),
    ({"rules": [{"name": "x", "then": "retrain"}]}, "missing"),
    ({"min_sample": 3}, "unknown key"),
    ({"bins": 1}, "bins"),
])
def test_bad_policies_are_clear_errors(spec: dict, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Policy.from_dict(spec)


def test_condition_round_trips() -> None:
    c = Condition.parse(" features.*.psi>=1e-1 ")
    assert (c.metric, c.op, c.value) == ("features.*.psi", ">=", 0.1) and str(c) == "features.*.psi >= 0.1"
