"""Loading: verified files only, threshold from threshold.json, and never a pickle from the store."""

from __future__ import annotations

import ast
import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from anomaly_core.errors import IntegrityError, InvalidInput, NotFound
from anomaly_core.registry import open_registry
from anomaly_core.registry.codec import sha256

NAME = "telemetry"


class _Planted:
    """Unpickling this creates the marker file: proof that something unpickled it."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def _pickle_bomb(marker: Path) -> bytes:
    body = pickle.dumps(_Planted(str(marker)))
    assert not marker.exists()
    return body


def test_load_by_version_and_alias(registry, make_files, metadata, fake_load_detector) -> None:
    v1 = registry.register(NAME, make_files(1, threshold=0.25), metadata=metadata)
    v2 = registry.register(NAME, make_files(2, threshold=0.75), metadata=metadata)
    registry.promote(NAME, v2, "production", reason="deploy")
    det = registry.load(NAME, alias="production")
    assert (det.version, det.threshold, det.alias) == (v2, 0.75, "production")
    assert det.metadata["model_type"] == "fake" and det.metadata["version"] == v2
    assert det.manifest_digest == registry.show(NAME, v2)["manifest"]["digest"]
    X = np.array([[[0.0], [0.5]], [[1.0], [1.0]]], dtype=np.float32)  # (N=2, T=2, F=1)
    scores = det.score(X)
    assert scores.dtype == np.float64 and scores.shape == (2,)
    assert det.predict(X).tolist() == [False, True]
    old = registry.load(NAME, version=v1)
    assert (old.version, old.threshold, old.alias) == (v1, 0.25, None)
    given = fake_load_detector[-1]
    assert set(given) == set(make_files(1)) | {"metadata.json"}  # every verified file, nothing else


def test_load_refuses_a_corrupted_version(backend, registry, make_files, metadata,
                                          fake_load_detector) -> None:
    version = registry.register(NAME, make_files(), metadata=metadata)
    registry.promote(NAME, version, "production", reason="deploy")
    backend.raw_put(f"models/{NAME}/versions/{version}/threshold.json", b'{"value": 99.0}')
    with pytest.raises(IntegrityError, match="threshold.json"):
        registry.load(NAME, alias="production")
    with pytest.raises(IntegrityError, match="threshold.json"):
        registry.load(NAME, version=version)
    assert fake_load_detector == []  # the detector never saw unverified bytes


def test_load_refuses_a_manifest_swapped_after_promotion(backend, registry, make_files, metadata,
                                                         fake_load_detector) -> None:
    """What is served must be what was promoted: the alias records the manifest digest."""
    version = registry.register(NAME, make_files(1), metadata=metadata)
    registry.promote(NAME, version, "production", reason="deploy")
    # Forge a self-consistent version in place: new files and a manifest that matches them.
    manifest = json.loads(backend.store.get(f"models/{NAME}/versions/{version}/manifest.json")[0])
    for filename, body in make_files(2).items():
        backend.raw_put(f"models/{NAME}/versions/{version}/{filename}", body)
        manifest["files"][filename] = {"sha256": sha256(body), "size": len(body)}
    backend.raw_put(f"models/{NAME}/versions/{version}/manifest.json", json.dumps(manifest).encode())
    assert registry.verify(NAME, version)["ok"]  # the forgery passes a plain hash check...
    with pytest.raises(IntegrityError, match="changed since alias 'production'"):
        registry.load(NAME, alias="production")  # ...but not the digest recorded by the promotion
    assert fake_load_detector == []


def test_load_needs_exactly_one_target(registry) -> None:
    with pytest.raises(InvalidInput, match="exactly one"):
        registry.load(NAME)
    with pytest.raises(InvalidInput, match="exactly one"):
        registry.load(NAME, alias="production", version="1")
    with pytest.raises(NotFound, match="production"):
        registry.load(NAME, alias="production")
    with pytest.raises(NotFound, match="no version 3"):
        registry.load(NAME, version="3")


@pytest.mark.parametrize("threshold", [b'{"value": "high"}', b'{"value": NaN}', b'{"v": 1}', b"[1]",
                                       b'{"value": true}'])
def test_load_refuses_a_bad_threshold(tmp_path, make_files, metadata, fake_load_detector,
                                      threshold: bytes) -> None:
    reg = open_registry(tmp_path)
    version = reg.register(NAME, {**make_files(), "threshold.json": threshold}, metadata=metadata)
    with pytest.raises(InvalidInput, match="threshold.json"):
        reg.load(NAME, version=version)


def test_load_refuses_a_version_without_threshold(tmp_path, metadata, fake_load_detector) -> None:
    reg = open_registry(tmp_path)
    version = reg.register(NAME, {"weights.bin": b"w"}, metadata=metadata)
    with pytest.raises(IntegrityError, match="no threshold.json"):
        reg.load(NAME, version=version)


def test_a_planted_pickle_is_never_unpickled(backend, registry, make_files, metadata, fake_load_detector,
                                             tmp_path: Path) -> None:
    """A pickle inside a version (listed or planted later) is bytes to the registry, never code."""
    marker = tmp_path / "unpickled.marker"
    bomb = _pickle_bomb(marker)
    version = registry.register(NAME, {**make_files(), "model.pkl": bomb}, metadata=metadata)
    backend.raw_put(f"models/{NAME}/versions/{version}/planted.pkl", bomb)  # not in the manifest
    backend.raw_put(f"models/{NAME}/versions/{version}/weights.bin", bomb)  # replaces a listed file
    report = registry.verify(NAME, version)
    assert report["bad"] == ["weights.bin"] and "planted.pkl" in report["extra"]
    with pytest.raises(IntegrityError, match="weights.bin"):
        registry.load(NAME, version=version)
    with pytest.raises(IntegrityError):
        registry.promote(NAME, version, "production", reason="x")
    registry.list_versions(NAME)
    registry.show(NAME, version)
    assert registry.read_file(NAME, version, "model.pkl") == bomb
    clean = registry.register(NAME, {**make_files(), "model.pkl": bomb}, metadata=metadata)
    assert registry.load(NAME, version=clean).version == clean  # the stub got the pickle as bytes
    assert fake_load_detector[-1]["model.pkl"] == bomb
    assert not marker.exists()


def test_registry_code_has_no_unsafe_loader() -> None:
    """No pickle-family import and no ``torch.load`` anywhere in the registry package."""
    import anomaly_core.registry as pkg

    unsafe = {"pickle", "_pickle", "cPickle", "joblib", "dill", "cloudpickle", "shelve", "marshal"}
    for path in Path(pkg.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                names = {(node.module or "").split(".")[0]}
            elif isinstance(node, ast.Attribute) and node.attr == "load":
                names = {"torch"} & {getattr(node.value, "id", "")}
            else:
                continue
            assert not names & (unsafe | {"torch"}), f"{path.name}:{node.lineno} uses {names}"


def test_real_detector_round_trip(tmp_path: Path) -> None:
    """Integration with models.persist when it is importable: register, load, same scores."""
    persist = pytest.importorskip("anomaly_core.models.persist")
    models = pytest.importorskip("anomaly_core.models")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 8, 3)).astype(np.float32)
    det = models.make_detector("pca").fit(X)
    files = {**persist.dump_detector(det), "threshold.json": b'{"value": 1.0}'}
    reg = open_registry(tmp_path)
    version = reg.register(NAME, files, metadata={"model_type": "pca"})
    loaded = reg.load(NAME, version=version)
    np.testing.assert_allclose(loaded.score(X), det.score(X))
    assert loaded.predict(X).dtype == bool
