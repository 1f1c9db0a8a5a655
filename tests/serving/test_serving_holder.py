"""ModelHolder: cheap polls, atomic swaps, failed loads refused and counted, back-off, store outages."""

from __future__ import annotations

import time

import numpy as np
import pytest
from serving_helpers import NAME, FakeDetector, FakeSource, fake_model, make_settings, running_client

from anomaly_core.errors import IntegrityError
from anomaly_core.serving.holder import ModelHolder
from anomaly_core.serving.metrics import ServingMetrics


def holder_for(source: FakeSource, poll: float = 0.05) -> tuple[ModelHolder, ServingMetrics]:
    metrics = ServingMetrics()
    return ModelHolder(source, name=NAME, alias="production", metrics=metrics, poll_interval_s=poll,
                       backoff_max_s=0.2), metrics


def sample(metrics: ServingMetrics, name: str, labels: dict[str, str] | None = None) -> float | None:
    return metrics.registry.get_sample_value(name, labels or {})


def test_unchanged_alias_costs_one_etag_read_and_no_load() -> None:
    source = FakeSource({"1": fake_model("1")}, alias_to="1")
    holder, metrics = holder_for(source)
    assert holder.check().result == "swapped"
    for _ in range(5):
        assert holder.check().result == "unchanged"
    assert source.loads == ["1"]
    assert sample(metrics, "anomaly_model_reloads_total", {"result": "success"}) == 1
    assert sample(metrics, "anomaly_model_info", {"name": NAME, "version": "1", "alias": "production"}) == 1


def test_alias_move_swaps_and_the_old_object_stays_usable() -> None:
    source = FakeSource({"1": fake_model("1"), "2": fake_model("2")}, alias_to="1")
    holder, metrics = holder_for(source)
    holder.check()
    in_flight = holder.served  # what a request read before the swap
    source.point("2")
    outcome = holder.check()
    assert (outcome.result, outcome.version, outcome.previous_version) == ("swapped", "2", "1")
    assert holder.served.version == "2" and in_flight.version == "1"
    X = np.zeros((1, 3, 2), dtype=np.float32)
    assert in_flight.model.score(X)[0] == 1.0 and holder.served.model.score(X)[0] == 2.0
    # one model_info series: the old version's labels are gone
    assert sample(metrics, "anomaly_model_info", {"name": NAME, "version": "1", "alias": "production"}) is None
    assert sample(metrics, "anomaly_model_info", {"name": NAME, "version": "2", "alias": "production"}) == 1


def test_re_promoting_the_same_version_loads_nothing() -> None:
    source = FakeSource({"1": fake_model("1")}, alias_to="1")
    holder, _ = holder_for(source)
    holder.check()
    source.point("1")  # new alias object (new etag), same version
    assert holder.check().result == "unchanged" and source.loads == ["1"]


@pytest.mark.parametrize(("bad", "words"), [
    (IntegrityError("file 'weights.safetensors' of 'telemetry' version 2 is corrupt: sha256 does not match"),
     "is corrupt"),
    (fake_model("2", FakeDetector(nan=True)), "non-finite score"),
    (RuntimeError("torch exploded"), "RuntimeError: torch exploded"),
])
def test_a_version_that_fails_to_load_or_verify_is_refused_and_counted(bad: object, words: str) -> None:
    source = FakeSource({"1": fake_model("1"), "2": bad, "3": fake_model("3")}, alias_to="1")
    holder, metrics = holder_for(source)
    holder.check()
    source.point("2")
    outcome = holder.check()
    assert outcome.result == "failed" and words in outcome.detail and "still serving version 1" in outcome.detail
    assert holder.served.version == "1" and holder.readiness()[0]
    assert sample(metrics, "anomaly_model_reloads_total", {"result": "failure"}) == 1
    # backing off: the same alias state is not reloaded on every poll ...
    assert holder.check().result == "failed" and source.loads == ["1", "2"]
    time.sleep(0.06)  # ... but after the back-off (a store outage may have ended)
    holder.check()
    assert source.loads == ["1", "2", "2"]
    assert sample(metrics, "anomaly_model_reloads_total", {"result": "failure"}) == 2
    source.point("3")  # a good version is taken at once, whatever the back-off
    assert holder.check().result == "swapped" and holder.served.version == "3"


def test_a_model_without_a_feature_schema_is_refused() -> None:
    det = FakeDetector()
    del det.scaler_
    source = FakeSource({"1": fake_model("1", det)}, alias_to="1")
    holder, _ = holder_for(source)
    assert holder.check().result == "failed"
    ready, reason = holder.readiness()
    assert not ready and "no persisted feature schema" in reason


def test_store_outage_keeps_serving_and_counts_poll_errors() -> None:
    source = FakeSource({"1": fake_model("1"), "2": fake_model("2")}, alias_to="1")
    holder, metrics = holder_for(source)
    holder.check()
    source.down = True
    for _ in range(3):
        assert holder.check().result == "store_error"
    assert holder.served.version == "1" and holder.readiness()[0]
    assert sample(metrics, "anomaly_alias_poll_errors_total") == 3
    assert sample(metrics, "anomaly_model_reloads_total", {"result": "failure"}) == 0  # no load was tried
    source.down = False
    source.point("2")
    assert holder.check().result == "swapped"


def test_store_down_before_the_first_load_is_the_readiness_reason() -> None:
    source = FakeSource({}, alias_to="1")
    source.down = True
    holder, _ = holder_for(source)
    holder.check()
    assert holder.readiness() == (False, "store unavailable: fake store is down")


def test_poller_thread_follows_the_alias_and_stops() -> None:
    source = FakeSource({"1": fake_model("1"), "2": fake_model("2")}, alias_to="1")
    holder, _ = holder_for(source, poll=0.02)
    holder.start()
    try:
        assert holder.wait_ready(5)
        source.point("2")
        deadline = time.monotonic() + 5
        while holder.served.version != "2":
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        holder.stop()
    assert holder._thread is None


def test_finite_input_whose_float32_score_overflows_is_a_422(tmp_path) -> None:
    # the fake computes in float32 like the neural detectors: 1e30 ** 2 is inf there
    source = FakeSource({"1": fake_model("1")}, alias_to="1")
    with running_client(make_settings(tmp_path), registry=source) as client:
        r = client.post("/v1/score", json={"windows": [[[1e30, 1.0]] * 3]})
        assert r.status_code == 422 and "non-finite score (first: [0])" in r.json()["detail"]
        r = client.post("/v1/score", json={"windows": [[[1.0, 1.0]] * 3]})
        assert r.status_code == 200 and r.json()["scores"] == [2.0]


def test_a_malformed_alias_object_is_a_counted_failure_not_an_outage() -> None:
    source = FakeSource({"1": fake_model("1")}, alias_to="1")
    holder, metrics = holder_for(source)
    holder.check()

    def malformed(name: str, alias: str) -> str:
        raise IntegrityError("alias object 'models/telemetry/aliases/production.json' is malformed")

    source.resolve = malformed  # type: ignore[method-assign]
    source.point("1")
    outcome = holder.check()
    assert outcome.result == "failed" and "is malformed" in outcome.detail and holder.served.version == "1"
    assert sample(metrics, "anomaly_model_reloads_total", {"result": "failure"}) == 1
    assert sample(metrics, "anomaly_alias_poll_errors_total") == 0
