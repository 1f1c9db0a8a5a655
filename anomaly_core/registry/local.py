"""The local-folder store: the embedded default, safe for several processes on one machine.

* create-only: the body goes to a hidden temporary file in the target folder, is fsynced, and is
  then hard-linked to its key. ``os.link`` fails if the key exists, so the check and the write are
  one atomic step and a reader never sees a partial file.
* compare-and-swap: an exclusive ``fcntl.flock`` on a hidden lock file next to the key serialises
  writers; the new body is renamed over the old one with ``os.replace`` (atomic for readers, who
  take no lock).
* etag: SHA-256 of the content, so it changes exactly when the bytes do.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from ..errors import AlreadyExists, NotFound, PreconditionFailed, StoreError, StoreUnavailable
from .store import validate_key, validate_prefix


def _etag(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class LocalStore:
    """A folder of objects; keys are relative paths below ``root``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().absolute()
        self.uri = str(self.root)

    def __repr__(self) -> str:
        return f"LocalStore({self.uri!r})"

    # -- paths --------------------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        path = self.root / validate_key(key)
        # Defence in depth: a symlink inside the store must not lead outside it either.
        real_root = self.root.resolve()
        real = path.resolve()
        if real != real_root and real_root not in real.parents:
            raise StoreError(f"key {key!r} resolves outside the store root {self.uri}")
        return path

    def _tmp(self, path: Path) -> Path:
        return path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")

    def _write_tmp(self, path: Path, body: bytes) -> Path:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (NotADirectoryError, FileExistsError) as err:
            raise StoreError(f"cannot create {path} in store {self.uri}: a parent is a file") from err
        except OSError as err:
            raise StoreUnavailable(f"cannot create folder {path.parent} in store {self.uri}: {err}") from err
        tmp = self._tmp(path)
        try:
            with open(tmp, "xb") as fh:
                fh.write(body)
                fh.flush()
                os.fsync(fh.fileno())  # the bytes are durable before the key becomes visible
        except OSError as err:
            tmp.unlink(missing_ok=True)
            raise StoreUnavailable(f"cannot write {path} in store {self.uri}: {err}") from err
        return tmp

    @contextlib.contextmanager
    def _locked(self, path: Path) -> Iterator[None]:
        lock = path.with_name(f".{path.name}.lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # one open() per call: excludes other threads too
            yield
        finally:
            os.close(fd)  # closing releases the lock

    # -- the Store protocol -------------------------------------------------------------------------

    def get(self, key: str) -> tuple[bytes, str]:
        path = self._path(key)
        try:
            body = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as err:
            raise NotFound(f"no object {key!r} in store {self.uri}") from err
        except OSError as err:
            raise StoreUnavailable(f"cannot read {key!r} in store {self.uri}: {err}") from err
        return body, _etag(body)

    def head(self, key: str) -> str | None:
        try:
            return self.get(key)[1]
        except NotFound:
            return None

    def create(self, key: str, body: bytes) -> str:
        path = self._path(key)
        tmp = self._write_tmp(path, body)
        try:
            os.link(tmp, path)
        except FileExistsError as err:
            raise AlreadyExists(f"object {key!r} already exists in store {self.uri}; "
                                "it is immutable") from err
        except OSError as err:
            if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
                raise StoreUnavailable(f"cannot create {key!r} in store {self.uri}: {err}") from err
            # No hard links on this filesystem: O_EXCL is still create-only, but a reader may see
            # the file while it is being written; the manifest check catches that case.
            self._create_exclusive(key, path, body)
        finally:
            tmp.unlink(missing_ok=True)
        return _etag(body)

    def _create_exclusive(self, key: str, path: Path, body: bytes) -> None:
        try:
            with open(path, "xb") as fh:
                fh.write(body)
                fh.flush()
                os.fsync(fh.fileno())
        except FileExistsError as err:
            raise AlreadyExists(f"object {key!r} already exists in store {self.uri}; "
                                "it is immutable") from err

    def replace(self, key: str, body: bytes, *, if_match: str) -> str:
        path = self._path(key)
        if not path.parent.is_dir():
            raise NotFound(f"no object {key!r} in store {self.uri}")
        with self._locked(path):
            current = self.get(key)[1]
            if current != if_match:
                raise PreconditionFailed(f"object {key!r} changed in store {self.uri} "
                                         f"(etag {current[:12]}, expected {if_match[:12]})")
            tmp = self._write_tmp(path, body)
            try:
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
        return _etag(body)

    def list(self, prefix: str) -> list[str]:
        prefix = validate_prefix(prefix)
        base = self._path(prefix.rstrip("/")) if prefix else self.root
        if not base.is_dir():
            return []
        keys = []
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            rel = Path(dirpath).relative_to(self.root).as_posix()
            for name in filenames:
                if not name.startswith("."):
                    keys.append(name if rel == "." else f"{rel}/{name}")
        return sorted(keys)

    def children(self, prefix: str) -> list[str]:
        prefix = validate_prefix(prefix)
        base = self._path(prefix.rstrip("/")) if prefix else self.root
        try:
            return sorted(n for n in os.listdir(base) if not n.startswith("."))
        except (FileNotFoundError, NotADirectoryError):
            return []
