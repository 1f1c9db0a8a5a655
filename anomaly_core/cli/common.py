"""What every subcommand shares: global options, the one-JSON-object output, error handling."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Settings

log = logging.getLogger("anomaly")


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """``--store``, ``--name`` and ``--json``, accepted by every subcommand."""
    settings = Settings.from_env()
    parser.add_argument("--store", default=settings.store_uri,
                        help="artifact store URI: a folder, file:// or s3://bucket/prefix "
                             "(env ANOMALY_STORE_URI; default %(default)s)")
    parser.add_argument("--name", default=settings.model_name,
                        help="model name (env ANOMALY_MODEL_NAME; default %(default)s)")
    parser.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")


def _default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def emit(args: argparse.Namespace, result: dict[str, Any], human: Callable[[dict[str, Any]], str]) -> None:
    """Print ``result`` as one JSON object (``--json``) or as the human-readable text."""
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps(result, default=_default, sort_keys=True) + "\n")
    else:
        sys.stdout.write(human(result).rstrip("\n") + "\n")
    sys.stdout.flush()
