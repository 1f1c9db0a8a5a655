"""Our statistics against scipy on the same arrays, and the binning choices they rest on."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as sps
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.spatial.distance import jensenshannon

from anomaly_core.drift import stats as S
from anomaly_core.drift.policy import Policy, _lookup

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
# Few distinct values, so ties within and across samples are the rule, not the exception.
tied = st.sampled_from([0.0, 0.5, 1.0, 1.0, 2.0, 3.5, -1.0])


def test_sort_finite_counts_and_excludes_non_finite() -> None:
    x = np.array([np.nan, 1.0, np.inf, -np.inf, 2.0, np.nan, np.inf, 0.5], dtype=np.float32)
    s, n = S.sort_finite(x)
    assert s.tolist() == [0.5, 1.0, 2.0] and s.dtype == np.float64
    assert n.to_dict() == {"total": 8, "finite": 3, "nan": 2, "posinf": 2, "neginf": 1}
    assert n.excluded == 5
    assert x[1] == 1.0  # the input is not modified


@pytest.mark.filterwarnings("ignore:ks_2samp. Exact calculation unsuccessful")
@settings(max_examples=150, deadline=None)
@given(arrays(np.float64, st.integers(1, 60), elements=st.one_of(finite, tied)),
       arrays(np.float64, st.integers(1, 60), elements=st.one_of(finite, tied)),
       st.sampled_from([1, 2, 7, S.CHUNK]))
def test_ks_and_wasserstein_match_scipy(a: np.ndarray, b: np.ndarray, chunk: int) -> None:
    d, w1 = S.ks_wasserstein(np.sort(a), np.sort(b), chunk=chunk)
    assert d == pytest.approx(sps.ks_2samp(a, b).statistic, abs=1e-12)
    assert w1 == pytest.approx(sps.wasserstein_distance(a, b), rel=1e-9, abs=1e-9)


def test_ks_pvalue_matches_scipy_exact_and_asymptotic(rng: np.random.Generator) -> None:
    small_ref, small_cur = rng.normal(size=800), rng.normal(0.1, 1, 1200)
    d, p = S.ks_test(np.sort(small_ref), np.sort(small_cur))
    ref = sps.ks_2samp(small_ref, small_cur)  # exact method at this size
    assert (d, p) == pytest.approx((ref.statistic, ref.pvalue), rel=1e-12)

    big_ref, big_cur = rng.normal(size=20_000), rng.normal(0.02, 1, 60_000)
    d, p = S.ks_test(np.sort(big_ref), np.sort(big_cur))
    ref = sps.ks_2samp(big_ref, big_cur, method="asymp")
    assert d == pytest.approx(ref.statistic, abs=1e-12)
    assert p == pytest.approx(ref.pvalue, rel=1e-9)


def test_two_sample_matches_scipy_on_large_arrays(rng: np.random.Generator) -> None:
    ref, cur = rng.gamma(2.0, size=50_000), 1.1 * rng.gamma(2.0, size=200_000)
    t = S.two_sample(np.sort(ref), np.sort(cur))
    assert t.ks_statistic == pytest.approx(sps.ks_2samp(ref, cur).statistic, abs=1e-12)
    w1 = sps.wasserstein_distance(ref, cur)
    assert t.wasserstein == pytest.approx(w1, rel=1e-9)
    assert t.wasserstein_norm == pytest.approx(w1 / np.std(ref), rel=1e-9)


def test_psi_and_js_on_reference_deciles_match_a_direct_computation(rng: np.random.Generator) -> None:
    ref, cur = rng.normal(size=10_000), rng.normal(0.3, 1.2, 30_000)
    t = S.two_sample(np.sort(ref), np.sort(cur))
    edges = np.concatenate([[-np.inf], np.quantile(ref, np.arange(1, 10) / 10), [np.inf]])
    r = np.histogram(ref, edges)[0] / ref.size
    c = np.histogram(cur, edges)[0] / cur.size
    assert t.psi_bins == 10
    assert r == pytest.approx(np.full(10, 0.1), abs=1e-3)  # deciles: equal reference mass
    assert t.psi == pytest.approx(np.sum((c - r) * np.log(c / r)), rel=1e-6)
    assert t.js_distance == pytest.approx(jensenshannon(r, c), rel=1e-6)


def test_tied_reference_merges_duplicate_edges_and_empty_bins_stay_finite() -> None:
    ref = np.sort(np.concatenate([np.zeros(700), np.linspace(1, 2, 300)]))  # 70 % exact zeros
    edges = S.quantile_edges(ref, 10)
    assert edges.size == len(set(edges.tolist())) and edges[0] == 0.0
    counts = S.bin_counts(ref, edges)
    assert counts.sum() == ref.size and counts[0] == 700  # the point mass is one bin, not seven
    cur = np.sort(np.full(1000, 5.0))  # everything in the top bin: the others are empty
    psi = S.psi_from_counts(counts, S.bin_counts(cur, edges))
    assert np.isfinite(psi) and psi > 1.0


def test_quantile_psi_detects_lognormal_scale_change_that_equal_width_misses() -> None:
    """x1.2 on log-normal(0, 0.7) scores at n = 1e6 vs 1e5 (the notes' trap, measured there for sigma 1)."""
    r = np.random.default_rng(5)
    ref, cur = np.sort(r.lognormal(0, 0.7, 100_000)), np.sort(1.2 * r.lognormal(0, 0.7, 1_000_000))
    cutoff = next(c.value for rule in Policy().rules for c in rule.when if c.metric == "score.psi")
    quantile_psi = S.two_sample(ref, cur).psi
    equal_width = S.equal_width_psi(ref, cur)
    assert quantile_psi >= cutoff > equal_width
    assert quantile_psi > 1.5 * equal_width


def test_equal_width_psi_understates_heavy_tailed_drift_at_every_size() -> None:
    """Log-normal(0, 1) x1.2: decile PSI stays near its population value (~0.033) as n grows, while
    Sturges equal-width PSI is a fraction of it, set by where the largest scores happen to fall."""
    r = np.random.default_rng(6)
    for n in (100_000, 1_000_000):
        ref, cur = np.sort(r.lognormal(0, 1, n // 10)), np.sort(1.2 * r.lognormal(0, 1, n))
        q, ew = S.two_sample(ref, cur).psi, S.equal_width_psi(ref, cur)
        assert q == pytest.approx(0.033, rel=0.25), n
        assert ew < q / 3, n


def test_alert_rate_binomial_and_fisher_match_scipy(rng: np.random.Generator) -> None:
    ref, cur = np.sort(rng.normal(size=20_000)), np.sort(rng.normal(0.1, 1, 50_000))
    a = S.alert_rate_test(ref, cur, threshold=2.0, expected_rate=0.02)
    k = int((cur > 2.0).sum())
    assert a["alerts"] == k and a["test"] == "binomial"
    assert a["p_value"] == pytest.approx(sps.binomtest(k, cur.size, 0.02).pvalue, rel=1e-9)
    assert a["rel_diff"] == pytest.approx(abs(k / cur.size - 0.02) / 0.02)

    b = S.alert_rate_test(ref, cur, threshold=2.0)
    kr = int((ref > 2.0).sum())
    assert b["test"] == "fisher_exact" and b["expected_rate"] == kr / ref.size
    assert b["p_value"] == pytest.approx(
        sps.fisher_exact([[k, cur.size - k], [kr, ref.size - kr]]).pvalue, rel=1e-9)

    c = S.alert_rate_test(ref, cur)  # no threshold: the reference 99 % quantile
    assert c["threshold"] == pytest.approx(np.quantile(ref, 0.99))
    assert c["threshold_source"].startswith("reference_quantile")
    with pytest.raises(ValueError, match="finite"):
        S.alert_rate_test(ref, cur, threshold=float("nan"))


def test_separation_auc_matches_sklearn(rng: np.random.Generator) -> None:
    from sklearn.metrics import roc_auc_score

    y = rng.random(5000) < 0.1
    s = rng.normal(size=5000) + 1.5 * y
    s[:3] = np.nan  # excluded, not propagated
    res = S.separation(s, y.astype(int))
    keep = np.isfinite(s)
    assert res is not None and res["auc"] == pytest.approx(roc_auc_score(y[keep], s[keep]), rel=1e-12)
    assert S.separation(s, np.zeros(5000)) is None


@settings(max_examples=100, deadline=None)
@given(arrays(np.float64, st.integers(1, 200), elements=st.one_of(finite, tied)))
def test_sorted_helpers_match_numpy(x: np.ndarray) -> None:
    s = np.sort(x)
    qs = [0.0, 0.1, 0.5, 0.9, 0.99, 1.0]
    assert S.sorted_quantiles(s, qs) == pytest.approx(np.quantile(x, qs), rel=1e-12, abs=1e-9)
    mean, std = S.mean_std(s, chunk=7)
    assert (mean, std) == pytest.approx((x.mean(), x.std()), rel=1e-9, abs=1e-6)


def test_lookup_reads_only_numbers() -> None:
    stats = {"score": {"psi": 0.2, "flag": True, "nested": {"x": 1}}}
    assert _lookup(stats, "score.psi") == 0.2
    assert _lookup(stats, "score.flag") is None and _lookup(stats, "score.nested") is None
    assert _lookup(stats, "score.missing.x") is None
