"""Versioned artifact registry on a local folder or S3: immutable versions, CAS aliases, history.

>>> reg = open_registry("s3://models/anomaly")        # or "/srv/store", "file:///srv/store"
>>> v = reg.register("telemetry", {"weights.safetensors": b"...", "threshold.json": b'{"value": 1.5}'},
...                  metadata={"model_type": "lstm_ae"})
>>> reg.promote("telemetry", v, "production", reason="passed the gate")
>>> det = reg.load("telemetry", alias="production")
>>> det.version, det.threshold, det.score(X), det.predict(X)

Key layout and guarantees: :mod:`anomaly_core.registry.layout` and ``docs/registry.md``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ..errors import IntegrityError, InvalidInput, NotFound
from . import aliases as _aliases
from . import layout
from . import versions as _versions
from .codec import default_actor, load_json
from .loaded import LoadedModel, build
from .store import Store, open_store

__all__ = ["LoadedModel", "Registry", "Store", "open_registry", "open_store"]


def _check_reason(reason: str) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("an alias move needs a non-empty reason (it is recorded in the history)")
    return reason.strip()


class Registry:
    """Model versions, aliases and history in one :class:`Store`. Cheap to build; no I/O until used."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def uri(self) -> str:
        return self.store.uri

    def __repr__(self) -> str:
        return f"Registry({self.store.uri!r})"

    # -- versions -----------------------------------------------------------------------------------

    def register(self, name: str, files: Mapping[str, bytes], *, metadata: Mapping[str, Any]) -> str:
        """Write an immutable version (``files`` + ``metadata.json``, manifest last); return its id."""
        return _versions.register(self.store, name, files, metadata)

    def names(self) -> list[str]:
        """Every model name that has at least one claimed version."""
        return [n for n in self.store.children("models/") if self.store.children(f"models/{n}/versions/")]

    def list_versions(self, name: str) -> list[dict[str, Any]]:
        """Visible versions, oldest first: id plus a summary of the metadata and current aliases."""
        pointing: dict[str, list[str]] = {}
        for alias, info in self.aliases(name).items():
            pointing.setdefault(info["version"], []).append(alias)
        rows = []
        for version in _versions.list_ids(self.store, name):
            try:
                manifest = _versions.read_manifest(self.store, name, version)
                meta = self._metadata(manifest)
            except IntegrityError as err:  # one damaged version must not hide the others
                rows.append({"version": version, "error": str(err), "aliases": pointing.get(version, [])})
                continue
            rows.append({"version": version, "registered_at": meta.get("registered_at"),
                         "model_type": meta.get("model_type"), "metrics": meta.get("metrics"),
                         "parent_version": meta.get("parent_version"), "files": len(manifest.files),
                         "size": manifest.as_dict()["size"], "aliases": sorted(pointing.get(version, []))})
        return rows

    def show(self, name: str, version: str) -> dict[str, Any]:
        """Metadata and manifest of one version (metadata verified against the manifest)."""
        manifest = _versions.read_manifest(self.store, name, version)
        pointing = sorted(a for a, info in self.aliases(name).items() if info["version"] == manifest.version)
        return {"name": name, "version": manifest.version, "metadata": self._metadata(manifest),
                "manifest": manifest.as_dict(), "aliases": pointing}

    def read_files(self, name: str, version: str) -> dict[str, bytes]:
        """Every file of a version, each checked against the manifest (``IntegrityError`` names it)."""
        return _versions.read_files(self.store, _versions.read_manifest(self.store, name, version))

    def read_file(self, name: str, version: str, filename: str) -> bytes:
        """One verified file of a version."""
        return _versions.read_verified(self.store, _versions.read_manifest(self.store, name, version),
                                       filename)

    def verify(self, name: str, version: str) -> dict[str, Any]:
        """A report with ``ok`` and one row per file; bad files are reported, not raised."""
        return _versions.verify(self.store, name, version)

    def _metadata(self, manifest: _versions.Manifest) -> dict[str, Any]:
        body = _versions.read_verified(self.store, manifest, layout.METADATA)
        meta = load_json(body, f"metadata of {manifest.name!r} version {manifest.version}")
        return meta if isinstance(meta, dict) else {}

    # -- aliases ------------------------------------------------------------------------------------

    def resolve(self, name: str, alias: str) -> str:
        """The version an alias points at; ``NotFound`` when it is not set."""
        state = _aliases.read_alias(self.store, layout.check_name(name), alias)
        if state is None:
            raise NotFound(f"alias {alias!r} of {name!r} is not set")
        return state.version

    def aliases(self, name: str) -> dict[str, dict[str, Any]]:
        """Every alias with its version and last move."""
        result = {}
        for alias in _aliases.alias_names(self.store, layout.check_name(name)):
            state = _aliases.read_alias(self.store, name, alias)
            if state is not None:
                result[alias] = state.summary()
        return result

    def alias_etag(self, name: str, alias: str) -> str | None:
        """The alias object's etag (one HEAD): changes on every move; ``None`` when unset."""
        return self.store.head(layout.alias_key(layout.check_name(name), alias))

    def promote(self, name: str, version: str, alias: str, *, reason: str, actor: str | None = None,
                gate: dict[str, Any] | None = None, expected_version: str | None = None) -> dict[str, Any]:
        """Point ``alias`` at a version that exists and verifies; return the history event.

        ``expected_version`` makes it a strict compare-and-swap: refused (``PreconditionFailed``,
        saying who moved it) unless the alias is still there.
        """
        layout.check_alias(alias)
        reason = _check_reason(reason)
        expected = layout.check_version(expected_version) if expected_version is not None else None
        digest = self._verified_digest(name, version, alias)
        return _aliases.move(self.store, name, alias, layout.check_version(version), reason=reason,
                             actor=actor or default_actor(), gate=gate, action="promote",
                             expected=expected, manifest_sha256=digest)

    def rollback(self, name: str, alias: str, *, to: str | None = None, reason: str,
                 actor: str | None = None) -> dict[str, Any]:
        """Move ``alias`` back to where its last move came from, or to version ``to``."""
        reason = _check_reason(reason)
        state = _aliases.read_alias(self.store, layout.check_name(name), alias)
        if state is None:
            raise NotFound(f"alias {alias!r} of {name!r} is not set; nothing to roll back")
        target = to if to is not None else state.event.get("from")
        if target is None:
            raise InvalidInput(f"alias {alias!r} of {name!r} has no earlier version in its history (its "
                               f"first move was to {state.version}); name one with to=/--to")
        target = layout.check_version(target)
        digest = self._verified_digest(name, target, alias)
        # Strict CAS on what we read: if someone moved it meanwhile, "previous" means something else.
        return _aliases.move(self.store, name, alias, target, reason=reason, actor=actor or default_actor(),
                             gate=None, action="rollback", expected=state.version, manifest_sha256=digest)

    def history(self, name: str, alias: str | None = None) -> list[dict[str, Any]]:
        """Alias moves, oldest first; all aliases (ordered by time) when ``alias`` is None."""
        layout.check_name(name)
        if alias is not None:
            return _aliases.history(self.store, name, layout.check_alias(alias))
        events = [e for a in _aliases.alias_names(self.store, name)
                  for e in _aliases.history(self.store, name, a)]
        return sorted(events, key=lambda e: (str(e.get("at")), str(e.get("alias")), int(e.get("seq", 0))))

    def _verified_digest(self, name: str, version: str, alias: str) -> str:
        report = _versions.verify(self.store, name, layout.check_version(version))  # NotFound if missing
        if not report["ok"]:
            raise IntegrityError(f"refusing to point {alias!r} at {name!r} version {report['version']}: "
                                 f"bad files {report['bad']}; alias unchanged")
        return str(report["manifest_sha256"])

    # -- loading ------------------------------------------------------------------------------------

    def load(self, name: str, *, alias: str | None = None, version: str | None = None) -> LoadedModel:
        """Resolve, verify every file, and rebuild the detector (no pickle is ever read)."""
        if (alias is None) == (version is None):
            raise InvalidInput("load needs exactly one of alias= or version=")
        expected_digest = None
        if alias is not None:
            state = _aliases.read_alias(self.store, layout.check_name(name), alias)
            if state is None:
                raise NotFound(f"alias {alias!r} of {name!r} is not set")
            version, expected_digest = state.version, state.obj.get("manifest_sha256")
        manifest = _versions.read_manifest(self.store, name, str(version))
        if expected_digest and manifest.digest != expected_digest:
            # The version was promoted with another manifest: what is served must be what was gated.
            raise IntegrityError(f"manifest of {name!r} version {manifest.version} changed since alias "
                                 f"{alias!r} was moved to it (sha256 {manifest.digest[:12]} != "
                                 f"{expected_digest[:12]})")
        files = _versions.read_files(self.store, manifest)
        return build(name, manifest.version, files, manifest.digest, alias)


def open_registry(uri: str | os.PathLike[str] | Store) -> Registry:
    """A registry on ``uri`` (a folder, ``file://`` or ``s3://bucket/prefix``) or on a ready store."""
    return Registry(uri if isinstance(uri, Store) else open_store(uri))
