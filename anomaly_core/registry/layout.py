"""Where the registry keeps things in a store, and the checks on every name that becomes a key.

Layout (relative to the store root)::

    models/<name>/versions/<n>/_claim             create-only claim of version id n
    models/<name>/versions/<n>/<file>             the version's files (create-only)
    models/<name>/versions/<n>/metadata.json      written with the files
    models/<name>/versions/<n>/manifest.json      written LAST: sha256 + size of every file
    models/<name>/aliases/<alias>.json            the alias pointer, moved by compare-and-swap
    models/<name>/history/<alias>/<seq>.json      one immutable event per alias move (seq = 1, 2, ...)
"""

from __future__ import annotations

import re

from ..errors import InvalidInput
from .store import validate_key

CLAIM = "_claim"
MANIFEST = "manifest.json"
METADATA = "metadata.json"
THRESHOLD = "threshold.json"
#: names the registry writes itself; a caller's files may not use them
RESERVED_FILES = frozenset({CLAIM, MANIFEST, METADATA})

_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_ALIAS = re.compile(r"[a-z0-9_-]+")
_MAX_NAME = 128


def check_name(name: str) -> str:
    """A model name: ``[A-Za-z0-9_.-]+``, not only dots, at most 128 characters."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name or len(name) > _MAX_NAME:
        raise InvalidInput(f"model name must match [A-Za-z0-9_.-]+ (no '..', at most {_MAX_NAME} "
                           f"characters), got {name!r}")
    if name.startswith("."):
        raise InvalidInput(f"model name must not start with '.', got {name!r}")
    return name


def check_version(version: str | int) -> str:
    """A version id: a positive decimal integer, returned in canonical form (``"007"`` -> ``"7"``)."""
    text = str(version).strip() if isinstance(version, str | int) and not isinstance(version, bool) else ""
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise InvalidInput(f"version must be a positive integer, got {version!r}")
    return str(int(text))


def check_alias(alias: str) -> str:
    """An alias: ``[a-z0-9_-]+``, at most 128 characters, and not a bare number (that is a version)."""
    if not isinstance(alias, str) or not _ALIAS.fullmatch(alias) or len(alias) > _MAX_NAME:
        raise InvalidInput(f"alias must match [a-z0-9_-]+ (at most {_MAX_NAME} characters), got {alias!r}")
    if alias.isdigit():
        raise InvalidInput(f"alias must not be a bare number (it would read as a version), got {alias!r}")
    return alias


def check_filename(filename: str) -> str:
    """A file inside a version: a safe relative key (``figures/roc.png`` is fine), not reserved."""
    validate_key(filename)
    for segment in filename.split("/"):
        if not _NAME.fullmatch(segment):
            raise InvalidInput(f"file name segment {segment!r} in {filename!r} must match [A-Za-z0-9_.-]+")
    if filename in RESERVED_FILES:
        raise InvalidInput(f"file name {filename!r} is written by the registry itself; "
                           f"reserved: {sorted(RESERVED_FILES)}")
    return filename


def model_prefix(name: str) -> str:
    return f"models/{check_name(name)}/"


def versions_prefix(name: str) -> str:
    return f"{model_prefix(name)}versions/"


def version_prefix(name: str, version: str) -> str:
    return f"{versions_prefix(name)}{check_version(version)}/"


def version_key(name: str, version: str, filename: str) -> str:
    return version_prefix(name, version) + filename


def alias_key(name: str, alias: str) -> str:
    return f"{model_prefix(name)}aliases/{check_alias(alias)}.json"


def aliases_prefix(name: str) -> str:
    return f"{model_prefix(name)}aliases/"


def history_prefix(name: str, alias: str) -> str:
    return f"{model_prefix(name)}history/{check_alias(alias)}/"


def history_key(name: str, alias: str, seq: int) -> str:
    return f"{history_prefix(name, alias)}{seq:08d}.json"
