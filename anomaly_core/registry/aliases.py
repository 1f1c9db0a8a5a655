"""Aliases moved by compare-and-swap, with an append-only history of every move.

The alias object ``aliases/<alias>.json`` is the single point of decision: a move is successful
exactly when its compare-and-swap on that object succeeds. The object carries a move counter
``seq`` and the full event of the move that produced it. The event is then also written create-only
to ``history/<alias>/<seq>.json``. If a mover crashes between the two writes, the next mover (and
every history read) restores the missing file from the alias object, so the history holds every
successful move exactly once, in order, and a lost compare-and-swap never appears in it.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from dataclasses import dataclass
from typing import Any

from ..errors import AlreadyExists, Conflict, IntegrityError, NotFound, PreconditionFailed
from . import layout
from .codec import dump_json, load_json, now_iso
from .store import Store

log = logging.getLogger(__name__)

_MAX_MOVE_ATTEMPTS = 64


@dataclass(frozen=True)
class AliasState:
    """An alias object as read, with the etag the next compare-and-swap must match."""

    obj: dict[str, Any]
    etag: str

    @property
    def version(self) -> str:
        return str(self.obj["version"])

    @property
    def seq(self) -> int:
        return int(self.obj["seq"])

    @property
    def event(self) -> dict[str, Any]:
        return dict(self.obj["event"])

    def summary(self) -> dict[str, Any]:
        ev = self.event
        return {"version": self.version, "seq": self.seq, "updated_at": ev.get("at"),
                "actor": ev.get("actor"), "reason": ev.get("reason"), "from": ev.get("from"),
                "manifest_sha256": self.obj.get("manifest_sha256"), "etag": self.etag}


def read_alias(store: Store, name: str, alias: str) -> AliasState | None:
    """The alias object, or ``None`` when the alias was never set."""
    key = layout.alias_key(name, alias)
    try:
        body, etag = store.get(key)
    except NotFound:
        return None
    obj = load_json(body, f"alias {alias!r} of {name!r}")
    if (not isinstance(obj, dict) or not isinstance(obj.get("seq"), int)
            or not isinstance(obj.get("event"), dict) or "version" not in obj):
        raise IntegrityError(f"alias object {key!r} is malformed")
    return AliasState(obj=obj, etag=etag)


def stale_error(name: str, alias: str, state: AliasState | None, expected: str) -> PreconditionFailed:
    """The refusal of a stale compare-and-swap: who moved the alias, to what, when and why."""
    if state is None:
        return PreconditionFailed(f"alias {alias!r} of {name!r} is not set, expected it at version "
                                  f"{expected}; nothing changed")
    ev = state.event
    return PreconditionFailed(
        f"alias {alias!r} of {name!r} is at version {state.version}, not {expected}: {ev.get('actor')} "
        f"moved it from {ev.get('from')} to {ev.get('to')} at {ev.get('at')} "
        f"(reason: {ev.get('reason')!r}); nothing changed")


def _record(store: Store, name: str, alias: str, event: dict[str, Any], *, repair: bool = False) -> None:
    """Write the history file of ``event``; idempotent, so any mover may repair a missing one."""
    key = layout.history_key(name, alias, int(event["seq"]))
    if repair and store.head(key) is not None:
        return  # the usual case: its mover wrote it (a HEAD is cheaper than a refused create)
    try:
        store.create(key, dump_json(event))
    except AlreadyExists:
        existing = load_json(store.get(key)[0], key)
        if not isinstance(existing, dict) or existing.get("id") != event.get("id"):
            # Only the compare-and-swap winner of a seq writes it, so this means tampering. Log it
            # rather than block every later move (a rollback may be what fixes the incident).
            log.error("history %s holds a different event than alias %s of %s records", key, alias, name)


def move(store: Store, name: str, alias: str, to: str, *, reason: str, actor: str,
         gate: dict[str, Any] | None, action: str, expected: str | None,
         manifest_sha256: str) -> dict[str, Any]:
    """Point ``alias`` at version ``to`` and return the recorded event.

    With ``expected`` the move happens only while the alias is at that version (else
    ``PreconditionFailed`` saying who moved it); without it, a lost race is retried on the new state.
    """
    key = layout.alias_key(name, alias)
    for attempt in range(_MAX_MOVE_ATTEMPTS):
        state = read_alias(store, name, alias)
        if state is not None:
            _record(store, name, alias, state.event, repair=True)  # a mover may have crashed before it
        current = state.version if state else None
        if expected is not None and current != expected:
            raise stale_error(name, alias, state, expected)
        event = {"id": uuid.uuid4().hex, "seq": state.seq + 1 if state else 1, "name": name,
                 "alias": alias, "from": current, "to": to, "at": now_iso(), "actor": actor,
                 "reason": reason, "gate": gate, "action": action}
        body = dump_json({"name": name, "alias": alias, "version": to, "seq": event["seq"],
                          "manifest_sha256": manifest_sha256, "event": event})
        try:
            if state is None:
                store.create(key, body)
            else:
                store.replace(key, body, if_match=state.etag)
        except (AlreadyExists, PreconditionFailed, Conflict):
            after = read_alias(store, name, alias)
            if after is None or after.event.get("id") != event["id"]:  # else: our retried PUT won
                time.sleep(random.uniform(0, min(0.25, 0.005 * 2 ** attempt)))  # jitter de-synchronises
                continue
        _record(store, name, alias, event)
        log.info("alias %s of %s: %s -> %s (%s by %s)", alias, name, current, to, action, actor)
        return event
    raise Conflict(f"alias {alias!r} of {name!r} is contended: gave up after {_MAX_MOVE_ATTEMPTS} "
                   "compare-and-swap attempts; nothing changed")


def history(store: Store, name: str, alias: str) -> list[dict[str, Any]]:
    """Every move of ``alias``, oldest first (by ``seq``)."""
    events: dict[int, dict[str, Any]] = {}
    for key in store.list(layout.history_prefix(name, alias)):
        event = load_json(store.get(key)[0], key)
        if isinstance(event, dict) and isinstance(event.get("seq"), int):
            events[event["seq"]] = event
    state = read_alias(store, name, alias)
    if state is not None and state.seq not in events:
        events[state.seq] = state.event  # its mover has not written (or crashed before) the file
    return [events[seq] for seq in sorted(events)]


def alias_names(store: Store, name: str) -> list[str]:
    """Every alias that has been set (from the alias objects and, for safety, the history folders)."""
    objects = {n[: -len(".json")] for n in store.children(layout.aliases_prefix(name)) if n.endswith(".json")}
    return sorted(objects | set(store.children(f"{layout.model_prefix(name)}history/")))
