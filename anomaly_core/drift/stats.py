"""Two-sample drift statistics on the full data, from sorted arrays (numpy/scipy only).

Everything here works on *sorted finite float64* arrays so that one sort per sample serves every
statistic: KS and Wasserstein share one chunked pass over the merged values, PSI and Jensen-Shannon
need only ``searchsorted`` of a handful of bin edges, and the alert rate is one ``searchsorted`` of the
threshold. Memory is the sorted copy of each sample plus O(chunk) scratch, whatever the sample size.

NaN and +/-inf are split off and counted by :func:`sort_finite`; they never enter a statistic, and
the counts travel with the result so that a report can show them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats as sps
from scipy.spatial.distance import jensenshannon

#: Proportion given to an empty bin before taking logs in PSI (the same floor Evidently uses), so an
#: empty bin costs a large but finite amount instead of an infinite PSI.
PSI_EPSILON = 1e-4
#: Chunk of merged values handled at once by the KS/Wasserstein pass (bounds its scratch memory).
CHUNK = 1 << 18
#: Up to this size on both sides, scipy's exact KS p-value is cheap and used as is.
KS_EXACT_MAX_N = 10_000


@dataclass(frozen=True)
class NonFinite:
    """How many values of a sample were left out of the statistics, and why."""

    total: int
    finite: int
    nan: int
    posinf: int
    neginf: int

    @property
    def excluded(self) -> int:
        return self.total - self.finite

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def sort_finite(values: Any) -> tuple[np.ndarray, NonFinite]:
    """One sorted float64 copy of ``values`` restricted to finite values, and the counts left out.

    numpy sorts ``-inf`` first and ``+inf`` then NaN last, so the finite values are one contiguous
    slice of the sorted copy: no boolean mask of the full size is needed.
    """
    arr = np.array(values, dtype=np.float64, copy=True).reshape(-1)
    arr.sort()
    n = arr.size
    lo = int(np.searchsorted(arr, -np.inf, side="right"))
    hi = int(np.searchsorted(arr, np.inf, side="left"))
    not_nan = n - int(np.isnan(arr[hi:]).sum())  # only the tail can hold inf/NaN
    counts = NonFinite(total=n, finite=hi - lo, nan=n - not_nan, posinf=not_nan - hi, neginf=lo)
    return arr[lo:hi], counts


def _check_sorted_pair(ref: np.ndarray, cur: np.ndarray) -> None:
    if ref.size == 0 or cur.size == 0:
        raise ValueError("drift statistics need at least one finite value on each side")


def ks_wasserstein(ref: np.ndarray, cur: np.ndarray, *, chunk: int = CHUNK) -> tuple[float, float]:
    """KS statistic ``sup|F_r - F_c|`` and Wasserstein-1 ``integral |F_r - F_c| dx``, exactly.

    Same definitions as ``scipy.stats.ks_2samp`` and ``scipy.stats.wasserstein_distance`` (both
    evaluate the empirical CDFs at every value of either sample), but computed slab by slab over the
    merged sorted values instead of on one concatenated, argsorted copy of both samples.
    """
    _check_sorted_pair(ref, cur)
    big, small = (cur, ref) if cur.size >= ref.size else (ref, cur)
    starts = big[::chunk]
    d_max = 0.0
    w1 = 0.0
    for k in range(starts.size):
        lo = -np.inf if k == 0 else starts[k]
        hi = starts[k + 1] if k + 1 < starts.size else np.inf
        # Every value in [lo, hi) from both samples; the next slab starts exactly at ``hi``.
        b = big[np.searchsorted(big, lo, "left"):np.searchsorted(big, hi, "left")]
        s = small[np.searchsorted(small, lo, "left"):np.searchsorted(small, hi, "left")]
        if b.size + s.size == 0:
            continue
        pts = np.concatenate([b, s])
        pts.sort(kind="stable")  # two sorted runs: a linear merge
        diff = np.searchsorted(ref, pts, "right") / ref.size
        diff -= np.searchsorted(cur, pts, "right") / cur.size
        np.abs(diff, out=diff)
        d_max = max(d_max, float(diff.max()))
        nxt = np.empty_like(pts)
        nxt[:-1] = pts[1:]
        # After the very last value both CDFs are 1, so the open-ended step adds nothing.
        nxt[-1] = hi if np.isfinite(hi) else pts[-1]
        w1 += float(np.dot(diff, nxt - pts))
    return d_max, w1


def ks_pvalue(d: float, n_ref: int, n_cur: int) -> float:
    """Two-sided KS p-value by scipy's asymptotic rule (``kstwo`` at the effective sample size)."""
    m, n = sorted([float(n_ref), float(n_cur)], reverse=True)
    en = m * n / (m + n)
    return float(np.clip(sps.kstwo.sf(d, np.round(en)), 0.0, 1.0))


def ks_test(ref: np.ndarray, cur: np.ndarray) -> tuple[float, float]:
    """KS statistic and p-value: scipy's exact test for small samples, the sorted pass otherwise."""
    _check_sorted_pair(ref, cur)
    if max(ref.size, cur.size) <= KS_EXACT_MAX_N:
        res = sps.ks_2samp(ref, cur)
        return float(res.statistic), float(res.pvalue)
    d, _ = ks_wasserstein(ref, cur)
    return d, ks_pvalue(d, ref.size, cur.size)


def quantile_edges(ref: np.ndarray, bins: int = 10) -> np.ndarray:
    """Interior bin edges at the reference quantiles ``1/bins ... (bins-1)/bins``, duplicates dropped.

    The outer bins are open (``-inf`` and ``+inf``), so current values outside the reference range
    still land in a bin. Ties in the reference (e.g. many exact zeros) produce equal quantiles; they
    are merged, which leaves fewer, unequal bins rather than empty ones (see :func:`bin_counts`).
    """
    if bins < 2:
        raise ValueError(f"bins must be >= 2, got {bins}")
    return np.unique(sorted_quantiles(ref, np.linspace(0.0, 1.0, bins + 1)[1:-1]))


def bin_counts(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts in ``(-inf, e1], (e1, e2], ..., (e_k, inf)`` of an already sorted array."""
    cum = np.searchsorted(sorted_values, edges, side="right")
    return np.diff(np.concatenate([[0], cum, [sorted_values.size]]))


def psi_from_counts(ref_counts: np.ndarray, cur_counts: np.ndarray, eps: float = PSI_EPSILON) -> float:
    """``sum (c - r) ln(c / r)`` on bin proportions, each floored at ``eps`` (empty bins)."""
    r = np.maximum(ref_counts / ref_counts.sum(), eps)
    c = np.maximum(cur_counts / cur_counts.sum(), eps)
    return float(np.sum((c - r) * np.log(c / r)))


def js_from_counts(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """Jensen-Shannon *distance* (natural log, in ``[0, sqrt(ln 2)]``) of the bin proportions.

    No epsilon is needed: JS is finite for empty bins.
    """
    return float(jensenshannon(ref_counts.astype(np.float64), cur_counts.astype(np.float64)))


def equal_width_psi(ref: np.ndarray, cur: np.ndarray, eps: float = PSI_EPSILON) -> float:
    """PSI on Sturges equal-width bins over the combined range, as Evidently 0.7 computes it.

    Kept only to show (in tests and docs) why we do not use it: on heavy-tailed scores most of the
    mass falls into the first few bins and a clear scale change barely moves the PSI.
    """
    edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
    r = np.histogram(ref, bins=edges)[0]
    c = np.histogram(cur, bins=edges)[0]
    return psi_from_counts(r, c, eps)


def mean_std(values: np.ndarray, *, chunk: int = CHUNK) -> tuple[float, float]:
    """Mean and population std (ddof=0, as ``np.std``) without ``np.std``'s full-size temporary."""
    mean = float(values.sum()) / values.size
    ss = sum(float(np.square(values[i:i + chunk] - mean).sum()) for i in range(0, values.size, chunk))
    return mean, math.sqrt(ss / values.size)


def sorted_quantiles(sorted_values: np.ndarray, qs: Any) -> np.ndarray:
    """``np.quantile(x, qs)`` (linear method) read off an already sorted array, without its copy."""
    h = (sorted_values.size - 1) * np.asarray(qs, dtype=np.float64)
    lo = np.floor(h).astype(np.int64)
    hi = np.minimum(lo + 1, sorted_values.size - 1)
    return sorted_values[lo] + (h - lo) * (sorted_values[hi] - sorted_values[lo])


@dataclass(frozen=True)
class TwoSample:
    """Effect sizes and the KS test for one variable (score or feature)."""

    n_reference: int
    n_current: int
    ks_statistic: float
    ks_pvalue: float
    psi: float
    psi_bins: int
    js_distance: float
    wasserstein: float
    wasserstein_norm: float
    reference_mean: float
    reference_std: float
    current_mean: float
    current_std: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def two_sample(ref: np.ndarray, cur: np.ndarray, *, bins: int = 10) -> TwoSample:
    """All distribution statistics for sorted finite ``ref`` and ``cur``."""
    _check_sorted_pair(ref, cur)
    if max(ref.size, cur.size) <= KS_EXACT_MAX_N:
        d, p = ks_test(ref, cur)
        _, w1 = ks_wasserstein(ref, cur)
    else:
        d, w1 = ks_wasserstein(ref, cur)
        p = ks_pvalue(d, ref.size, cur.size)
    edges = quantile_edges(ref, bins)
    rc, cc = bin_counts(ref, edges), bin_counts(cur, edges)
    ref_mean, ref_std = mean_std(ref)
    cur_mean, cur_std = mean_std(cur)
    # Normalised like Evidently's "wasserstein" (W1 / std_ref), with a floor relative to the scale
    # of the data instead of Evidently's absolute 0.001, since score units are arbitrary.
    floor = np.finfo(np.float64).eps * max(1.0, abs(ref_mean))
    return TwoSample(
        n_reference=int(ref.size), n_current=int(cur.size),
        ks_statistic=d, ks_pvalue=p,
        psi=psi_from_counts(rc, cc), psi_bins=int(rc.size), js_distance=js_from_counts(rc, cc),
        wasserstein=w1, wasserstein_norm=w1 / max(ref_std, floor),
        reference_mean=ref_mean, reference_std=ref_std, current_mean=cur_mean, current_std=cur_std,
    )


def alert_rate_test(ref: np.ndarray, cur: np.ndarray, *, threshold: float | None = None,
                    expected_rate: float | None = None, default_rate: float = 0.01) -> dict[str, Any]:
    """Share of current scores above the threshold against the expected share.

    ``threshold`` is the version's operating threshold (alert when ``score > threshold``); without one,
    the reference ``1 - default_rate`` quantile stands in. With ``expected_rate`` (the version's
    figure) the test is the exact binomial test of the current alert count against it. Without it the
    expected share is the reference's own share above the threshold, which is itself a sample
    estimate: then the test is Fisher's exact test of the two counts, because a binomial test against
    a noisy estimate false-alarms (about 1 run in 6 with 1,000 reference scores, measured).
    Both are exact and take milliseconds up to n = 1e7, so no normal approximation is needed.
    """
    _check_sorted_pair(ref, cur)
    source = "given"
    if threshold is None:
        threshold = float(sorted_quantiles(ref, [1.0 - default_rate])[0])
        source = f"reference_quantile_{1.0 - default_rate:g}"
    threshold = float(threshold)
    if not math.isfinite(threshold):
        raise ValueError(f"the alert threshold must be finite, got {threshold}")
    k_ref = int(ref.size - np.searchsorted(ref, threshold, "right"))
    ref_rate = k_ref / ref.size
    k = int(cur.size - np.searchsorted(cur, threshold, "right"))
    observed = k / cur.size
    if expected_rate is None:
        expected, test = ref_rate, "fisher_exact"
        pvalue = float(sps.fisher_exact([[k, cur.size - k], [k_ref, ref.size - k_ref]]).pvalue)
    else:
        expected, test = float(expected_rate), "binomial"
        if not 0.0 <= expected <= 1.0:
            raise ValueError(f"the expected alert rate must be in [0, 1], got {expected}")
        pvalue = float(sps.binomtest(k, cur.size, expected).pvalue)
    abs_diff = abs(observed - expected)
    # Relative to the expected rate, floored at half a reference count so that a zero expected rate
    # (no reference score above the threshold) gives a large but finite relative change.
    rel_diff = abs_diff / max(expected, 0.5 / ref.size)
    return {
        "threshold": threshold, "threshold_source": source, "test": test,
        "expected_rate": expected, "reference_rate": ref_rate,
        "alerts": k, "n": int(cur.size), "observed_rate": observed,
        "p_value": min(pvalue, 1.0), "abs_diff": abs_diff, "rel_diff": rel_diff,
    }


def separation(scores: np.ndarray, labels: np.ndarray) -> dict[str, Any] | None:
    """AUC-ROC of finite ``scores`` against 0/1 ``labels`` (Mann-Whitney U / (n1 n0)); None if one class."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    keep = np.isfinite(scores)
    s, y = scores[keep], labels[keep].astype(bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    u = sps.mannwhitneyu(s[y], s[~y], alternative="two-sided", method="asymptotic").statistic
    return {"auc": float(u) / (n_pos * n_neg), "n_positive": n_pos, "n_negative": n_neg}


def quantiles(sorted_values: np.ndarray, qs: tuple[float, ...] = (0.5, 0.9, 0.95, 0.99)) -> dict[str, float]:
    """Tail quantiles (anomaly scores drift in the tail first)."""
    values = sorted_quantiles(sorted_values, qs)
    return {f"p{round(q * 100):d}": float(v) for q, v in zip(qs, values, strict=True)}
