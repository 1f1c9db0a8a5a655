"""``anomaly drift``: score (and feature) drift of current data against a reference, with a verdict."""

from __future__ import annotations

import argparse
import logging
import math
from typing import Any

from ..errors import AnomalyError, InvalidInput
from .common import add_common_options, emit

log = logging.getLogger("anomaly.drift")


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "drift", help="drift statistics, verdict and Evidently report",
        description="Compare current scores (or features) with a reference and write summary.json, "
                    "report.html and report.json to --out. Files: .npy scores, Parquet/CSV with a "
                    "'score' column and/or feature columns, or a windowed .npz with X (N, T, F).")
    ref = p.add_mutually_exclusive_group(required=True)
    ref.add_argument("--reference", metavar="F", help="reference file")
    ref.add_argument("--version", metavar="V", help="use the stored reference scores of this model version")
    ref.add_argument("--alias", metavar="A",
                     help="use the stored reference scores of the version alias A points to")
    p.add_argument("--current", metavar="F", required=True, help="current file (same kind as the reference)")
    p.add_argument("--out", metavar="DIR", required=True, help="output folder")
    p.add_argument("--threshold", type=float, help="alert threshold (default: the version's, else the "
                                                   "reference quantile 1 - policy.default_alert_rate)")
    p.add_argument("--expected-rate", type=float,
                   help="expected alert rate above the threshold (default: the reference's own share above "
                        "it, compared with Fisher's test)")
    p.add_argument("--policy", metavar="JSON", help="decision policy file (see docs/drift.md)")
    p.add_argument("--reference-features", metavar="F", help="feature table/.npz for the reference side")
    p.add_argument("--current-features", metavar="F", help="feature table/.npz for the current side")
    p.add_argument("--sample-size", type=int, default=10_000, help="rows per side in the Evidently report "
                                                                   "(default %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of the report sample (default %(default)s)")
    p.add_argument("--no-report", action="store_true", help="skip the Evidently report (statistics only)")
    add_common_options(p)
    p.set_defaults(func=run)


def _registry_reference(args: argparse.Namespace) -> tuple[Any, float | None]:
    """Reference scores and threshold of a registered version."""
    from ..pipeline.drift import resolve_version, version_reference
    from ..registry import open_registry

    reg = open_registry(args.store)
    version = resolve_version(reg, args.name, version=args.version, alias=args.alias)
    return version_reference(reg, args.name, version)


def run(args: argparse.Namespace) -> int:
    from ..drift import Policy, run_drift

    if args.threshold is not None and not math.isfinite(args.threshold):
        raise InvalidInput(f"--threshold must be a finite number, got {args.threshold}")
    if args.expected_rate is not None and not 0.0 <= args.expected_rate <= 1.0:
        raise InvalidInput(f"--expected-rate must be in [0, 1], got {args.expected_rate}")
    if args.sample_size < 1:
        raise InvalidInput(f"--sample-size must be >= 1, got {args.sample_size}")
    policy = Policy.from_json(args.policy) if args.policy else Policy()
    threshold, expected = args.threshold, args.expected_rate
    if args.reference is not None:
        reference: Any = args.reference
    else:
        reference, v_threshold = _registry_reference(args)
        if threshold is None:
            threshold = v_threshold
    try:
        summary = run_drift(reference, args.current, args.out, threshold=threshold, expected_rate=expected,
                            policy=policy, reference_features=args.reference_features,
                            current_features=args.current_features, report=not args.no_report,
                            sample_size=args.sample_size, seed=args.seed)
    except ValueError as err:
        if isinstance(err, AnomalyError):
            raise
        raise InvalidInput(str(err)) from None
    emit(args, summary, _human)
    return 0


def _human(s: dict[str, Any]) -> str:
    lines = [f"verdict: {s['verdict']} ({s['reason']})"]
    n = s.get("n", {})
    if n:
        lines.append("rows: reference {r[finite]}/{r[total]} finite, current {c[finite]}/{c[total]} finite"
                     .format(r=n["reference"], c=n["current"]))
    sc = s.get("score")
    if sc:
        a = sc["alert_rate"]
        lines.append(f"score: PSI {sc['psi']:.4f}  KS D {sc['ks_statistic']:.4f} (p={sc['ks_pvalue']:.2g})  "
                     f"W1/std {sc['wasserstein_norm']:.4f}  JS {sc['js_distance']:.4f}")
        lines.append(f"alerts: {a['observed_rate']:.4%} above {a['threshold']:.4g} "
                     f"(expected {a['expected_rate']:.4%}, p={a['p_value']:.2g})")
    feats = s.get("features") or {}
    moved = [f for r in s.get("rules", []) if r.get("fired") for f in r.get("features", [])]
    if feats:
        moved_text = f"; moved: {', '.join(sorted(set(moved)))}" if moved else ""
        lines.append(f"features: {len(feats)} compared{moved_text}")
    for w in s.get("warnings", []):
        lines.append(f"warning: {w}")
    rep = s.get("report") or {}
    if "html" in rep:
        lines.append(f"report: {rep['html']} (sample {rep['sample']['current']} rows, {rep['seconds']} s)")
    lines.append(f"summary: {s['summary']}")
    return "\n".join(lines)
