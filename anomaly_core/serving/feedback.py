"""Triage labels for scored windows, kept in the store for threshold calibration and evaluation.

One ``POST /v1/feedback`` becomes one immutable JSON object (create-only)::

    feedback/<name>/date=YYYY-MM-DD/<host>-<pid>-<random>-<seq>.json

A label names its window by the ``request_id`` of the score response (plus ``window_index``; the
score log holds the same two columns, so the label joins the logged score) or by the window's hash
(:func:`window_hash`, also a score-log column). Unlike the score log, feedback is written before the
request is answered: an operator's label is never dropped silently; a store outage is a 503.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ..registry import Store
from ..registry.codec import dump_json
from ..registry.layout import check_name
from .schemas import FeedbackItem


def window_hash(window: np.ndarray) -> str:
    """sha256 hex of one ``(T, F)`` window as little-endian float32 in C order (what the model saw)."""
    return hashlib.sha256(np.ascontiguousarray(window, dtype="<f4").tobytes()).hexdigest()


def window_hashes(X: np.ndarray) -> list[str]:
    """:func:`window_hash` of every window of ``(N, T, F)``."""
    X = np.ascontiguousarray(X, dtype="<f4")
    return [hashlib.sha256(row).hexdigest() for row in X.reshape(len(X), -1)]


def feedback_prefix(name: str) -> str:
    return f"feedback/{check_name(name)}/"


class FeedbackStore:
    """Writes and reads feedback objects of model ``name``."""

    def __init__(self, store: Store, name: str) -> None:
        self.store = store
        self.name = check_name(name)
        host = re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname())[:48] or "host"
        self._stem = f"{host}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._seq = 0
        self._lock = threading.Lock()

    def write(self, items: list[FeedbackItem], *, labeller: str | None, served_version: str | None) -> str:
        """Store one batch of labels; return its key. ``StoreError`` when the store refuses."""
        now = datetime.now(UTC)
        with self._lock:
            self._seq += 1
            seq = self._seq
        key = f"{feedback_prefix(self.name)}date={now:%Y-%m-%d}/{self._stem}-{seq:06d}.json"
        doc = {"format": 1, "name": self.name, "received_at": now.isoformat(timespec="microseconds"),
               "labeller": labeller, "served_version": served_version,
               "items": [item.model_dump() for item in items]}
        self.store.create(key, dump_json(doc))
        return key

    def read(self) -> list[dict[str, Any]]:
        """Every stored label as a flat row (batch fields repeated), oldest batch first."""
        rows: list[dict[str, Any]] = []
        for key in self.store.list(feedback_prefix(self.name)):
            if not key.endswith(".json"):
                continue
            doc = json.loads(self.store.get(key)[0])
            for item in doc.get("items", []):
                rows.append({**item, "received_at": doc.get("received_at"), "labeller": doc.get("labeller"),
                             "served_version": doc.get("served_version"), "key": key})
        return sorted(rows, key=lambda r: str(r["received_at"]))
