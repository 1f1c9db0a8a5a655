"""ServingMetrics: its own registry, and the batch score histogram equal to prometheus_client's own."""

from __future__ import annotations

import numpy as np
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from anomaly_core.serving.metrics import SCORE_BUCKETS, BatchHistogram, ServingMetrics


def _samples(registry: CollectorRegistry) -> dict[tuple[str, tuple], float]:
    text = generate_latest(registry).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for f in text_string_to_metric_families(text) for s in f.samples if not s.name.endswith("_created")}


def test_batch_histogram_matches_observe_one_by_one() -> None:
    rng = np.random.default_rng(0)
    values = np.concatenate([10 ** rng.uniform(-5, 5, size=3000), np.asarray(SCORE_BUCKETS), [0.0, 1e9]])
    reference = CollectorRegistry()
    hist = Histogram("s", "d", buckets=SCORE_BUCKETS, registry=reference)
    for v in values:
        hist.observe(v)
    ours = CollectorRegistry()
    batch = BatchHistogram("s", "d", SCORE_BUCKETS, ours)
    for part in np.array_split(values, 7):
        batch.observe_many(part)
    expected, got = _samples(reference), _samples(ours)
    assert expected.keys() == got.keys()
    for key, value in expected.items():
        assert got[key] == value or abs(got[key] - value) <= 1e-9 * abs(value), key


def test_each_instance_owns_its_registry_and_series_start_at_zero() -> None:
    a, b = ServingMetrics(), ServingMetrics()
    a.observe_scores(np.array([0.5, 2.0]), np.array([False, True]))
    assert a.registry.get_sample_value("anomaly_windows_scored_total") == 2
    assert b.registry.get_sample_value("anomaly_windows_scored_total") == 0
    assert b.registry.get_sample_value("anomaly_model_reloads_total", {"result": "failure"}) == 0
    assert a.registry.get_sample_value("anomaly_score_count") == 2
    assert a.registry.get_sample_value("anomaly_score_bucket", {"le": "1.0"}) == 1
