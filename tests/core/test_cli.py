"""The CLI contract: one JSON object on stdout with --json, one-line errors, no partial outputs."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from anomaly_core.cli import main
from anomaly_core.data.generator import generate_windows
from anomaly_core.data.io import save_dataset


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def data_files(tmp_path):
    paths = {}
    for split, n, seed in (("train", 300, 1), ("val", 150, 2), ("test", 150, 3)):
        paths[split] = str(tmp_path / f"{split}.npz")
        save_dataset(generate_windows(n, seed=seed), paths[split])
    return paths


@pytest.fixture
def trained_version(capsys, data_files, store_uri):
    code, out, _ = run_cli(capsys, "train", "--data", data_files["train"], "--val", data_files["val"],
                           "--model", "pca", "--json")
    assert code == 0
    return json.loads(out)["version"]


def test_generate_json_and_file(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "generate", "--out", str(tmp_path / "d.npz"), "--samples", "50", "--json")
    d = json.loads(out)
    assert code == 0 and d["samples"] == 50 and d["anomalies"] == 5
    assert np.load(tmp_path / "d.npz")["X"].shape == (50, 30, 10)


def test_generate_event_table_with_drift(capsys, tmp_path):
    import pandas as pd

    code, out, _ = run_cli(capsys, "generate", "--events", "2000", "--drift", "shift",
                           "--out", str(tmp_path / "e.parquet"), "--json")
    assert code == 0 and json.loads(out)["drift"] == "shift"
    assert len(pd.read_parquet(tmp_path / "e.parquet")) == 2000


def test_train_then_score_by_version(capsys, data_files, trained_version, tmp_path):
    out_path = tmp_path / "s.npy"
    code, out, _ = run_cli(capsys, "score", "--data", data_files["test"], "--version", trained_version,
                           "--out", str(out_path), "--json")
    d = json.loads(out)
    assert code == 0 and d["version"] == trained_version and d["windows"] == 150
    assert np.load(out_path).shape == (150,)


def test_score_parquet_has_score_and_flag(capsys, data_files, trained_version, tmp_path):
    import pandas as pd

    run_cli(capsys, "score", "--data", data_files["test"], "--version", trained_version,
            "--out", str(tmp_path / "s.parquet"))
    table = pd.read_parquet(tmp_path / "s.parquet")
    assert list(table.columns) == ["score", "is_anomaly"] and table["is_anomaly"].dtype == bool


def test_train_json_has_contract_fields(capsys, data_files, store_uri):
    code, out, _ = run_cli(capsys, "train", "--data", data_files["train"], "--model", "energy", "--json")
    d = json.loads(out)
    assert code == 0 and {"version", "threshold", "metrics"} <= set(d)
    assert d["metrics"]["evaluated_on"] == "test"  # no --val: 70/15/15 split, test part reported


@pytest.mark.parametrize("case", ["rank", "features", "nan", "empty", "missing_version", "bad_suffix"])
def test_score_bad_input_is_one_line_and_leaves_no_file(capsys, case, data_files, trained_version, tmp_path):
    X = generate_windows(20, seed=9).X
    bad = tmp_path / "bad.npz"
    version = trained_version
    out_path = tmp_path / "out.npy"
    if case == "rank":
        np.savez(bad, X=X[0])
    elif case == "features":
        np.savez(bad, X=X[:, :, :-1])
    elif case == "nan":
        X[3, 2, 1] = np.nan
        np.savez(bad, X=X)
    elif case == "empty":
        bad.write_bytes(b"")
    elif case == "missing_version":
        np.savez(bad, X=X)
        version = "987654"
    else:
        np.savez(bad, X=X)
        out_path = tmp_path / "out.txt"
    code, out, err = run_cli(capsys, "score", "--data", str(bad), "--version", version, "--out", str(out_path))
    assert code != 0 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and err.startswith("anomaly score: error:")
    assert not out_path.exists() and not list(tmp_path.glob(".out*"))


def test_train_unknown_model_and_nan(capsys, data_files, tmp_path, store_uri):
    code, _, err = run_cli(capsys, "train", "--data", data_files["train"], "--model", "no_such_model")
    assert code != 0 and "unknown model 'no_such_model'" in err
    d = dict(np.load(data_files["train"]))
    d["X"][0, 0, 0] = np.inf
    np.savez(tmp_path / "inf.npz", **d)
    code, _, err = run_cli(capsys, "train", "--data", str(tmp_path / "inf.npz"), "--model", "iforest")
    assert code != 0 and "non-finite" in err


def test_console_script_runs_as_a_process(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "anomaly_core.cli", "generate", "--out", str(tmp_path / "x.npz"),
                           "--samples", "10", "--json"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and json.loads(proc.stdout)["samples"] == 10
    proc = subprocess.run([sys.executable, "-m", "anomaly_core.cli", "generate", "--out", str(tmp_path / "x.txt")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.strip().endswith("not .txt")


def test_event_table_train_and_score_with_schema_check(capsys, tmp_path, store_uri):
    import pandas as pd

    from anomaly_core.data.events import generate_events

    generate_events(1500, 4, seed=1).to_parquet(tmp_path / "events.parquet", index=False)
    code, out, _ = run_cli(capsys, "train", "--data", str(tmp_path / "events.parquet"), "--seq-len", "20",
                           "--model", "pca", "--json")
    assert code == 0
    version = json.loads(out)["version"]
    fresh = generate_events(300, 4, seed=2)
    fresh.to_parquet(tmp_path / "fresh.parquet", index=False)
    code, out, _ = run_cli(capsys, "score", "--data", str(tmp_path / "fresh.parquet"), "--version", version,
                           "--out", str(tmp_path / "s.parquet"), "--json")
    assert code == 0 and json.loads(out)["windows"] == 281
    table = pd.read_parquet(tmp_path / "s.parquet")
    assert list(table.columns) == ["timestamp", "score", "is_anomaly"]
    assert table["timestamp"].iloc[0] == fresh["timestamp"].iloc[19]  # a window scores its last event
    # the same features in another order are refused, never silently reordered
    fresh[["timestamp", "f1", "f0", "f2", "f3", "label"]].to_parquet(tmp_path / "swapped.parquet", index=False)
    code, _, err = run_cli(capsys, "score", "--data", str(tmp_path / "swapped.parquet"), "--version", version,
                           "--out", str(tmp_path / "bad.parquet"))
    assert code != 0 and "do not match" in err and not (tmp_path / "bad.parquet").exists()


def test_real_column_names_become_the_model_schema(capsys, tmp_path, store_uri):
    from anomaly_core.data.events import generate_events
    from anomaly_core.registry import open_registry

    names = {"f0": "cpu_load", "f1": "mem_used", "f2": "p99_ms"}
    generate_events(1200, 3, seed=1).rename(columns=names).to_parquet(tmp_path / "t.parquet", index=False)
    code, out, _ = run_cli(capsys, "train", "--data", str(tmp_path / "t.parquet"), "--seq-len", "10",
                           "--model", "energy", "--json")
    version = json.loads(out)["version"]
    meta = open_registry(store_uri).show("telemetry", version)["metadata"]
    assert meta["feature_schema"]["names"] == ["cpu_load", "mem_used", "p99_ms"]
    generate_events(200, 3, seed=2).rename(columns=names).to_parquet(tmp_path / "new.parquet", index=False)
    code, _, err = run_cli(capsys, "score", "--data", str(tmp_path / "new.parquet"), "--version", version,
                           "--out", str(tmp_path / "s.npy"))
    assert code == 0, err
    generate_events(200, 3, seed=2).to_parquet(tmp_path / "other.parquet", index=False)  # f0, f1, f2
    code, _, err = run_cli(capsys, "score", "--data", str(tmp_path / "other.parquet"), "--version", version,
                           "--out", str(tmp_path / "s2.npy"))
    assert code != 0 and "cpu_load" in err
