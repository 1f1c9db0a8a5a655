"""The model being served, behind one atomic reference, and the poller that follows the alias.

A request reads :attr:`ModelHolder.served` once and uses that object to the end, so a swap never
changes the model under a request in flight. The poller compares the alias object's etag (one
HEAD or stat per interval); when it changes it resolves the alias, loads and verifies the new
version off the request path, and only then replaces the reference. A version that fails to load
or verify is never swapped in: the old one keeps serving, the failure is logged and counted, and
the same alias state is retried with a doubling back-off (a store outage may end; a corrupt
version will not).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

import numpy as np

from ..errors import AnomalyError, IntegrityError, NotFound, StoreError
from ..registry import LoadedModel
from .metrics import ServingMetrics

log = logging.getLogger(__name__)

ReloadResult = Literal["swapped", "unchanged", "failed", "not_set", "store_error"]


class ModelSource(Protocol):
    """What the holder needs from a :class:`~anomaly_core.registry.Registry` (tests pass fakes)."""

    def alias_etag(self, name: str, alias: str) -> str | None: ...

    def resolve(self, name: str, alias: str) -> str: ...

    def load(self, name: str, *, alias: str | None = None, version: str | None = None) -> LoadedModel: ...


@dataclass(frozen=True)
class ServedModel:
    """A verified model plus what serving needs to know about it; replaced whole, never mutated."""

    model: LoadedModel
    alias: str
    etag: str | None
    loaded_at: float  # unix time of the swap
    window_length: int
    feature_names: list[str] = field(repr=False)

    @property
    def version(self) -> str:
        return self.model.version

    @property
    def n_features(self) -> int:
        return len(self.feature_names)


@dataclass(frozen=True)
class ReloadOutcome:
    """What one poll or reload did."""

    result: ReloadResult
    version: str | None  # served after the call
    previous_version: str | None
    target_version: str | None = None
    detail: str = ""
    seconds: float = 0.0


def verify_model(model: LoadedModel, *, alias: str, etag: str | None) -> ServedModel:
    """Check that a loaded version can serve: a feature schema, a finite threshold, a finite probe score.

    The registry has already checked every file against the manifest; this catches what hashes
    cannot (weights that load but produce NaN, a detector without a persisted schema).
    """
    scaler = getattr(model.detector, "scaler_", None)
    T = getattr(scaler, "window_length_", None)
    names = getattr(scaler, "feature_names_", None)
    if not isinstance(T, int) or not isinstance(names, list) or not names:
        raise IntegrityError(f"version {model.version} of {model.name!r} has no persisted feature schema "
                             "(window length, feature names); it cannot validate requests")
    if not math.isfinite(model.threshold):
        raise IntegrityError(f"version {model.version} of {model.name!r} has a non-finite threshold")
    mean = np.asarray(getattr(scaler, "mean_", np.zeros(len(names))), dtype=np.float32)
    probe = np.broadcast_to(mean, (1, T, len(names))).copy()  # a nominal-looking window
    score = model.score(probe)
    if score.shape != (1,) or not np.isfinite(score).all():
        raise IntegrityError(f"version {model.version} of {model.name!r} gives a non-finite score "
                             f"({score.tolist()}) on a probe window; refusing to serve it")
    return ServedModel(model=model, alias=alias, etag=etag, loaded_at=time.time(), window_length=T,
                       feature_names=list(names))


class ModelHolder:
    """Holds the served model and follows ``alias`` of ``name`` in ``source``."""

    def __init__(self, source: ModelSource, *, name: str, alias: str, metrics: ServingMetrics,
                 poll_interval_s: float = 2.0, backoff_max_s: float = 60.0) -> None:
        self.source = source
        self.name = name
        self.alias = alias
        self.metrics = metrics
        self.poll_interval_s = poll_interval_s
        self.backoff_max_s = backoff_max_s
        self._served: ServedModel | None = None
        self._lock = threading.Lock()  # one load at a time: the poller and /v1/reload share it
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._status = f"alias {alias!r} of {name!r} not checked yet"
        self._failed: tuple[str | None, int, float] | None = None  # (etag, failures, retry at monotonic)
        self._store_down = False
        self._alias_missing = False

    # -- reading (request path: no lock) -------------------------------------------------------------

    @property
    def served(self) -> ServedModel | None:
        """The current model; read it once per request (an attribute read is atomic)."""
        return self._served

    def readiness(self) -> tuple[bool, str]:
        served = self._served
        if served is not None:
            return True, f"serving {self.name!r} version {served.version} (alias {self.alias!r})"
        return False, self._status

    def wait_ready(self, timeout: float) -> bool:
        """Block until a model is served (for tests and the benchmark)."""
        return self._ready.wait(timeout)

    # -- polling and loading -------------------------------------------------------------------------

    def check(self, *, force: bool = False) -> ReloadOutcome:
        """One poll: if the alias object changed (or ``force``), load, verify and swap its version."""
        with self._lock:
            return self._check(force)

    def _check(self, force: bool) -> ReloadOutcome:
        served = self._served
        previous = served.version if served else None
        try:
            etag = self.source.alias_etag(self.name, self.alias)
            if etag is None:
                return self._not_set(previous)
            if not force and served is not None and etag == served.etag:
                return ReloadOutcome("unchanged", previous, previous, previous)
            if not force and self._failed is not None and self._failed[0] == etag \
                    and time.monotonic() < self._failed[2]:
                return ReloadOutcome("failed", previous, previous, detail=f"backing off: {self._status}")
            target = self.source.resolve(self.name, self.alias)
        except NotFound:  # deleted between the etag read and the resolve
            return self._not_set(previous)
        except IntegrityError as err:  # a malformed alias object: a failure to act on, not an outage
            return self._failure(etag, "?", previous, err, 0.0)
        except StoreError as err:  # unreachable store: keep serving, say so once, count every poll
            return self._store_error(err, previous)
        if self._store_down:
            self._store_down = False
            log.info("store reachable again for alias %r of %r", self.alias, self.name)
        if served is not None and target == served.version:
            # The alias object changed but points where we are (e.g. re-promoted): nothing to load.
            self._served = replace(served, etag=etag)
            self._failed = None
            return ReloadOutcome("unchanged", previous, previous, target)
        return self._load(etag, target, previous)

    def _load(self, etag: str, target: str, previous: str | None) -> ReloadOutcome:
        started = time.perf_counter()
        self._alias_missing = False
        if previous is None:
            self._status = f"loading version {target} of {self.name!r} (alias {self.alias!r})"
        try:
            model = self.source.load(self.name, alias=self.alias)
            new = verify_model(model, alias=self.alias, etag=etag)
        except Exception as err:  # process boundary: whatever went wrong, the old model keeps serving
            return self._failure(etag, target, previous, err, time.perf_counter() - started)
        self._served = new  # the swap: one reference assignment
        self._failed = None
        seconds = time.perf_counter() - started
        self.metrics.reloads.labels(result="success").inc()
        self.metrics.set_model(self.name, new.version, self.alias, new.model.threshold, new.loaded_at)
        self._ready.set()
        log.info("serving %s version %s (alias %s, was %s); loaded and verified in %.2f s",
                 self.name, new.version, self.alias, previous, seconds)
        return ReloadOutcome("swapped", new.version, previous, new.version, seconds=seconds)

    def _failure(self, etag: str, target: str, previous: str | None, err: Exception,
                 seconds: float) -> ReloadOutcome:
        failures = self._failed[1] + 1 if self._failed and self._failed[0] == etag else 1
        backoff = min(self.poll_interval_s * 2 ** (failures - 1), self.backoff_max_s)
        self._failed = (etag, failures, time.monotonic() + backoff)
        reason = str(err) if isinstance(err, AnomalyError) else f"{type(err).__name__}: {err}"
        self._status = f"version {target} of {self.name!r} (alias {self.alias!r}) failed to load: {reason}"
        self.metrics.reloads.labels(result="failure").inc()
        keeps = f"still serving version {previous}" if previous else "no model is served"
        log.error("%s; %s; retrying in %.0f s", self._status, keeps, backoff,
                  exc_info=not isinstance(err, AnomalyError))
        return ReloadOutcome("failed", previous, previous, target, detail=f"{self._status}; {keeps}",
                             seconds=seconds)

    def _not_set(self, previous: str | None) -> ReloadOutcome:
        if previous is None:
            self._status = (f"alias {self.alias!r} of {self.name!r} is not set; promote a version "
                            f"(anomaly registry promote VERSION --alias {self.alias})")
            return ReloadOutcome("not_set", None, None, detail=self._status)
        # Someone deleted the alias object: keep the last good model rather than go dark (say so once).
        if not self._alias_missing:
            self._alias_missing = True
            log.warning("alias %r of %r disappeared; still serving version %s", self.alias, self.name, previous)
        return ReloadOutcome("not_set", previous, previous, detail="alias is not set; kept the served version")

    def _store_error(self, err: StoreError, previous: str | None) -> ReloadOutcome:
        self.metrics.poll_errors.inc()
        if not self._store_down:
            self._store_down = True
            log.warning("cannot poll alias %r of %r: %s; %s", self.alias, self.name, err,
                        f"still serving version {previous}" if previous else "no model yet")
        if previous is None:
            self._status = f"store unavailable: {err}"
        return ReloadOutcome("store_error", previous, previous, detail=str(err))

    # -- the poller thread ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start polling in a daemon thread (first poll at once): loading never blocks the event loop."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"alias-poller-{self.alias}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.check()
            except Exception:  # never let the poller die: the next poll may work
                log.exception("alias poll of %r failed unexpectedly", self.name)
            self._stop.wait(self.poll_interval_s)
