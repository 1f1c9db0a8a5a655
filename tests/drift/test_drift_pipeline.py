"""check_drift against a real registered version in a local store (what the drift DAG calls)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from anomaly_core.data.generator import generate_windows
from anomaly_core.data.io import save_dataset
from anomaly_core.errors import InvalidInput
from anomaly_core.pipeline.drift import check_drift
from anomaly_core.pipeline.training import train_model
from anomaly_core.registry import open_registry


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    d = tmp_path_factory.mktemp("drift_pipeline")
    store = str(d / "store")
    save_dataset(generate_windows(800, seed=1), d / "train.npz")
    save_dataset(generate_windows(1300, seed=2), d / "val.npz")  # > 1,000 nominal reference scores
    out = train_model(store, "telemetry", str(d / "train.npz"), val=str(d / "val.npz"), model="pca")
    open_registry(store).promote("telemetry", out["version"], "production", reason="test")
    same = generate_windows(1500, seed=3, contamination=0.0)
    save_dataset(same, d / "same.npz")
    shifted = generate_windows(1500, seed=4, contamination=0.0)
    save_dataset(type(shifted)(shifted.X * 1.8 + 0.5), d / "shifted.npz")
    return store, d, out["version"]


def test_no_drift_on_the_same_process(production):
    store, d, version = production
    res = check_drift(store, "telemetry", str(d / "same.npz"), run_id="same", report=False)
    assert res["verdict"] == "none" and res["version"] == version and not res["reused"]
    assert res["n_current"]["finite"] == 1500


def test_shift_is_flagged_and_report_is_stored(production):
    store, d, _ = production
    res = check_drift(store, "telemetry", str(d / "shifted.npz"), run_id="shifted")
    assert res["verdict"] in ("recalibrate", "retrain") and res["fired"]
    reg = open_registry(store)
    summary = json.loads(reg.store.get("drift/telemetry/shifted/summary.json")[0])
    assert summary["verdict"] == res["verdict"] and summary["model"]["version"] == res["version"]
    assert b"<html" in reg.store.get("drift/telemetry/shifted/report.html")[0][:2000].lower()


def test_rerun_with_the_same_run_id_reuses_the_stored_result(production):
    store, d, _ = production
    first = check_drift(store, "telemetry", str(d / "same.npz"), run_id="rerun", report=False)
    keys = open_registry(store).store.list("drift/telemetry/rerun/")
    again = check_drift(store, "telemetry", str(d / "shifted.npz"), run_id="rerun", report=False)
    assert again["reused"] and again["verdict"] == first["verdict"]
    assert open_registry(store).store.list("drift/telemetry/rerun/") == keys


def test_score_file_is_used_as_is(production, tmp_path):
    store, _, _ = production
    np.save(tmp_path / "scores.npy", np.zeros(10))
    res = check_drift(store, "telemetry", str(tmp_path / "scores.npy"), run_id="tiny", report=False)
    assert res["verdict"] == "insufficient_data"


def test_bad_alias_and_run_id(production):
    store, d, _ = production
    with pytest.raises(InvalidInput, match="no alias 'staging'"):
        check_drift(store, "telemetry", str(d / "same.npz"), alias="staging")
    with pytest.raises(InvalidInput, match="run id"):
        check_drift(store, "telemetry", str(d / "same.npz"), run_id="../x")
