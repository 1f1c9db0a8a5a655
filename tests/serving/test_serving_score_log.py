"""Score log: batched Parquet partitions, unique names, bounded buffer, a down store never blocks or loses silently."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from anomaly_core.errors import StoreUnavailable
from anomaly_core.registry import open_store
from anomaly_core.serving.metrics import ServingMetrics
from anomaly_core.serving.score_log import ScoreLog, read_score_log


class FlakyStore:
    """A local store whose writes can be made to fail (down) or to hang (slow)."""

    def __init__(self, root: Path) -> None:
        self.inner = open_store(str(root))
        self.uri = self.inner.uri
        self.down = False
        self.hang = threading.Event()  # set: create() blocks until released
        self.release = threading.Event()

    def create(self, key: str, body: bytes) -> str:
        if self.hang.is_set():
            self.release.wait(10)
        if self.down:
            raise StoreUnavailable("simulated outage")
        return self.inner.create(key, body)

    def __getattr__(self, name: str):  # get/list/head... go to the real store
        return getattr(self.inner, name)


def rows(log: ScoreLog, n: int, *, at: float | None = None, version: str = "1", rid: str = "r") -> None:
    scores = np.linspace(0, 2, n)
    log.submit(version=version, alias="production", threshold=1.0, request_id=rid, scores=scores,
               flags=scores > 1.0, hashes=[f"{i:064x}" for i in range(n)], at=at)


def value(metrics: ServingMetrics, name: str) -> float:
    return metrics.registry.get_sample_value(name) or 0.0


@pytest.fixture
def store(tmp_path: Path) -> FlakyStore:
    return FlakyStore(tmp_path / "store")


def test_rows_are_written_per_date_with_unique_names(store: FlakyStore) -> None:
    metrics = ServingMetrics()
    log = ScoreLog(store, name="telemetry", metrics=metrics, max_rows=1000)
    day1 = datetime(2026, 3, 1, 23, 59, tzinfo=UTC).timestamp()
    day2 = datetime(2026, 3, 2, 0, 1, tzinfo=UTC).timestamp()
    rows(log, 3, at=day1, rid="a")
    rows(log, 2, at=day2, rid="b")
    assert log.flush() == 5
    rows(log, 4, at=day2, rid="c")
    assert log.flush() == 4
    keys = store.list("score_logs/telemetry/")
    assert [k.split("/")[2] for k in keys] == ["date=2026-03-01", "date=2026-03-02", "date=2026-03-02"]
    names = [k.rsplit("/", 1)[1] for k in keys]
    assert len(set(names)) == 3 and all(n.endswith(".parquet") for n in names)
    frame = read_score_log(store, "telemetry")
    assert frame["request_id"].tolist() == ["a"] * 3 + ["b"] * 2 + ["c"] * 4
    assert read_score_log(store, "telemetry", dates=["2026-03-01"])["request_id"].tolist() == ["a"] * 3
    assert value(metrics, "anomaly_score_log_rows_written_total") == 9


def test_two_replicas_never_collide(store: FlakyStore) -> None:
    logs = [ScoreLog(store, name="telemetry", metrics=ServingMetrics()) for _ in range(2)]
    for log in logs:
        rows(log, 2)
        log.flush()
    assert len(store.list("score_logs/telemetry/")) == 2


def test_a_down_store_keeps_rows_then_writes_them(store: FlakyStore) -> None:
    metrics = ServingMetrics()
    log = ScoreLog(store, name="telemetry", metrics=metrics, max_rows=100)
    store.down = True
    rows(log, 10)
    assert log.flush() == 0 and log.buffered_rows == 10
    assert value(metrics, "anomaly_score_log_flush_failures_total") == 1
    store.down = False
    assert log.flush() == 10 and log.buffered_rows == 0
    assert value(metrics, "anomaly_score_log_rows_dropped_total") == 0


def test_the_buffer_is_bounded_and_drops_are_counted(store: FlakyStore) -> None:
    metrics = ServingMetrics()
    log = ScoreLog(store, name="telemetry", metrics=metrics, max_rows=25)
    store.down = True
    for _ in range(5):
        rows(log, 10)  # only two requests fit
    assert log.buffered_rows == 20 and value(metrics, "anomaly_score_log_rows_dropped_total") == 30
    log.close()  # the last flush fails too: what is left is dropped, and counted
    assert value(metrics, "anomaly_score_log_rows_dropped_total") == 50
    assert value(metrics, "anomaly_score_log_buffered_rows") == 0


def test_submit_never_waits_for_a_hanging_store(store: FlakyStore) -> None:
    metrics = ServingMetrics()
    log = ScoreLog(store, name="telemetry", metrics=metrics, flush_interval_s=0.01, batch_rows=5)
    store.hang.set()
    log.start()
    try:
        rows(log, 10)
        time.sleep(0.1)  # the writer thread is now stuck inside create()
        started = time.perf_counter()
        for _ in range(100):
            rows(log, 10)
        assert time.perf_counter() - started < 0.5
    finally:
        store.hang.clear()
        store.release.set()
        log.close()
    assert len(read_score_log(store, "telemetry")) == 1010


def test_close_flushes_what_is_buffered(store: FlakyStore) -> None:
    log = ScoreLog(store, name="telemetry", metrics=ServingMetrics(), flush_interval_s=60)
    log.start()
    rows(log, 7)
    log.close()
    assert len(read_score_log(store, "telemetry")) == 7
