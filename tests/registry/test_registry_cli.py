"""``anomaly registry ...`` with --json on a local store, and 8 racing promoter processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from anomaly_core.cli import main
from anomaly_core.registry import open_registry

NAME = "telemetry"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_files, metadata) -> Path:
    """A local store with two versions, selected through the environment like an operator would."""
    root = tmp_path / "store"
    monkeypatch.setenv("ANOMALY_STORE_URI", str(root))
    monkeypatch.delenv("ANOMALY_MODEL_NAME", raising=False)
    monkeypatch.setenv("ANOMALY_ACTOR", "tester")
    reg = open_registry(root)
    for seed in (1, 2):
        reg.register(NAME, make_files(seed), metadata=metadata)
    return root


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict | str, str]:
    """Exit status, the one JSON object on stdout (or the text without --json), stderr."""
    code = main(["registry", *argv])
    out, err = capsys.readouterr()
    if "--json" in argv:
        assert out.count("\n") == 1, f"expected exactly one line of JSON, got {out!r}"
        return code, json.loads(out), err
    return code, out, err


def test_list_show_and_the_json_shapes(store: Path, capsys) -> None:
    code, listed, _ = run(capsys, "list", "--json")
    assert code == 0 and [v["version"] for v in listed["versions"]] == ["1", "2"]
    code, shown, _ = run(capsys, "show", "2", "--json")
    assert code == 0 and shown["version"] == "2" and "weights.bin" in shown["manifest"]["files"]
    code, aliases, _ = run(capsys, "aliases", "--json")
    assert code == 0 and aliases["aliases"] == {}
    code, text, _ = run(capsys, "list")
    assert code == 0 and text.splitlines()[0].split()[0] == "1"


def test_promote_rollback_history_end_to_end(store: Path, capsys) -> None:
    code, first, _ = run(capsys, "promote", "1", "--alias", "production", "--reason", "deploy", "--json")
    assert code == 0 and (first["from"], first["to"], first["actor"]) == (None, "1", "tester")
    code, second, _ = run(capsys, "promote", "2", "--alias", "production", "--reason", "better",
                          "--actor", "alice", "--json")
    assert code == 0 and (second["from"], second["to"], second["actor"]) == ("1", "2", "alice")
    code, aliases, _ = run(capsys, "aliases", "--json")
    assert aliases["aliases"]["production"]["version"] == "2"
    code, back, _ = run(capsys, "rollback", "--alias", "production", "--reason", "alerts", "--json")
    assert code == 0 and (back["from"], back["to"], back["action"]) == ("2", "1", "rollback")
    code, named, _ = run(capsys, "rollback", "--alias", "production", "--to", "2", "--reason", "x", "--json")
    assert code == 0 and named["to"] == "2"
    code, history, _ = run(capsys, "history", "production", "--json")
    assert [e["to"] for e in history["history"]] == ["1", "2", "1", "2"]
    code, everything, _ = run(capsys, "history", "--json")
    assert everything["history"] == history["history"]
    code, text, _ = run(capsys, "history", "production")
    assert code == 0 and "rollback by tester: alerts" in text


def test_promote_missing_version_fails_and_changes_nothing(store: Path, capsys) -> None:
    run(capsys, "promote", "1", "--alias", "production", "--reason", "deploy", "--json")
    code, out, err = run(capsys, "promote", "999999", "--alias", "production", "--reason", "typo")
    assert code == 2 and out == ""
    assert err.strip().splitlines()[-1] == "anomaly registry: error: model 'telemetry' has no version 999999"
    assert run(capsys, "aliases", "--json")[1]["aliases"]["production"]["version"] == "1"


def test_stale_expected_version_is_refused(store: Path, capsys) -> None:
    run(capsys, "promote", "1", "--alias", "production", "--reason", "a", "--json")
    run(capsys, "promote", "2", "--alias", "production", "--reason", "b", "--json")
    code, _, err = run(capsys, "promote", "1", "--alias", "production", "--reason", "c",
                       "--expected-version", "1")
    assert code == 2 and "tester moved it from 1 to 2" in err


def test_verify_exits_non_zero_naming_the_bad_file(store: Path, capsys, caplog) -> None:
    code, report, _ = run(capsys, "verify", "1", "--json")
    assert code == 0 and report["ok"] is True and report["bad"] == []
    path = store / "models" / NAME / "versions" / "1" / "weights.bin"
    body = bytearray(path.read_bytes())
    body[len(body) // 2] ^= 0xFF
    path.write_bytes(bytes(body))
    code, report, _ = run(capsys, "verify", "1", "--json")
    assert code == 1 and report["ok"] is False and report["bad"] == ["weights.bin"]
    assert "weights.bin (sha256 does not match" in caplog.text  # the stderr log line names it too
    code, text, _ = run(capsys, "verify", "1")
    assert code == 1 and "BAD weights.bin" in text
    assert run(capsys, "verify", "2")[0] == 0


def test_bad_input_is_one_line_and_exit_2(store: Path, capsys) -> None:
    for argv in (["show", "../1"], ["history", "Prod"], ["show", "7"], ["list", "--name", "../x"],
                 ["rollback", "--alias", "production", "--reason", "x"], ["list", "--store", "gs://b/x"]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, (argv, err)


def test_store_and_name_options(tmp_path: Path, capsys, make_files, metadata) -> None:
    other = tmp_path / "other"
    open_registry(other).register("web", make_files(), metadata=metadata)
    code, listed, _ = run(capsys, "list", "--store", f"file://{other}", "--name", "web", "--json")
    assert code == 0 and [v["version"] for v in listed["versions"]] == ["1"]


_PROMOTER = """
import sys
from anomaly_core.registry import open_registry
store, version, reason = sys.argv[1:4]
open_registry(store).promote("telemetry", version, "race", reason=reason)
"""


def test_eight_racing_promoter_processes(store: Path) -> None:
    """Separate processes (separate locks and file handles) on one local store lose no move."""
    procs = [subprocess.Popen([sys.executable, "-c", _PROMOTER, str(store), str(1 + i % 2), f"r{i}"],
                              cwd=Path(__file__).resolve().parents[2])
             for i in range(8)]
    assert [p.wait(timeout=60) for p in procs] == [0] * 8
    reg = open_registry(store)
    history = reg.history(NAME, "race")
    assert sorted(e["reason"] for e in history) == sorted(f"r{i}" for i in range(8))
    assert all(history[i]["from"] == history[i - 1]["to"] for i in range(1, 8))
    assert reg.resolve(NAME, "race") == history[-1]["to"]
