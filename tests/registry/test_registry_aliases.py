"""Aliases on both backends: compare-and-swap moves, append-only history, rollback, refusals."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from anomaly_core.errors import IntegrityError, InvalidInput, NotFound, PreconditionFailed
from anomaly_core.registry import Registry, open_registry
from anomaly_core.registry import aliases as aliases_mod

NAME = "telemetry"


@pytest.fixture
def three(registry, metadata) -> list[str]:
    """Three small versions (few files: on S3 every file is a request)."""
    return [registry.register(NAME, {"weights.bin": bytes([i]) * 64, "threshold.json": b'{"value": 1.0}'},
                              metadata=metadata) for i in range(3)]


def _chain_ok(history: list[dict]) -> bool:
    return all(history[i]["from"] == history[i - 1]["to"] for i in range(1, len(history)))


def test_promote_resolve_and_history(registry: Registry, three: list[str]) -> None:
    v1, v2, _ = three
    assert registry.alias_etag(NAME, "production") is None
    with pytest.raises(NotFound, match="production"):
        registry.resolve(NAME, "production")
    first = registry.promote(NAME, v1, "production", reason="first deploy", actor="alice",
                             gate={"passed": True, "auc": 0.91})
    etag = registry.alias_etag(NAME, "production")
    second = registry.promote(NAME, v2, "production", reason="better", actor="bob")
    assert registry.resolve(NAME, "production") == v2
    assert registry.alias_etag(NAME, "production") not in (None, etag)
    assert (first["from"], first["to"], second["from"], second["to"]) == (None, v1, v1, v2)
    history = registry.history(NAME, "production")
    assert history == [first, second]
    assert set(first) >= {"alias", "from", "to", "at", "actor", "reason", "gate"}
    assert first["gate"] == {"passed": True, "auc": 0.91} and second["actor"] == "bob"
    info = registry.aliases(NAME)["production"]
    assert info["version"] == v2 and info["reason"] == "better" and info["from"] == v1
    assert next(r for r in registry.list_versions(NAME) if r["version"] == v2)["aliases"] == ["production"]


def test_history_across_aliases_is_ordered_by_time(registry: Registry, three: list[str]) -> None:
    registry.promote(NAME, three[0], "candidate", reason="a")
    registry.promote(NAME, three[0], "production", reason="b")
    registry.promote(NAME, three[1], "candidate", reason="c")
    assert [e["reason"] for e in registry.history(NAME)] == ["a", "b", "c"]
    assert sorted(registry.aliases(NAME)) == ["candidate", "production"]


def test_stale_compare_and_swap_names_who_moved_it(registry: Registry, three: list[str]) -> None:
    v1, v2, v3 = three
    registry.promote(NAME, v1, "production", reason="deploy")
    registry.promote(NAME, v2, "production", reason="hotfix", actor="carol", expected_version=v1)
    with pytest.raises(PreconditionFailed, match=rf"at version {v2}, not {v1}: carol moved it from {v1} to "
                                                 rf"{v2} .*hotfix"):
        registry.promote(NAME, v3, "production", reason="late", expected_version=v1)
    assert registry.resolve(NAME, "production") == v2
    assert len(registry.history(NAME, "production")) == 2  # the refused move left no trace


def test_eight_concurrent_movers_lose_nothing(backend, three: list[str]) -> None:
    """Unconditional promotions retry on a lost CAS: every one succeeds and is recorded exactly once."""
    reg = backend.registry  # the registry holds no state: sharing it shares only the HTTP pool
    reg.aliases(NAME)  # connect first, so the movers race on the CAS itself
    barrier = threading.Barrier(8)

    def mover(i: int) -> dict:
        barrier.wait()
        return reg.promote(NAME, three[i % 3], "race", reason=f"r{i}", actor=f"mover{i}")

    with ThreadPoolExecutor(8) as pool:
        events = list(pool.map(mover, range(8)))
    history = backend.registry.history(NAME, "race")
    assert sorted(e["id"] for e in history) == sorted(e["id"] for e in events)  # each exactly once
    assert [e["seq"] for e in history] == list(range(1, 9)) and history[0]["from"] is None
    assert _chain_ok(history)
    assert backend.registry.resolve(NAME, "race") == history[-1]["to"]


def test_eight_strict_movers_one_wins(backend, three: list[str]) -> None:
    """With expected_version, exactly one of 8 racers wins; the losers never appear in history."""
    backend.registry.promote(NAME, three[0], "race", reason="start")
    barrier = threading.Barrier(8)

    reg = backend.registry

    def mover(i: int) -> dict | None:
        barrier.wait()
        try:
            return reg.promote(NAME, three[1 + i % 2], "race", reason=f"r{i}", expected_version=three[0])
        except PreconditionFailed:
            return None

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(mover, range(8)))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    history = backend.registry.history(NAME, "race")
    assert [e["reason"] for e in history] == ["start", winners[0]["reason"]]
    assert backend.registry.resolve(NAME, "race") == winners[0]["to"]


def test_rollback_to_previous_and_to_named(registry: Registry, three: list[str]) -> None:
    v1, v2, v3 = three
    registry.promote(NAME, v1, "production", reason="a")
    registry.promote(NAME, v2, "production", reason="b")
    registry.promote(NAME, v3, "production", reason="c")
    back = registry.rollback(NAME, "production", reason="v3 alerts too much", actor="oncall")
    assert (back["from"], back["to"], back["action"]) == (v3, v2, "rollback")
    assert registry.resolve(NAME, "production") == v2
    named = registry.rollback(NAME, "production", to=v1, reason="go to the known good one")
    assert (named["from"], named["to"]) == (v2, v1)
    again = registry.rollback(NAME, "production", reason="undo the named rollback")
    assert again["to"] == v2  # the previous target is the `from` of the latest move
    history = registry.history(NAME, "production")
    assert [e["to"] for e in history] == [v1, v2, v3, v2, v1, v2] and _chain_ok(history)


def test_rollback_refusals(registry: Registry, three: list[str]) -> None:
    with pytest.raises(NotFound, match="not set"):
        registry.rollback(NAME, "production", reason="x")
    registry.promote(NAME, three[0], "production", reason="first")
    with pytest.raises(InvalidInput, match="no earlier version"):
        registry.rollback(NAME, "production", reason="x")
    with pytest.raises(NotFound, match="no version 99"):
        registry.rollback(NAME, "production", to="99", reason="x")
    assert registry.resolve(NAME, "production") == three[0]
    assert len(registry.history(NAME, "production")) == 1


def test_promote_missing_version_refused_alias_unchanged(registry: Registry, three: list[str]) -> None:
    registry.promote(NAME, three[0], "production", reason="deploy")
    etag = registry.alias_etag(NAME, "production")
    with pytest.raises(NotFound, match="no version 999999"):
        registry.promote(NAME, "999999", "production", reason="typo")
    assert registry.alias_etag(NAME, "production") == etag
    assert len(registry.history(NAME, "production")) == 1


def test_promote_corrupt_version_refused_alias_unchanged(backend, registry: Registry,
                                                          three: list[str]) -> None:
    registry.promote(NAME, three[0], "production", reason="deploy")
    etag = registry.alias_etag(NAME, "production")
    backend.raw_put(f"models/{NAME}/versions/{three[1]}/weights.bin", b"garbage")
    with pytest.raises(IntegrityError, match=r"bad files \['weights.bin'\]; alias unchanged"):
        registry.promote(NAME, three[1], "production", reason="bad")
    with pytest.raises(IntegrityError, match="weights.bin"):
        registry.rollback(NAME, "production", to=three[1], reason="bad")
    assert registry.alias_etag(NAME, "production") == etag
    assert registry.resolve(NAME, "production") == three[0]


def test_promote_of_an_incomplete_version_refused(backend, registry: Registry, three: list[str]) -> None:
    backend.store.create(f"models/{NAME}/versions/4/_claim", b"{}")
    with pytest.raises(NotFound, match="incomplete"):
        registry.promote(NAME, "4", "production", reason="not yet")
    assert registry.alias_etag(NAME, "production") is None


def test_crash_between_move_and_history_record(registry: Registry, three: list[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The alias object carries its event, so a move whose history write crashed is not lost."""
    registry.promote(NAME, three[0], "production", reason="a")
    real_record = aliases_mod._record

    def crash(store, name, alias, event, **kwargs):
        if event["reason"] == "b" and not kwargs.get("repair"):
            raise KeyboardInterrupt("simulated crash after the CAS")
        real_record(store, name, alias, event, **kwargs)

    monkeypatch.setattr(aliases_mod, "_record", crash)
    with pytest.raises(KeyboardInterrupt):
        registry.promote(NAME, three[1], "production", reason="b")
    monkeypatch.undo()
    assert [e["reason"] for e in registry.history(NAME, "production")] == ["a", "b"]
    registry.promote(NAME, three[2], "production", reason="c")  # repairs the missing record
    history = registry.history(NAME, "production")
    assert [e["reason"] for e in history] == ["a", "b", "c"] and _chain_ok(history)
    assert len(registry.store.list(f"models/{NAME}/history/production/")) == 3


def test_a_retried_cas_that_actually_won_is_not_recorded_twice(registry: Registry, three: list[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A PUT that succeeded but whose reply was lost (then 412 on retry) must count as our move."""
    registry.promote(NAME, three[0], "production", reason="a")
    store = registry.store
    real_replace = store.replace
    calls = []

    def replace_then_lose_reply(key: str, body: bytes, *, if_match: str) -> str:
        real_replace(key, body, if_match=if_match)
        calls.append(key)
        raise PreconditionFailed("412 on the retried PUT")

    monkeypatch.setattr(store, "replace", replace_then_lose_reply)
    event = registry.promote(NAME, three[1], "production", reason="b")
    assert len(calls) == 1 and event["to"] == three[1]
    assert [e["reason"] for e in registry.history(NAME, "production")] == ["a", "b"]


@pytest.mark.parametrize("alias", ["Production", "a/b", "../x", "", "7", "a.b", "x" * 200])
def test_bad_alias_names_refused(tmp_path, alias: str) -> None:
    registry = open_registry(tmp_path)  # refused before any I/O, so one backend is enough
    with pytest.raises(InvalidInput):
        registry.promote(NAME, "1", alias, reason="x")
    with pytest.raises(InvalidInput):
        registry.history(NAME, alias)


def test_reason_is_required(registry: Registry, three: list[str]) -> None:
    with pytest.raises(InvalidInput, match="reason"):
        registry.promote(NAME, three[0], "production", reason="  ")
