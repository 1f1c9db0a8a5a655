"""The score log: every scored window, written to the store in batches as Parquet partitions by date.

Requests only append column chunks to a bounded in-memory buffer (no I/O, no per-row objects); a
background thread turns the buffer into one Parquet object per date and writes it create-only::

    score_logs/<name>/date=YYYY-MM-DD/<host>-<pid>-<random>-<seq>.parquet

so several replicas (and restarts) never collide. A store that refuses a write gets the rows back
in the buffer for the next flush; rows that no longer fit are dropped and counted, and so are rows
still unwritten when shutdown's last flush fails. Scoring never waits for the store.
"""

from __future__ import annotations

import io
import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ..errors import AlreadyExists, StoreError
from ..registry import Store
from ..registry.layout import check_name
from .metrics import ServingMetrics

log = logging.getLogger(__name__)

COLUMNS = ("time", "model_version", "alias", "threshold", "score", "is_anomaly", "request_id", "window_index",
           "window_hash")


def score_log_prefix(name: str) -> str:
    return f"score_logs/{check_name(name)}/"


@dataclass(frozen=True)
class _Chunk:
    """The rows of one request, as columns."""

    at: float
    version: str
    alias: str
    threshold: float
    request_id: str
    scores: np.ndarray
    flags: np.ndarray
    hashes: list[str] | None

    def __len__(self) -> int:
        return len(self.scores)


def _host() -> str:
    host = re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname())[:48]
    return host or "host"


class ScoreLog:
    """Buffer and write score rows for model ``name`` into ``store``."""

    def __init__(self, store: Store, *, name: str, metrics: ServingMetrics, flush_interval_s: float = 10.0,
                 batch_rows: int = 10_000, max_rows: int = 200_000) -> None:
        self.store = store
        self.name = name
        self.metrics = metrics
        self.flush_interval_s = flush_interval_s
        self.batch_rows = batch_rows
        self.max_rows = max_rows
        self._chunks: list[_Chunk] = []
        self._rows = 0
        self._lock = threading.Lock()  # guards the buffer only; never held during I/O
        self._flush_lock = threading.Lock()  # one writer at a time (thread, close, tests)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._file_stem = f"{_host()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._seq = 0
        self._failing = False

    # -- request path ---------------------------------------------------------------------------------

    def submit(self, *, version: str, alias: str, threshold: float, request_id: str, scores: np.ndarray,
               flags: np.ndarray, hashes: list[str] | None = None, at: float | None = None) -> bool:
        """Buffer one request's rows; ``False`` (and counted as dropped) when the buffer is full."""
        chunk = _Chunk(time.time() if at is None else at, version, alias, float(threshold), request_id,
                       np.asarray(scores, dtype=np.float64), np.asarray(flags, dtype=bool), hashes)
        n = len(chunk)
        with self._lock:
            if self._rows + n > self.max_rows:
                accepted = False
            else:
                self._chunks.append(chunk)
                self._rows += n
                accepted = True
            rows = self._rows
        if not accepted:
            self.metrics.log_dropped.inc(n)
            return False
        self.metrics.log_buffered.set(rows)
        if rows >= self.batch_rows:
            self._wake.set()
        return True

    @property
    def buffered_rows(self) -> int:
        return self._rows

    # -- writing --------------------------------------------------------------------------------------

    def flush(self) -> int:
        """Write everything buffered now; return the rows written (refused rows go back or are dropped)."""
        with self._flush_lock:
            with self._lock:
                chunks, self._chunks, self._rows = self._chunks, [], 0
            if not chunks:
                return 0
            written = 0
            pending: list[_Chunk] = []
            for day, group in _by_date(chunks):
                try:
                    self._write(day, group)
                except StoreError as err:
                    self._note_failure(err)
                    pending.extend(group)
                except Exception:  # a bug must not loop forever on the same rows: drop them, loudly
                    log.exception("score log: could not encode %d rows; dropped", sum(map(len, group)))
                    self.metrics.log_dropped.inc(sum(map(len, group)))
                else:
                    written += sum(map(len, group))
            if written and self._failing and not pending:
                self._failing = False
                log.info("score log: store writable again")
            self.metrics.log_written.inc(written)
            if pending:
                self._requeue(pending)
            self.metrics.log_buffered.set(self._rows)
            return written

    def _requeue(self, pending: list[_Chunk]) -> None:
        """Put refused rows back in front of newer ones, as far as the bound allows; drop the rest (oldest)."""
        with self._lock:
            room = self.max_rows - self._rows
            keep: list[_Chunk] = []
            for chunk in reversed(pending):  # keep the newest refused rows
                if len(chunk) > room:
                    break
                keep.append(chunk)
                room -= len(chunk)
            keep.reverse()
            dropped = sum(map(len, pending)) - sum(map(len, keep))
            self._chunks[:0] = keep
            self._rows += sum(map(len, keep))
        if dropped:
            self.metrics.log_dropped.inc(dropped)
            log.warning("score log: buffer full while the store is unavailable; dropped %d rows", dropped)

    def _note_failure(self, err: StoreError) -> None:
        self.metrics.log_flush_failures.inc()
        if not self._failing:  # once per outage, not once per flush
            self._failing = True
            log.warning("score log: store refused a write (%s); rows stay buffered (at most %d)", err, self.max_rows)

    def _write(self, day: str, chunks: list[_Chunk]) -> None:
        body = encode_parquet(chunks)
        self._seq += 1  # every attempt gets a fresh name, so a key is only ever tried with one body
        key = f"{score_log_prefix(self.name)}date={day}/{self._file_stem}-{self._seq:06d}.parquet"
        try:
            self.store.create(key, body)
        except AlreadyExists:
            # The stem is unique to this process, so the key holds this very body: a PUT whose
            # response was lost and whose retry hit If-None-Match. It is written.
            log.debug("score log: %s already written by a retried request", key)

    # -- background thread ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="score-log-writer", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_interval_s)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self.flush()
            except Exception:  # the writer must outlive any one bad flush
                log.exception("score log flush failed unexpectedly")

    def close(self, timeout: float = 30.0) -> None:
        """Stop the thread, flush once more; rows the store still refuses are dropped and counted."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.flush()
        with self._lock:
            left, self._chunks, self._rows = self._rows, [], 0
        if left:
            self.metrics.log_dropped.inc(left)
            log.error("score log: %d rows could not be written before shutdown; dropped", left)
        self.metrics.log_buffered.set(0)


def _by_date(chunks: list[_Chunk]) -> Iterator[tuple[str, list[_Chunk]]]:
    groups: dict[str, list[_Chunk]] = {}
    for chunk in chunks:
        day = datetime.fromtimestamp(chunk.at, UTC).strftime("%Y-%m-%d")
        groups.setdefault(day, []).append(chunk)
    return iter(sorted(groups.items()))


def encode_parquet(chunks: list[_Chunk]) -> bytes:
    """One Parquet file of the rows of ``chunks`` (columns :data:`COLUMNS`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sizes = [len(c) for c in chunks]

    def repeat(values: list[Any]) -> np.ndarray:
        return np.repeat(np.asarray(values, dtype=object), sizes)

    hashes: list[str | None] = []
    for c in chunks:
        hashes.extend(c.hashes if c.hashes is not None else [None] * len(c))
    times = np.repeat(np.asarray([c.at for c in chunks]) * 1e6, sizes).astype("int64")
    table = pa.table({
        "time": pa.array(times, type=pa.timestamp("us", tz="UTC")),
        "model_version": pa.array(repeat([c.version for c in chunks]), type=pa.string()),
        "alias": pa.array(repeat([c.alias for c in chunks]), type=pa.string()),
        "threshold": pa.array(np.repeat([c.threshold for c in chunks], sizes), type=pa.float64()),
        "score": pa.array(np.concatenate([c.scores for c in chunks]), type=pa.float64()),
        "is_anomaly": pa.array(np.concatenate([c.flags for c in chunks]), type=pa.bool_()),
        "request_id": pa.array(repeat([c.request_id for c in chunks]), type=pa.string()),
        "window_index": pa.array(np.concatenate([np.arange(n, dtype=np.int32) for n in sizes]), type=pa.int32()),
        "window_hash": pa.array(hashes, type=pa.string()),
    })
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def read_score_log(store: Store, name: str, *, dates: list[str] | None = None) -> Any:
    """Every logged row of ``name`` (optionally only some ``YYYY-MM-DD`` dates) as a pandas DataFrame."""
    import pandas as pd
    import pyarrow.parquet as pq

    prefix = score_log_prefix(name)
    frames = []
    for key in store.list(prefix):
        day = key[len(prefix):].split("/", 1)[0].removeprefix("date=")
        if key.endswith(".parquet") and (dates is None or day in dates):
            frames.append(pq.read_table(io.BytesIO(store.get(key)[0])).to_pandas())
    if not frames:
        return pd.DataFrame({c: [] for c in COLUMNS})
    return pd.concat(frames, ignore_index=True).sort_values("time", kind="stable", ignore_index=True)
