"""PNG figures (matplotlib, Agg backend): each function draws one figure and returns its bytes."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=110)
    _plt().close(fig)
    return buf.getvalue()


def roc_figure(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], title: str = "ROC") -> bytes:
    """``curves``: label -> (y, scores)."""
    from sklearn.metrics import roc_auc_score, roc_curve

    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 4.5))
    for label, (y, s) in curves.items():
        fpr, tpr, _ = roc_curve(y, s)
        ax.plot(fpr, tpr, label=f"{label} (AUC {roc_auc_score(y, s):.3f})")
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=title)
    ax.legend(fontsize=8, loc="lower right")
    return _png(fig)


def pr_figure(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], title: str = "Precision-recall") -> bytes:
    from sklearn.metrics import average_precision_score, precision_recall_curve

    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 4.5))
    for label, (y, s) in curves.items():
        p, r, _ = precision_recall_curve(y, s)
        ax.plot(r, p, label=f"{label} (AP {average_precision_score(y, s):.3f})")
    ax.set(xlabel="recall", ylabel="precision", title=title, ylim=(0, 1.02))
    ax.legend(fontsize=8, loc="lower left")
    return _png(fig)


def confusion_figure(cm: Mapping[str, int], title: str = "Confusion matrix") -> bytes:
    plt = _plt()
    m = np.array([[cm["tn"], cm["fp"]], [cm["fn"], cm["tp"]]])
    fig, ax = plt.subplots(figsize=(3.8, 3.4))
    ax.imshow(m, cmap="Blues")
    for (i, j), v in np.ndenumerate(m):
        ax.text(j, i, str(v), ha="center", va="center", color="white" if v > m.max() / 2 else "black")
    ax.set(xticks=[0, 1], yticks=[0, 1], xticklabels=["nominal", "anomaly"],
           yticklabels=["nominal", "anomaly"], xlabel="predicted", ylabel="actual", title=title)
    return _png(fig)


def score_distribution_figure(scores: np.ndarray, y: np.ndarray | None, threshold: float | None = None,
                              title: str = "Score distribution") -> bytes:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    s = np.asarray(scores, dtype=np.float64)
    bins = np.histogram_bin_edges(np.log10(np.maximum(s, 1e-12)), bins=50)
    groups = {"all": s} if y is None else {"nominal": s[y == 0], "anomalous": s[y == 1]}
    for label, g in groups.items():
        if len(g):
            ax.hist(np.log10(np.maximum(g, 1e-12)), bins=bins, alpha=0.6, label=label, density=True)
    if threshold is not None and threshold > 0:
        ax.axvline(np.log10(threshold), color="k", ls="--", lw=1, label="threshold")
    ax.set(xlabel="log10(score)", ylabel="density", title=title)
    ax.legend(fontsize=8)
    return _png(fig)


def training_curve_figure(train_loss: Sequence[float], val_loss: Sequence[float],
                          best_epoch: int | None = None, title: str = "Training curve") -> bytes:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    epochs = np.arange(1, len(train_loss) + 1)
    ax.plot(epochs, train_loss, label="train")
    ax.plot(epochs, val_loss, label="validation")
    if best_epoch:
        ax.axvline(best_epoch, color="k", ls=":", lw=1, label=f"best epoch {best_epoch}")
    ax.set(xlabel="epoch", ylabel="loss", yscale="log", title=title)
    ax.legend(fontsize=8)
    return _png(fig)


def feature_kde_figure(X: np.ndarray, y: np.ndarray, feature_names: Sequence[str] | None = None,
                       max_features: int = 4, title: str = "Feature densities") -> bytes:
    """KDE of each feature's values, nominal vs anomalous windows (the paper's feature KDE plots)."""
    from scipy.stats import gaussian_kde

    plt = _plt()
    n = min(max_features, X.shape[2])
    fig, axes = plt.subplots(1, n, figsize=(3 * n, 2.8), squeeze=False)
    rng = np.random.default_rng(0)
    for f, ax in zip(range(n), axes[0], strict=True):
        for label, mask in (("nominal", y == 0), ("anomalous", y == 1)):
            v = X[mask, :, f].ravel().astype(np.float64)
            if len(v) < 2 or np.std(v) == 0:
                continue
            v = rng.choice(v, size=min(len(v), 20_000), replace=False)
            grid = np.linspace(np.quantile(v, 0.001), np.quantile(v, 0.999), 200)
            ax.plot(grid, gaussian_kde(v)(grid), label=label)
        ax.set_title(feature_names[f] if feature_names else f"f{f}", fontsize=9)
    axes[0][0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    return _png(fig)


def bar_figure(values: Mapping[str, float], errors: Mapping[str, float] | None = None, *, ylabel: str,
               title: str, log: bool = False) -> bytes:
    """Bars with optional error bars: efficiency (time, throughput) and ablation figures."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(4.0, 1.1 * len(values)), 3.6))
    labels = list(values)
    ax.bar(labels, [values[k] for k in labels],
           yerr=[errors.get(k, 0.0) for k in labels] if errors else None, capsize=3, color="#4c72b0")
    ax.set(ylabel=ylabel, title=title)
    if log:
        ax.set_yscale("log")
    ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    return _png(fig)
