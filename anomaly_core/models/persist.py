"""Detector <-> files of a model version, without pickle.

A detector becomes ``model.json`` (type, parameters, fitted config), ``preprocessing.json`` (the
persisted standardisation and feature schema), ``weights.safetensors`` (named arrays: torch weights
and other fitted arrays) and, for scikit-learn baselines, ``estimator.skops``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import IntegrityError
from ..preprocessing import Standardizer
from .base import BaseDetector, DetectorState

FORMAT_VERSION = 1
MODEL_FILE = "model.json"
PREPROCESSING_FILE = "preprocessing.json"
WEIGHTS_FILE = "weights.safetensors"
# run-local paths, meaningless once the model is stored
_LOCAL_PARAMS = ("checkpoint_dir", "tensorboard_dir")


def _json(obj: Any) -> bytes:
    return json.dumps(obj, indent=2, sort_keys=True).encode()


def dump_detector(det: BaseDetector) -> dict[str, bytes]:
    """The files that persist ``det`` (a fitted detector)."""
    from safetensors.numpy import save

    state = det.get_state()
    params = {k: v for k, v in det.get_params().items() if k not in _LOCAL_PARAMS}
    files: dict[str, bytes] = {
        MODEL_FILE: _json({"format": FORMAT_VERSION, "model_type": det.name, "params": params,
                           "config": state.config, "blobs": sorted(state.blobs),
                           "arrays": WEIGHTS_FILE if state.arrays else None}),
        PREPROCESSING_FILE: _json(det.scaler_.to_dict()),
    }
    if state.arrays:
        files[WEIGHTS_FILE] = save({k: np.ascontiguousarray(v) for k, v in state.arrays.items()})
    for name, blob in state.blobs.items():
        files[name] = blob
    return files


def load_detector(files: Mapping[str, bytes]) -> BaseDetector:
    """Rebuild a detector from the files :func:`dump_detector` wrote (already hash-verified)."""
    from safetensors.numpy import load

    from . import DETECTORS

    try:
        spec = json.loads(files[MODEL_FILE])
        scaler = Standardizer.from_dict(json.loads(files[PREPROCESSING_FILE]))
    except KeyError as err:
        raise IntegrityError(f"model version lacks {err.args[0]}") from None
    except (ValueError, TypeError) as err:
        raise IntegrityError(f"model version has an unreadable model.json/preprocessing.json ({err})") from err
    if spec.get("format") != FORMAT_VERSION:
        raise IntegrityError(f"unsupported model format {spec.get('format')!r} (this code reads {FORMAT_VERSION})")
    cls = DETECTORS.get(spec.get("model_type"))
    if cls is None:
        raise IntegrityError(f"unknown model type {spec.get('model_type')!r} in model.json")
    arrays: dict[str, np.ndarray] = {}
    if spec.get("arrays"):
        try:
            arrays = load(files[spec["arrays"]])
        except KeyError:
            raise IntegrityError(f"model version lacks {spec['arrays']}") from None
    try:
        blobs = {name: files[name] for name in spec.get("blobs", [])}
    except KeyError as err:
        raise IntegrityError(f"model version lacks {err.args[0]}") from None
    return cls.from_state(spec["params"], DetectorState(spec.get("config", {}), arrays, blobs), scaler)
