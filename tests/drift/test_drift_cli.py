"""``anomaly drift``: one JSON object with --json, files of every kind, registry references, bad input."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from anomaly_core.cli import main

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # from evidently's imports


def drift(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, dict | None, str]:
    """Run ``anomaly drift ARGV --json``; return (exit code, the JSON object or None, stderr)."""
    rc = main(["drift", *map(str, argv), "--json"])
    out, err = capsys.readouterr()
    lines = out.splitlines()
    if rc == 0:
        assert len(lines) == 1, out  # exactly one JSON object on stdout
        return rc, json.loads(lines[0]), err
    assert out == ""
    return rc, None, err


def test_npy_scores_with_report(capsys, tmp_path: Path, write_npy: Callable, rng) -> None:
    ref = write_npy("ref.npy", rng.lognormal(0, 0.5, 20_000))
    cur = write_npy("cur.npy", rng.lognormal(0, 0.5, 20_000))
    out = tmp_path / "out"
    rc, s, _ = drift(capsys, "--reference", ref, "--current", cur, "--out", out, "--sample-size", "300")
    assert rc == 0 and s["verdict"] == "none"
    assert {p.name for p in out.iterdir()} == {"summary.json", "report.html", "report.json"}
    json.loads((out / "report.json").read_text())
    assert s["report"]["sample"]["current"] == 300


def test_parquet_scores_and_threshold(capsys, tmp_path: Path, rng: np.random.Generator) -> None:
    scores = rng.normal(0.5, 1, 20_000)
    pd.DataFrame({"score": rng.normal(size=20_000)}).to_parquet(tmp_path / "ref.parquet")
    pd.DataFrame({"score": scores, "is_anomaly": scores > 2.0}).to_parquet(tmp_path / "cur.parquet")
    rc, s, _ = drift(capsys, "--reference", tmp_path / "ref.parquet", "--current", tmp_path / "cur.parquet",
                     "--out", tmp_path / "o", "--threshold", "2.0", "--no-report")
    assert rc == 0 and s["verdict"] == "recalibrate"
    a = s["score"]["alert_rate"]
    assert a["threshold"] == 2.0 and a["alerts"] == int((scores > 2.0).sum()) and a["test"] == "fisher_exact"
    assert s["features"] is None  # is_anomaly is not a feature


def test_csv_event_tables_give_feature_drift(capsys, tmp_path: Path, rng: np.random.Generator) -> None:
    def table(shift: float) -> pd.DataFrame:
        return pd.DataFrame({"timestamp": np.arange(3000), "f0": rng.normal(size=3000),
                             "f1": rng.normal(shift, 1, 3000), "kind": "nominal"})

    table(0).to_csv(tmp_path / "ref.csv", index=False)
    table(1).to_csv(tmp_path / "cur.csv", index=False)
    rc, s, _ = drift(capsys, "--reference", tmp_path / "ref.csv", "--current", tmp_path / "cur.csv",
                     "--out", tmp_path / "o", "--no-report")
    assert rc == 0 and s["verdict"] == "retrain" and set(s["features"]) == {"f0", "f1"}


def test_npz_windows(capsys, tmp_path: Path, rng: np.random.Generator) -> None:
    np.savez(tmp_path / "ref.npz", X=rng.normal(size=(2000, 8, 3)).astype(np.float32))
    np.savez(tmp_path / "cur.npz", X=rng.normal(size=(2000, 8, 3)).astype(np.float32))
    rc, s, _ = drift(capsys, "--reference", tmp_path / "ref.npz", "--current", tmp_path / "cur.npz",
                     "--out", tmp_path / "o", "--no-report")
    assert rc == 0 and s["verdict"] == "none" and len(s["features"]) == 6


@pytest.mark.parametrize("current", [np.array([1.0, 2.0, 3.0, 4.0, 5.0]), np.array([], dtype=np.float64),
                                     np.full(5000, np.nan)])
def test_too_few_or_only_nan_scores_is_insufficient_data(capsys, tmp_path: Path, write_npy: Callable,
                                                         rng, current: np.ndarray) -> None:
    ref = write_npy("ref.npy", rng.normal(size=5000))
    cur = write_npy("cur.npy", current)
    rc, s, _ = drift(capsys, "--reference", ref, "--current", cur, "--out", tmp_path / "o")
    assert rc == 0 and s["verdict"] == "insufficient_data"
    assert s["n"]["current"]["total"] == current.size
    assert s["n"]["current"]["nan"] == int(np.isnan(current).sum())


def test_registry_version_reference_and_threshold(capsys, tmp_path: Path, write_npy: Callable,
                                                  rng: np.random.Generator, fake_registry: Callable) -> None:
    reg = fake_registry(rng.normal(size=10_000), {"value": 2.5, "expected_alert_rate": 0.01})
    cur = write_npy("cur.npy", rng.normal(size=10_000))
    rc, s, _ = drift(capsys, "--version", "3", "--current", cur, "--out", tmp_path / "o", "--no-report",
                     "--store", tmp_path / "store")
    assert rc == 0 and reg.opened == [str(tmp_path / "store")]
    a = s["score"]["alert_rate"]
    # the stored expected rate is an estimate from these same reference scores: the two counts are
    # compared (Fisher) instead of trusting it as exact (binomial)
    assert (a["threshold"], a["test"]) == (2.5, "fisher_exact")
    ref = np.load(io.BytesIO(reg.files[("telemetry", "3", "reference_scores.npy")]))
    assert a["expected_rate"] == a["reference_rate"] == pytest.approx(np.mean(ref > 2.5))
    assert "version 3" in s["inputs"]["reference"]
    # --alias resolves to the same version; --threshold overrides the stored one
    rc, s, _ = drift(capsys, "--alias", "production", "--current", cur, "--out", tmp_path / "o2",
                     "--no-report", "--threshold", "1.0")
    assert rc == 0 and s["score"]["alert_rate"]["threshold"] == 1.0


def test_registry_without_reference_scores_is_a_clear_error(capsys, tmp_path: Path, write_npy: Callable,
                                                            rng: np.random.Generator, fake_registry) -> None:
    fake_registry(None, {"value": 2.5})
    cur = write_npy("cur.npy", rng.normal(size=2000))
    rc, _, err = drift(capsys, "--version", "3", "--current", cur, "--out", tmp_path / "o")
    assert rc == 2 and "no reference scores for model 'telemetry' version 3" in err
    assert len(err.strip().splitlines()) == 1
    rc, _, err = drift(capsys, "--alias", "staging", "--current", cur, "--out", tmp_path / "o")
    assert rc == 2 and "no alias 'staging'" in err


@pytest.mark.parametrize("setup, message", [
    (lambda d: None, "ref.npy: no such file"),
    (lambda d: (d / "ref.npy").write_bytes(b""), "the file is empty"),
    (lambda d: (d / "ref.npy").write_bytes(b"not numpy"), "not a readable .npy"),
    (lambda d: np.save(d / "ref.npy", np.ones((3, 3))), "1-D array of scores"),
    (lambda d: pd.DataFrame({"timestamp": [1, 2], "f0": [1.0, 2.0]}).to_parquet(d / "ref.npy.parquet"),
     "nothing to compare"),
])
def test_bad_files_are_one_line_errors(capsys, tmp_path: Path, write_npy, rng, setup, message) -> None:
    setup(tmp_path)
    cur = write_npy("cur.npy", rng.normal(size=2000))
    ref = tmp_path / ("ref.npy.parquet" if message == "nothing to compare" else "ref.npy")
    rc, _, err = drift(capsys, "--reference", ref, "--current", cur, "--out", tmp_path / "o")
    assert rc == 2 and message in err, err
    assert err.startswith("anomaly drift: error:") and len(err.strip().splitlines()) == 1


def test_bad_arguments_and_policy(capsys, tmp_path: Path, write_npy: Callable, rng) -> None:
    ref = write_npy("ref.npy", rng.normal(size=2000))
    rc, _, err = drift(capsys, "--reference", ref, "--current", ref, "--out", tmp_path / "o",
                       "--threshold", "nan")
    assert rc == 2 and "--threshold" in err
    rule = {"name": "x", "when": "score.psi >= 0.0", "then": "retrain"}
    (tmp_path / "p.json").write_text(json.dumps({"rules": [rule]}))
    rc, s, _ = drift(capsys, "--reference", ref, "--current", ref, "--out", tmp_path / "o", "--no-report",
                     "--policy", tmp_path / "p.json")
    assert rc == 0 and s["verdict"] == "retrain" and s["fired"] == ["x"]
    (tmp_path / "bad.json").write_text("{")
    rc, _, err = drift(capsys, "--reference", ref, "--current", ref, "--out", tmp_path / "o",
                       "--policy", tmp_path / "bad.json")
    assert rc == 2 and "not readable JSON" in err


def test_console_entry_point_keeps_stdout_to_one_json_object(tmp_path: Path, write_npy, rng) -> None:
    ref = write_npy("ref.npy", rng.normal(size=3000))
    cur_values = rng.normal(size=3000)
    cur_values[:4] = np.nan
    cur = write_npy("cur.npy", cur_values)
    entry = "import sys; from anomaly_core.cli import main; sys.exit(main())"  # what the console script runs
    proc = subprocess.run([sys.executable, "-c", entry, "drift", "--reference", str(ref),
                           "--current", str(cur), "--out", str(tmp_path / "o"), "--json", "--no-report"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    s = json.loads(proc.stdout)  # the whole of stdout is one JSON object
    assert s["verdict"] == "none" and s["n"]["current"]["nan"] == 4
    assert "4 NaN" in proc.stderr  # the warning goes to stderr, not stdout
