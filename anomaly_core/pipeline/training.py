"""Train -> tune threshold -> evaluate -> build the files of a model version -> register.

``train_model`` is what ``anomaly train`` and the retrain DAG call: URIs and small JSON in and out.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from ..data.generator import WindowedDataset
from ..data.io import load_dataset
from ..data.windows import time_ordered_split
from ..errors import InvalidInput, SchemaMismatch
from ..evaluation import figures
from ..evaluation.metrics import detection_metrics
from ..models import BaseDetector, applicable_params, make_detector
from ..models.base import Progress
from ..models.classical import window_energy_of
from ..models.neural import NeuralDetector
from ..models.persist import dump_detector
from ..thresholds import DEFAULT_LEVEL, DEFAULT_RULE, tune_threshold
from ..versioning import code_version

log = logging.getLogger(__name__)


@dataclass
class TrainedModel:
    """A fitted detector with everything a model version stores about it."""

    detector: BaseDetector
    threshold: dict[str, Any]
    metrics: dict[str, Any]
    diagnostics: dict[str, Any]
    reference_scores: np.ndarray
    evaluated_on: str
    eval_scores: np.ndarray
    figures: dict[str, bytes] = field(default_factory=dict)
    fit_seconds: float = 0.0


def window_energy(det: BaseDetector, X: np.ndarray) -> np.ndarray:
    """Mean squared standardised value per window: the trivial score a detector must not imitate."""
    return window_energy_of(det.scaler_.transform(X))


def diagnose(det: BaseDetector, X_nominal: np.ndarray, scores_nominal: np.ndarray) -> dict[str, Any]:
    """How much of the signal a detector models: reconstruction share (neural) and how far its
    nominal scores just follow window energy (Spearman; near 1 = an energy proxy)."""
    out: dict[str, Any] = {}
    if len(X_nominal) > 2:
        rho = spearmanr(scores_nominal, window_energy(det, X_nominal))[0]
        out["energy_spearman_nominal"] = None if np.isnan(rho) else float(rho)
    if isinstance(det, NeuralDetector):
        out["reconstruction_share_nominal"] = det.reconstruction_share(X_nominal)
        out["training"] = {k: getattr(det.training_, k) for k in
                           ("epochs_run", "best_epoch", "best_val_loss", "seconds", "stopped_early")}
    return out


def _nominal(ds: WindowedDataset) -> np.ndarray:
    return ds.X if ds.y is None else ds.X[ds.y == 0]


def fit_and_evaluate(train: WindowedDataset, val: WindowedDataset, test: WindowedDataset | None, *,
                     model: str = "lstm_ae", params: dict[str, Any] | None = None,
                     threshold_rule: str = DEFAULT_RULE, level: float = DEFAULT_LEVEL,
                     with_figures: bool = True, progress: Progress | None = None) -> TrainedModel:
    """Fit on nominal training windows, stop early on nominal validation windows, tune the threshold
    on validation scores, and report metrics on ``test`` (or on validation when there is none).
    Test labels never reach training, early stopping or the threshold."""
    det = make_detector(model, **(params or {}))
    t0 = time.perf_counter()
    for label, ds in (("validation", val), ("test", test)):
        if ds is not None and ds.feature_names is not None and train.feature_names is not None \
                and list(ds.feature_names) != list(train.feature_names):
            raise SchemaMismatch(f"{label} features {ds.feature_names} differ from the training features "
                                 f"{train.feature_names} (names and order must be equal)")
    det.fit(train.X, train.y, X_val=_nominal(val), feature_names=train.feature_names, progress=progress)
    fit_seconds = time.perf_counter() - t0
    val_scores = det.score(val.X)
    threshold = tune_threshold(val_scores, val.y, rule=threshold_rule, level=level)
    nominal_val = val_scores if val.y is None else val_scores[val.y == 0]
    evaluated_on, ev = ("test", test) if test is not None else ("validation", val)
    ev_scores = val_scores if ev is val else det.score(ev.X)
    if ev.y is not None:
        metrics = detection_metrics(ev.y, ev_scores, threshold["value"])
    else:
        metrics = {"alert_rate": float(np.mean(ev_scores > threshold["value"])), "n": len(ev_scores)}
    metrics["evaluated_on"] = evaluated_on
    metrics["threshold_rule"] = threshold_rule
    trained = TrainedModel(det, threshold, metrics, diagnose(det, _nominal(val), nominal_val),
                           nominal_val.astype(np.float64), evaluated_on, ev_scores, fit_seconds=fit_seconds)
    if with_figures:
        trained.figures = _figures(trained, ev, ev_scores)
    return trained


def _figures(trained: TrainedModel, ev: WindowedDataset, scores: np.ndarray) -> dict[str, bytes]:
    out = {"figures/scores.png": figures.score_distribution_figure(
        scores, ev.y, trained.threshold["value"], title=f"Scores on {trained.evaluated_on} data")}
    if ev.y is not None and len(np.unique(ev.y)) == 2:
        curves = {trained.detector.name: (ev.y, scores)}
        out["figures/roc.png"] = figures.roc_figure(curves, title=f"ROC ({trained.evaluated_on})")
        out["figures/pr.png"] = figures.pr_figure(curves, title=f"Precision-recall ({trained.evaluated_on})")
        out["figures/confusion.png"] = figures.confusion_figure(trained.metrics["confusion_matrix"])
    det = trained.detector
    if isinstance(det, NeuralDetector):
        t = det.training_
        out["figures/training.png"] = figures.training_curve_figure(t.train_loss, t.val_loss, t.best_epoch)
    return out


def _npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def _model_card(trained: TrainedModel, meta: dict[str, Any]) -> str:
    m, thr, det = trained.metrics, trained.threshold, trained.detector
    lines = [f"# Model card: {meta['model_type']}", "",
             f"- trained at {meta['trained_at']} from `{meta['data'].get('train', {}).get('path')}`",
             f"- windows of {det.scaler_.window_length_} steps x {det.scaler_.n_features_in_} features "
             f"({', '.join(det.scaler_.feature_names_[:8])}{', ...' if det.scaler_.n_features_in_ > 8 else ''})",
             f"- threshold {thr['value']:.6g} by rule `{thr['rule']}`"
             + (f" (level {thr['level']})" if thr.get("level") else "")
             + f"; expected alert rate on nominal data {thr['expected_alert_rate']:.4f}",
             "", f"## Metrics on {trained.evaluated_on} data", ""]
    for k in ("precision", "recall", "f1", "auc_roc", "auc_pr", "alert_rate"):
        if m.get(k) is not None:
            lines.append(f"- {k}: {m[k]:.4f}")
    lines += ["", "## Diagnostics", ""]
    for k, v in trained.diagnostics.items():
        if not isinstance(v, dict):
            lines.append(f"- {k}: {v:.4f}" if isinstance(v, float) else f"- {k}: {v}")
    lines += ["", "## Parameters", "", "```json", json.dumps(meta["params"], indent=2, sort_keys=True), "```", ""]
    return "\n".join(lines)


def version_files(trained: TrainedModel, meta: dict[str, Any]) -> dict[str, bytes]:
    """Every file of the model version except ``metadata.json`` (which the registry writes)."""
    files = dump_detector(trained.detector)
    files["threshold.json"] = json.dumps(trained.threshold, indent=2, sort_keys=True).encode()
    files["reference_scores.npy"] = _npy(trained.reference_scores)
    files["model_card.md"] = _model_card(trained, meta).encode()
    files.update(trained.figures)
    return files


def _data_ref(path: str | Path, ds: WindowedDataset) -> dict[str, Any]:
    p = Path(path)
    h = hashlib.sha256()
    with open(p, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return {"path": str(p.resolve()), "sha256": h.hexdigest(), "windows": len(ds),
            "window_length": int(ds.X.shape[1]), "n_features": int(ds.X.shape[2]),
            "labelled": ds.y is not None}


def train_model(store: str, name: str, data: str, *, val: str | None = None, test: str | None = None,
                model: str = "lstm_ae", seed: int | None = 0, epochs: int | None = None,
                params: dict[str, Any] | None = None, threshold_rule: str = DEFAULT_RULE,
                level: float = DEFAULT_LEVEL, window_length: int | None = None, stride: int = 1,
                tensorboard_dir: str | None = None, checkpoint_dir: str | None = None,
                parent_version: str | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """Load data, train, evaluate and register one version; return small JSON for the caller."""
    from ..registry import open_registry

    registry = open_registry(store)  # fail on a bad store URI before spending minutes training
    shared = applicable_params(model, random_state=seed, epochs=epochs, tensorboard_dir=tensorboard_dir,
                               checkpoint_dir=checkpoint_dir)
    if epochs is not None and "epochs" not in shared:
        log.info("model %s has no epochs; --epochs ignored", model)
    params = {**shared, **(params or {})}  # explicit --param values win
    full = load_dataset(data, window_length=window_length, stride=stride)
    data_refs = {"train": _data_ref(data, full)}
    if val is not None:
        train_ds = full
        val_ds = load_dataset(val, window_length=window_length or full.X.shape[1], stride=stride)
        data_refs["val"] = _data_ref(val, val_ds)
        test_ds = None
        if test is not None:
            test_ds = load_dataset(test, window_length=window_length or full.X.shape[1], stride=stride)
            data_refs["test"] = _data_ref(test, test_ds)
        for label, ds in (("validation", val_ds), ("test", test_ds)):
            if ds is not None and ds.X.shape[1:] != full.X.shape[1:]:
                raise InvalidInput(f"{label} windows are {ds.X.shape[1:]}, training windows {full.X.shape[1:]}")
    else:
        tr, va, te = time_ordered_split(len(full))
        train_ds, val_ds, test_ds = full.subset(tr), full.subset(va), full.subset(te)
        data_refs["split"] = {"fractions": [0.7, 0.15, 0.15], "order": "time"}
    trained = fit_and_evaluate(train_ds, val_ds, test_ds, model=model, params=params,
                               threshold_rule=threshold_rule, level=level, progress=progress)
    det = trained.detector
    meta = {
        "model_type": det.name,
        "params": {k: v for k, v in det.get_params().items() if k not in ("checkpoint_dir", "tensorboard_dir")},
        "data": data_refs,
        "feature_schema": {"names": det.scaler_.feature_names_, "dtype": "float32",
                           "window_length": det.scaler_.window_length_},
        "threshold": {k: trained.threshold[k] for k in ("value", "rule", "level", "expected_alert_rate")},
        "metrics": trained.metrics,
        "diagnostics": trained.diagnostics,
        "fit_seconds": trained.fit_seconds,
        "code_version": code_version(),
        "parent_version": parent_version,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    files = version_files(trained, meta)
    version = registry.register(name, files, metadata=meta)
    log.info("registered %s version %s (%s, threshold %.6g)", name, version, det.name, trained.threshold["value"])
    return {"name": name, "version": version, "store": registry.uri, "model_type": det.name,
            "threshold": trained.threshold["value"], "threshold_rule": threshold_rule,
            "metrics": trained.metrics, "diagnostics": trained.diagnostics, "fit_seconds": trained.fit_seconds}
