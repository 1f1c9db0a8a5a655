"""Detector names, importable without torch or scikit-learn (the CLI builds its parser from them,
and every ``anomaly`` command would otherwise pay the model imports at start-up)."""

from __future__ import annotations

#: every name ``anomaly train --model`` accepts; ``anomaly_core.models.DETECTORS`` has the classes
MODEL_NAMES = ("lstm_ae", "lstm_ae_paper", "dense_ae", "iforest", "ocsvm", "pca", "energy")
#: the rows of ``anomaly benchmark`` (the paper's four, the paper's LSTM-AE config, two references)
BENCHMARK_MODELS = ("iforest", "ocsvm", "dense_ae", "lstm_ae", "lstm_ae_paper", "pca", "energy")
