"""``run_drift``: summary.json next to the Evidently HTML and JSON, for scores and features."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from anomaly_core.drift import evidently_report, run_drift
from anomaly_core.errors import InvalidInput, SchemaMismatch

# Evidently's own imports warn about numpy.core and litestar deprecations: not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def events(r: np.random.Generator, n: int, shift: float = 0.0) -> pd.DataFrame:
    frame = pd.DataFrame({"timestamp": pd.date_range("2026-01-01", periods=n, freq="s"),
                          "f0": r.normal(size=n), "f1": r.normal(size=n) + shift,
                          "label": np.zeros(n, dtype=int)})
    return frame


def test_scores_give_summary_html_and_json(tmp_path: Path, rng: np.random.Generator) -> None:
    ref, cur = rng.lognormal(0, 0.5, 20_000), 1.2 * rng.lognormal(0, 0.5, 50_000)
    cur[:7] = np.nan
    s = run_drift(ref, cur, tmp_path, sample_size=500, seed=3)
    assert s["verdict"] == "recalibrate" and s["fired"]
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk["verdict"] == s["verdict"] and on_disk["n"]["current"]["nan"] == 7
    assert any("7 NaN" in w for w in s["warnings"])
    report = json.loads((tmp_path / "report.json").read_text())  # Evidently's JSON parses
    assert {m["config"]["column"] for m in report["metrics"] if "column" in m["config"]} == {"score"}
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html") or "<html" in html[:2000].lower()
    assert "score" in html
    assert s["report"]["sample"] == {"reference": 500, "current": 500, "requested": 500, "seed": 3}
    assert s["report"]["columns"]["score"]["status"] == "FAIL"  # Evidently agrees on this sample


def test_event_tables_give_feature_drift_and_name_the_feature(tmp_path: Path, rng) -> None:
    s = run_drift(events(rng, 5000), events(rng, 5000, shift=1.0), tmp_path, sample_size=400)
    assert s["score"] is None and set(s["features"]) == {"f0", "f1"}  # timestamp and label are not features
    assert s["verdict"] == "retrain"
    fired = [r for r in s["rules"] if r["fired"]]
    assert fired and all(r["features"] == ["f1"] for r in fired)
    cols = {m["config"]["column"] for m in json.loads((tmp_path / "report.json").read_text())["metrics"]
            if "column" in m["config"]}
    assert cols == {"f0", "f1"}
    evidently_status = {c: v["status"] for c, v in s["report"]["columns"].items()}
    assert evidently_status == {"f0": "SUCCESS", "f1": "FAIL"}


def test_scores_and_features_together(tmp_path: Path, rng: np.random.Generator) -> None:
    X_ref = rng.normal(size=(3000, 10, 2)).astype(np.float32)
    X_cur = rng.normal(size=(3000, 10, 2)).astype(np.float32)
    s = run_drift(rng.normal(size=3000), rng.normal(size=3000), tmp_path, reference_features=X_ref,
                  current_features=X_cur, report=False)
    assert s["verdict"] == "none"
    assert set(s["features"]) == {"f0.mean", "f0.std", "f1.mean", "f1.std"}
    assert s["report"] is None and not (tmp_path / "report.html").exists()


def test_insufficient_data_writes_summary_without_report(tmp_path: Path, rng: np.random.Generator) -> None:
    s = run_drift(rng.normal(size=10_000), np.array([]), tmp_path)
    assert s["verdict"] == "insufficient_data" and s["score"] is None
    assert json.loads((tmp_path / "summary.json").read_text())["verdict"] == "insufficient_data"
    assert not (tmp_path / "report.html").exists()


def test_a_failing_report_does_not_hide_the_verdict(tmp_path: Path, rng: np.random.Generator,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*a: object, **k: object) -> dict:
        raise RuntimeError("renderer broke")

    monkeypatch.setattr(evidently_report, "render_report", boom)
    s = run_drift(rng.normal(size=2000), rng.normal(1, 1, 2000), tmp_path)
    assert s["verdict"] == "recalibrate"
    assert s["report"] == {"error": "RuntimeError: renderer broke"}
    assert any("renderer broke" in w for w in s["warnings"])


def test_one_sided_features_are_reported_not_silently_dropped(tmp_path: Path, rng) -> None:
    table = events(rng, 2000).assign(score=rng.normal(size=2000))
    s = run_drift(table, rng.normal(size=2000), tmp_path, report=False)
    assert s["features"] is None and s["score"] is not None
    assert any("only the reference has feature columns" in w for w in s["warnings"])


def test_mismatched_inputs_are_clear_errors(tmp_path: Path, rng: np.random.Generator) -> None:
    with pytest.raises(SchemaMismatch, match=r"missing \['f1'\]"):
        run_drift(events(rng, 2000), events(rng, 2000).drop(columns=["f1"]), tmp_path)
    with pytest.raises(InvalidInput, match="nothing to compare"):
        run_drift(rng.normal(size=2000), events(rng, 2000), tmp_path)
    with pytest.raises(InvalidInput, match="no feature columns for feature drift"):
        run_drift(rng.normal(size=2000), rng.normal(size=2000), tmp_path,
                  reference_features=rng.normal(size=2000), current_features=events(rng, 2000))


def test_report_sample_is_bounded_and_seeded(rng: np.random.Generator) -> None:
    values = rng.normal(size=1_000_000)
    values[::10] = np.nan
    a = evidently_report.sample_column(values, 5000, np.random.default_rng(1))
    b = evidently_report.sample_column(values, 5000, np.random.default_rng(1))
    assert a.size <= 5000 and np.isfinite(a).all() and np.array_equal(a, b)
    assert 4850 < a.size <= 5000  # 5510 rows drawn, about 10 % of them NaN
