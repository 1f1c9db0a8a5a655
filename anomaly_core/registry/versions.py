"""Immutable versions: claim an id, write the files create-only, write the manifest last, verify reads.

A version exists for readers only once its ``manifest.json`` exists; the manifest is written after
every other file, so a reader either sees a complete version or none. A crash before the manifest
leaves a claimed id with some files: invisible, and the next registration claims the id after it.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import AlreadyExists, Conflict, IntegrityError, InvalidInput, NotFound
from . import layout
from .codec import dump_json, load_json, now_iso, sha256
from .store import Store

log = logging.getLogger(__name__)

MANIFEST_FORMAT = 1
_MAX_CLAIM_ATTEMPTS = 1000
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Manifest:
    """A parsed ``manifest.json``; ``digest`` is the SHA-256 of its bytes (what serving reports)."""

    name: str
    version: str
    files: dict[str, dict[str, Any]]  # file -> {"sha256": hex, "size": int}
    created_at: str
    digest: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "created_at": self.created_at,
                "files": self.files, "digest": self.digest,
                "size": sum(int(e["size"]) for e in self.files.values())}


# -- writing -----------------------------------------------------------------------------------------


def _create_once(store: Store, key: str, body: bytes) -> None:
    """Create-only write that tolerates its own earlier attempt (a retried PUT whose reply was lost)."""
    try:
        store.create(key, body)
    except AlreadyExists:
        if store.get(key)[0] != body:
            raise


def claim_next(store: Store, name: str) -> str:
    """Claim the next free version id with a create-only write; on a lost race try the next id."""
    token = uuid.uuid4().hex
    body = dump_json({"token": token, "claimed_at": now_iso(), "host": socket.gethostname(),
                      "pid": os.getpid()})
    ids = [int(c) for c in store.children(layout.versions_prefix(name)) if c.isdigit()]
    candidate = max(ids, default=0) + 1
    for _ in range(_MAX_CLAIM_ATTEMPTS):
        version = str(candidate)
        key = layout.version_key(name, version, layout.CLAIM)
        try:
            store.create(key, body)
            return version
        except AlreadyExists:
            try:
                claim = load_json(store.get(key)[0], key)
            except NotFound:
                continue  # cannot happen on a create-only key, but retrying the same id is safe
            if isinstance(claim, dict) and claim.get("token") == token:
                return version  # our own retried write won
            candidate += 1
        except Conflict:
            continue  # S3 409: a concurrent create of the same key is in flight; retry this id
    raise Conflict(f"could not claim a version id for {name!r} after {_MAX_CLAIM_ATTEMPTS} attempts")


def register(store: Store, name: str, files: Mapping[str, bytes], metadata: Mapping[str, Any]) -> str:
    """Write a new version and return its id; see the module docstring for the order of writes."""
    layout.check_name(name)
    if not files:
        raise InvalidInput(f"refusing to register an empty version of {name!r}: no files given")
    bodies: dict[str, bytes] = {}
    for filename, body in files.items():
        layout.check_filename(filename)
        if not isinstance(body, bytes | bytearray | memoryview):
            raise InvalidInput(f"file {filename!r} must be bytes, got {type(body).__name__}")
        bodies[filename] = bytes(body)
    if not isinstance(metadata, Mapping):
        raise InvalidInput(f"metadata must be a mapping, got {type(metadata).__name__}")
    dump_json(dict(metadata))  # fail on unserialisable metadata before an id is claimed

    version = claim_next(store, name)
    registered_at = now_iso()
    bodies[layout.METADATA] = dump_json({**metadata, "name": name, "version": version,
                                         "registered_at": registered_at})
    entries = {}
    for filename in sorted(bodies):
        _create_once(store, layout.version_key(name, version, filename), bodies[filename])
        entries[filename] = {"sha256": sha256(bodies[filename]), "size": len(bodies[filename])}
    manifest = {"format": MANIFEST_FORMAT, "name": name, "version": version, "created_at": now_iso(),
                "files": entries}
    _create_once(store, layout.version_key(name, version, layout.MANIFEST), dump_json(manifest))
    log.info("registered %s version %s (%d files)", name, version, len(entries))
    return version


# -- reading -----------------------------------------------------------------------------------------


def list_ids(store: Store, name: str) -> list[str]:
    """Visible version ids (those with a manifest), oldest first."""
    prefix = layout.versions_prefix(name)
    ids = []
    for key in store.list(prefix):
        parts = key[len(prefix):].split("/")
        if len(parts) == 2 and parts[1] == layout.MANIFEST and parts[0].isdigit():
            ids.append(parts[0])
    return sorted(ids, key=int)


def read_manifest(store: Store, name: str, version: str) -> Manifest:
    """The parsed manifest; ``NotFound`` for a missing (or still incomplete) version."""
    version = layout.check_version(version)
    key = layout.version_key(name, version, layout.MANIFEST)
    try:
        body, _ = store.get(key)
    except NotFound:
        if store.head(layout.version_key(name, version, layout.CLAIM)) is not None:
            raise NotFound(f"version {version} of {name!r} is incomplete (no manifest.json yet, or its "
                           "registration crashed); it does not exist for readers") from None
        raise NotFound(f"model {name!r} has no version {version}") from None
    raw = load_json(body, f"manifest of {name!r} version {version}")
    files = raw.get("files") if isinstance(raw, dict) else None
    if (not isinstance(files, dict) or raw.get("name") != name or str(raw.get("version")) != version
            or not all(_valid_entry(e) for e in files.values())):
        raise IntegrityError(f"manifest of {name!r} version {version} is malformed or belongs to "
                             "another version")
    return Manifest(name=name, version=version, files=files, created_at=str(raw.get("created_at", "")),
                    digest=sha256(body))


def _valid_entry(entry: Any) -> bool:
    return (isinstance(entry, dict) and isinstance(entry.get("size"), int)
            and isinstance(entry.get("sha256"), str) and bool(_SHA256.fullmatch(entry["sha256"])))


def _problem(body: bytes, entry: Mapping[str, Any]) -> str | None:
    if len(body) != entry["size"]:
        return f"size {len(body)} != {entry['size']} in manifest"
    if sha256(body) != entry["sha256"]:
        return "sha256 does not match the manifest"
    return None


def read_verified(store: Store, manifest: Manifest, filename: str) -> bytes:
    """One file of a version, checked against the manifest; ``IntegrityError`` names the file."""
    entry = manifest.files.get(filename)
    if entry is None:
        raise NotFound(f"version {manifest.version} of {manifest.name!r} has no file {filename!r}; "
                       f"files: {sorted(manifest.files)}")
    key = layout.version_key(manifest.name, manifest.version, filename)
    try:
        body, _ = store.get(key)
    except NotFound:
        raise IntegrityError(f"file {filename!r} of {manifest.name!r} version {manifest.version} "
                             "is listed in the manifest but missing") from None
    problem = _problem(body, entry)
    if problem:
        raise IntegrityError(f"file {filename!r} of {manifest.name!r} version {manifest.version} is "
                             f"corrupt: {problem}")
    return body


def read_files(store: Store, manifest: Manifest) -> dict[str, bytes]:
    """Every file of a version, each verified; the first bad one raises ``IntegrityError``."""
    return {filename: read_verified(store, manifest, filename) for filename in sorted(manifest.files)}


def verify(store: Store, name: str, version: str) -> dict[str, Any]:
    """Check every file against the manifest; a report, never an exception for a bad file."""
    manifest = read_manifest(store, name, version)
    rows = []
    for filename in sorted(manifest.files):
        entry = manifest.files[filename]
        row: dict[str, Any] = {"file": filename, "expected_sha256": entry["sha256"],
                               "expected_size": entry["size"]}
        try:
            body, _ = store.get(layout.version_key(name, manifest.version, filename))
        except NotFound:
            row.update(ok=False, problem="missing")
        else:
            problem = _problem(body, entry)
            row.update(ok=problem is None, size=len(body), sha256=sha256(body), problem=problem)
        rows.append(row)
    prefix = layout.version_prefix(name, manifest.version)
    known = set(manifest.files) | {layout.MANIFEST, layout.CLAIM}
    extra = [k[len(prefix):] for k in store.list(prefix) if k[len(prefix):] not in known]
    bad = [r["file"] for r in rows if not r["ok"]]
    return {"name": name, "version": manifest.version, "ok": not bad, "bad": bad, "files": rows,
            "manifest_sha256": manifest.digest,
            "extra": extra}  # files nobody listed: never read by the registry, reported for audit
