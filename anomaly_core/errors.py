"""One exception tree for the whole platform.

Messages name the bad value and what was expected, so the CLI can print ``str(err)`` as a one-line
error and the serving layer can return it as a 4xx ``detail``.
"""

from __future__ import annotations


class AnomalyError(Exception):
    """Base class of every error the platform raises on purpose."""


class InvalidInput(AnomalyError, ValueError):
    """Data or arguments that cannot be used (wrong rank, NaN, empty, unknown name, ...)."""


class SchemaMismatch(InvalidInput):
    """Data whose window length or features differ from what a model was trained on."""


class NotFittedError(AnomalyError, RuntimeError):
    """A detector was used before ``fit``."""


class StoreError(AnomalyError):
    """The artifact store failed or refused an operation."""


class NotFound(StoreError, KeyError):
    """A key, version or alias does not exist."""

    def __str__(self) -> str:  # KeyError quotes its message; we want the sentence as is
        return str(self.args[0]) if self.args else ""


class AlreadyExists(StoreError):
    """A create-only write hit an existing key."""


class PreconditionFailed(StoreError):
    """A compare-and-swap lost: the object changed since it was read."""


class Conflict(StoreError):
    """A concurrent writer is in the middle of changing the same object; retry."""


class IntegrityError(StoreError):
    """A stored file does not match its manifest entry (hash or size), or the manifest is missing."""


class StoreUnavailable(StoreError):
    """The store could not be reached (endpoint down, credentials refused) after bounded retries."""
