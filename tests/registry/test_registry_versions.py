"""Versions on both backends: ids, immutability, manifest-last visibility, verification, names."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from anomaly_core.errors import AlreadyExists, IntegrityError, InvalidInput, NotFound
from anomaly_core.registry import open_registry
from anomaly_core.registry import versions as versions_mod
from anomaly_core.registry.codec import sha256

NAME = "telemetry"


def test_register_list_show_read(registry, make_files, metadata) -> None:
    files = make_files(1)
    v1 = registry.register(NAME, files, metadata=metadata)
    v2 = registry.register(NAME, make_files(2), metadata={**metadata, "parent_version": v1})
    assert (v1, v2) == ("1", "2")
    rows = registry.list_versions(NAME)
    assert [r["version"] for r in rows] == ["1", "2"]
    assert rows[1]["parent_version"] == "1" and rows[0]["model_type"] == "fake"
    shown = registry.show(NAME, v1)
    assert shown["metadata"]["version"] == "1" and shown["metadata"]["registered_at"]
    assert shown["metadata"]["metrics"] == {"f1": 0.9}
    assert set(shown["manifest"]["files"]) == set(files) | {"metadata.json"}
    entry = shown["manifest"]["files"]["weights.bin"]
    assert entry == {"sha256": sha256(files["weights.bin"]), "size": len(files["weights.bin"])}
    read = registry.read_files(NAME, v1)
    assert {k: read[k] for k in files} == files
    assert registry.read_file(NAME, v1, "figures/scores.png") == files["figures/scores.png"]
    assert registry.names() == [NAME]


def test_version_files_are_immutable(backend, registry, make_files, metadata) -> None:
    version = registry.register(NAME, make_files(), metadata=metadata)
    for filename in ("weights.bin", "metadata.json", "manifest.json", "_claim"):
        with pytest.raises(AlreadyExists):
            backend.store.create(f"models/{NAME}/versions/{version}/{filename}", b"overwritten")
    assert registry.verify(NAME, version)["ok"]


def test_manifest_last_visibility(backend, registry, make_files, metadata) -> None:
    """Files without a manifest are invisible: a reader sees a complete version or none."""
    store = backend.store
    store.create(f"models/{NAME}/versions/1/_claim", b"{}")
    store.create(f"models/{NAME}/versions/1/weights.bin", b"half of a version")
    assert registry.list_versions(NAME) == []
    with pytest.raises(NotFound, match="incomplete"):
        registry.show(NAME, "1")
    with pytest.raises(NotFound):
        registry.read_files(NAME, "1")
    assert registry.register(NAME, make_files(), metadata=metadata) == "2"


def test_crash_before_manifest_leaves_version_invisible(backend, registry, make_files, metadata,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    assert registry.register(NAME, make_files(1), metadata=metadata) == "1"
    real_create = versions_mod._create_once

    def crash_on_manifest(store, key: str, body: bytes) -> None:
        if key.endswith("/manifest.json"):
            raise KeyboardInterrupt("simulated crash before the manifest")
        real_create(store, key, body)

    monkeypatch.setattr(versions_mod, "_create_once", crash_on_manifest)
    with pytest.raises(KeyboardInterrupt):
        registry.register(NAME, make_files(2), metadata=metadata)
    monkeypatch.undo()
    assert f"models/{NAME}/versions/2/weights.bin" in backend.raw_keys()  # files were written
    assert [r["version"] for r in registry.list_versions(NAME)] == ["1"]
    with pytest.raises(NotFound):
        registry.verify(NAME, "2")
    assert registry.register(NAME, make_files(3), metadata=metadata) == "3"
    assert [r["version"] for r in registry.list_versions(NAME)] == ["1", "3"]


def test_eight_concurrent_registrations_get_unique_ids(backend, make_files, metadata) -> None:
    reg = backend.registry  # the registry holds no state: sharing it shares only the HTTP pool
    reg.list_versions(NAME)  # connect first, so the writers start claiming together
    barrier = threading.Barrier(8)

    def register(i: int) -> str:
        barrier.wait()
        return reg.register(NAME, make_files(i, size=256), metadata={**metadata, "writer": i})

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(register, range(8)))
    assert sorted(ids, key=int) == [str(i) for i in range(1, 9)]
    writers = {reg.show(NAME, v)["metadata"]["writer"] for v in ids}
    assert writers == set(range(8))  # each id holds exactly one writer's files
    assert all(reg.verify(NAME, v)["ok"] for v in ids)


@pytest.mark.parametrize("damage", ["flip", "truncate", "extend"])
def test_verify_catches_damage(backend, registry, make_files, metadata, damage: str) -> None:
    files = make_files()
    version = registry.register(NAME, files, metadata=metadata)
    body = bytearray(files["weights.bin"])
    if damage == "flip":
        body[len(body) // 2] ^= 0xFF
    elif damage == "truncate":
        body = body[:-1]
    else:
        body += b"\0"
    backend.raw_put(f"models/{NAME}/versions/{version}/weights.bin", bytes(body))
    report = registry.verify(NAME, version)
    assert report["ok"] is False and report["bad"] == ["weights.bin"]
    row = next(r for r in report["files"] if r["file"] == "weights.bin")
    assert ("size" in row["problem"]) == (damage != "flip")
    with pytest.raises(IntegrityError, match="weights.bin"):
        registry.read_files(NAME, version)
    with pytest.raises(IntegrityError, match="weights.bin"):
        registry.read_file(NAME, version, "weights.bin")
    assert registry.read_file(NAME, version, "model_card.md") == files["model_card.md"]


def test_list_survives_a_damaged_version(backend, registry, make_files, metadata) -> None:
    v1 = registry.register(NAME, make_files(1), metadata=metadata)
    v2 = registry.register(NAME, make_files(2), metadata=metadata)
    backend.raw_put(f"models/{NAME}/versions/{v1}/metadata.json", b"{}")
    rows = registry.list_versions(NAME)
    assert [r["version"] for r in rows] == [v1, v2]
    assert "metadata.json" in rows[0]["error"] and "error" not in rows[1]


def test_verify_reports_a_missing_file_and_unlisted_extras(tmp_path, make_files, metadata) -> None:
    reg = open_registry(tmp_path)
    version = reg.register(NAME, make_files(), metadata=metadata)
    folder = tmp_path / "models" / NAME / "versions" / version
    (folder / "model_card.md").unlink()
    (folder / "planted.pkl").write_bytes(b"not listed")
    report = reg.verify(NAME, version)
    assert report["bad"] == ["model_card.md"] and report["extra"] == ["planted.pkl"]


def test_a_tampered_manifest_is_refused(backend, registry, make_files, metadata) -> None:
    v1 = registry.register(NAME, make_files(1), metadata=metadata)
    v2 = registry.register(NAME, make_files(2), metadata=metadata)
    manifest = backend.store.get(f"models/{NAME}/versions/{v1}/manifest.json")[0]
    backend.raw_put(f"models/{NAME}/versions/{v2}/manifest.json", manifest)  # v1's manifest in v2
    with pytest.raises(IntegrityError, match="another version"):
        registry.verify(NAME, v2)
    backend.raw_put(f"models/{NAME}/versions/{v2}/manifest.json", b"{not json")
    with pytest.raises(IntegrityError, match="not valid JSON"):
        registry.read_files(NAME, v2)


@pytest.mark.parametrize("name", ["../etc", "a/b", "..", ".", ".hidden", "", "a b", "x" * 200, "a..b"])
def test_bad_model_names_refused(tmp_path, make_files, metadata, name: str) -> None:
    registry = open_registry(tmp_path)  # refused before any I/O, so one backend is enough
    with pytest.raises(InvalidInput):
        registry.register(name, make_files(), metadata=metadata)
    with pytest.raises(InvalidInput):
        registry.list_versions(name)


@pytest.mark.parametrize("version", ["../1", "1/..", "0", "-1", "1.5", "abc", "", "１"])
def test_bad_versions_refused(tmp_path, version: str) -> None:
    registry = open_registry(tmp_path)
    with pytest.raises(InvalidInput):
        registry.show(NAME, version)


@pytest.mark.parametrize("filename", ["../escape", "/abs", "a//b", "a/../b", "metadata.json", "manifest.json",
                                      "_claim", "sp ace", ".hidden"])
def test_bad_file_names_refused(backend, registry, filename: str, metadata) -> None:
    with pytest.raises(InvalidInput):
        registry.register(NAME, {filename: b"x", "threshold.json": b'{"value": 1}'}, metadata=metadata)
    assert backend.raw_keys() == []  # refused before any id was claimed


def test_bad_registrations_refused_before_claiming(backend, registry, make_files) -> None:
    with pytest.raises(InvalidInput, match="empty"):
        registry.register(NAME, {}, metadata={})
    with pytest.raises(InvalidInput, match="bytes"):
        registry.register(NAME, {"a.txt": "text"}, metadata={})  # type: ignore[dict-item]
    with pytest.raises(InvalidInput, match="JSON"):
        registry.register(NAME, make_files(), metadata={"x": object()})
    assert backend.raw_keys() == []


def test_metadata_accepts_numpy_values(registry, make_files) -> None:
    import numpy as np

    version = registry.register(NAME, make_files(), metadata={"auc": np.float32(0.5), "n": np.int64(3),
                                                              "curve": np.arange(3)})
    meta = registry.show(NAME, version)["metadata"]
    assert (meta["auc"], meta["n"], meta["curve"]) == (0.5, 3, [0, 1, 2])


def test_stored_json_is_readable(tmp_path, make_files, metadata) -> None:
    """The manifest is plain JSON an operator (or another tool) can read without this package."""
    reg = open_registry(tmp_path)
    version = reg.register(NAME, make_files(), metadata=metadata)
    manifest = json.loads((tmp_path / "models" / NAME / "versions" / version / "manifest.json").read_text())
    assert manifest["format"] == 1 and "weights.bin" in manifest["files"]
