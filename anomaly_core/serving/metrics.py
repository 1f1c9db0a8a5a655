"""Prometheus metrics of one serving app, on a registry the app owns (never the process-wide default).

Owning the registry lets tests build many apps in one process (duplicate names on the default
registry raise ``ValueError``) and keeps /metrics free of unrelated collectors.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

#: request latency in seconds: sub-millisecond single windows up to large batches
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: anomaly scores are unbounded positives whose scale depends on the detector: log-spaced 1e-3 .. 1e4
SCORE_BUCKETS = tuple(float(f"{m}e{e}") for e in range(-3, 4) for m in (1, 2.5, 5)) + (1e4,)

RELOAD_RESULTS = ("success", "failure")

__all__ = ["CONTENT_TYPE_LATEST", "LATENCY_BUCKETS", "SCORE_BUCKETS", "BatchHistogram", "ServingMetrics"]


class BatchHistogram(Collector):
    """A histogram fed a whole array at once (numpy bucketing): ``Histogram.observe`` per window costs
    ~3 us each, i.e. most of the non-model time of a 256-window request. Exposed like any histogram."""

    def __init__(self, name: str, documentation: str, buckets: tuple[float, ...], registry: CollectorRegistry) -> None:
        self.name, self.documentation = name, documentation
        self.bounds = np.asarray(buckets, dtype=np.float64)
        self._counts = np.zeros(len(buckets) + 1, dtype=np.int64)  # last: above every bound (+Inf only)
        self._sum = 0.0
        self._lock = threading.Lock()
        registry.register(self)

    def observe_many(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=np.float64)
        # bucket i holds values <= bounds[i] (Prometheus "le"): the first bound >= value
        counts = np.bincount(np.searchsorted(self.bounds, values, side="left"), minlength=len(self._counts))
        total = float(values.sum())
        with self._lock:
            self._counts += counts
            self._sum += total

    def collect(self) -> Iterator[HistogramMetricFamily]:
        with self._lock:
            cumulative, total = np.cumsum(self._counts), self._sum
        labels = [repr(float(b)) for b in self.bounds] + ["+Inf"]
        yield HistogramMetricFamily(self.name, self.documentation, sum_value=total,
                                    buckets=[(le, float(c)) for le, c in zip(labels, cumulative, strict=True)])


class ServingMetrics:
    """Every metric the serving component exports; ``registry`` is what ``/metrics`` renders."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        kw = {"namespace": "anomaly", "registry": self.registry}
        self.requests = Counter("requests", "HTTP requests by route template and status code",
                                ["endpoint", "status"], **kw)
        self.duration = Histogram("request_duration_seconds", "HTTP request latency (first byte in to last byte out)",
                                  ["endpoint"], buckets=LATENCY_BUCKETS, **kw)
        self.windows = Counter("windows_scored", "Windows scored", **kw)
        self.anomalies = Counter("anomalies", "Windows whose score is above the threshold", **kw)
        self.score = BatchHistogram("anomaly_score", "Anomaly scores of scored windows", SCORE_BUCKETS, self.registry)
        self.model = Info("model", "The model version being served and the alias it follows", **kw)
        self.model_ready = Gauge("model_ready", "1 while a verified model is loaded", **kw)
        self.threshold = Gauge("model_threshold", "Threshold of the served version", **kw)
        self.loaded_at = Gauge("model_loaded_timestamp_seconds", "When the served version was swapped in", **kw)
        self.reloads = Counter("model_reloads", "Attempts to load a new version of the alias", ["result"], **kw)
        self.poll_errors = Counter("alias_poll_errors", "Alias polls that could not reach the store", **kw)
        self.log_written = Counter("score_log_rows_written", "Score-log rows written to the store", **kw)
        self.log_dropped = Counter("score_log_rows_dropped", "Score-log rows dropped (buffer full or store down "
                                   "at shutdown)", **kw)
        self.log_flush_failures = Counter("score_log_flush_failures", "Score-log writes the store refused", **kw)
        self.log_buffered = Gauge("score_log_buffered_rows", "Score-log rows waiting to be written", **kw)
        self.feedback = Counter("feedback_labels", "Triage labels stored", ["label"], **kw)
        for result in RELOAD_RESULTS:
            self.reloads.labels(result=result)  # series exist at 0, so rate() works from the start
        for label in ("anomaly", "nominal"):
            self.feedback.labels(label=label)

    def observe_scores(self, scores: np.ndarray, flags: np.ndarray) -> None:
        """Count a scored batch (a few microseconds whatever its size)."""
        self.windows.inc(len(scores))
        self.anomalies.inc(int(np.count_nonzero(flags)))
        self.score.observe_many(scores)

    def set_model(self, name: str, version: str, alias: str, threshold: float, loaded_at: float) -> None:
        self.model.info({"name": name, "version": version, "alias": alias})
        self.threshold.set(threshold)
        self.loaded_at.set(loaded_at)
        self.model_ready.set(1)

    def render(self) -> bytes:
        """The Prometheus text exposition of this registry."""
        return generate_latest(self.registry)
