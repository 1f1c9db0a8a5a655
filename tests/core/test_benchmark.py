"""A tiny benchmark run: the protocol's files and their shape (not its figures: see docs/benchmark.md)."""

from __future__ import annotations

import json

import pytest

from anomaly_core.cli import main


@pytest.mark.slow
def test_benchmark_writes_results_table_and_figures(tmp_path, capsys):
    out = tmp_path / "bench"
    code = main(["benchmark", "--runs", "2", "--samples", "300", "--epochs", "2", "--out", str(out), "--json",
                 "--models", "iforest,dense_ae,lstm_ae,energy"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    results = json.loads((out / "results.json").read_text())
    assert set(results["summary"]) == {"iforest", "dense_ae", "lstm_ae", "energy"}
    for m in results["summary"].values():
        assert {"f1", "f1_deployable", "auc_roc", "auc_pr", "train_seconds", "windows_per_second"} <= set(m)
        assert 0.0 <= m["auc_roc"]["mean"] <= 1.0
    assert len(results["runs"]["lstm_ae"]) == 2
    assert set(results["ablation"]["summary"]) == {"full", "no_smoothness", "no_persisted_scaling",
                                                   "no_early_stopping"}
    assert results["paired_ttest_lstm_ae_vs_dense_ae"]["f1"]["n"] == 2
    assert results["efficiency"]["plain_torch_lstm_windows_per_second"] > 0
    table = (out / "table.md").read_text()
    assert "LSTM-AE (platform)" in table and "paper F1" in table
    for fig in ("roc.png", "pr.png", "confusion_lstm_ae.png", "feature_kde.png", "throughput.png", "ablation.png",
                "training_lstm_ae.png", "train_time.png"):
        assert (out / "figures" / fig).read_bytes()[:4] == b"\x89PNG", fig
    assert printed["summary"]["lstm_ae"]["auc_roc"] == pytest.approx(results["summary"]["lstm_ae"]["auc_roc"]["mean"])
