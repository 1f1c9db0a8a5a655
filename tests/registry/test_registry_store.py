"""The Store contract, run on both backends: create-only, compare-and-swap, listing, key safety."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from anomaly_core.errors import AlreadyExists, InvalidInput, NotFound, PreconditionFailed
from anomaly_core.registry.local import LocalStore
from anomaly_core.registry.s3 import S3Store
from anomaly_core.registry.store import Store, open_store, validate_key

BAD_KEYS = ["", "/etc/passwd", "../x", "a/../../x", "a//b", "a/./b", "a/", ".hidden", "a\\b", "a/\x00b", ".."]


def test_create_is_create_only(backend) -> None:
    store = backend.store
    etag = store.create("m/versions/1/_claim", b"a")
    with pytest.raises(AlreadyExists, match="m/versions/1/_claim"):
        store.create("m/versions/1/_claim", b"b")
    assert store.get("m/versions/1/_claim") == (b"a", etag)


def test_get_missing_is_not_found(backend) -> None:
    store = backend.store
    with pytest.raises(NotFound, match="nope"):
        store.get("nope/x.json")
    assert store.head("nope/x.json") is None


def test_replace_is_compare_and_swap(backend) -> None:
    store = backend.store
    first = store.create("a/alias.json", b"1")
    second = store.replace("a/alias.json", b"2", if_match=first)
    assert second != first and store.head("a/alias.json") == second
    with pytest.raises(PreconditionFailed):
        store.replace("a/alias.json", b"3", if_match=first)  # stale etag
    assert store.get("a/alias.json")[0] == b"2"
    with pytest.raises(NotFound):
        store.replace("a/missing.json", b"x", if_match=first)


def test_list_and_children(backend) -> None:
    store = backend.store
    for key in ("m/a/1/x", "m/a/1/y", "m/a/2/x", "m/b/z", "other/q"):
        store.create(key, b".")
    assert store.list("m/a") == ["m/a/1/x", "m/a/1/y", "m/a/2/x"]
    assert store.list("m/a/") == store.list("m/a")
    assert store.children("m/a/") == ["1", "2"]
    assert store.children("m/") == ["a", "b"]
    assert store.list("missing/") == [] and store.children("missing/") == []


@pytest.mark.parametrize("key", BAD_KEYS)
def test_unsafe_keys_refused(backend, key: str) -> None:
    store = backend.store
    with pytest.raises(InvalidInput):
        store.create(key, b"x")
    with pytest.raises(InvalidInput):
        store.get(key)


def test_validate_key_accepts_nested_relative_keys() -> None:
    assert validate_key("models/t/versions/3/figures/roc.png") == "models/t/versions/3/figures/roc.png"


def test_eight_concurrent_creates_have_one_winner(backend) -> None:
    store = backend.store
    barrier = threading.Barrier(8)

    def attempt(i: int) -> bool:
        barrier.wait()
        try:
            store.create("race/claim", str(i).encode())
            return True
        except AlreadyExists:
            return False

    with ThreadPoolExecutor(8) as pool:
        wins = list(pool.map(attempt, range(8)))
    assert wins.count(True) == 1
    assert store.get("race/claim")[0] == str(wins.index(True)).encode()


def test_eight_concurrent_swaps_have_one_winner(backend) -> None:
    store = backend.store
    etag = store.create("race/alias.json", b"start")
    barrier = threading.Barrier(8)

    def attempt(i: int) -> bool:
        barrier.wait()
        try:
            store.replace("race/alias.json", str(i).encode(), if_match=etag)
            return True
        except PreconditionFailed:
            return False

    with ThreadPoolExecutor(8) as pool:
        wins = list(pool.map(attempt, range(8)))
    assert wins.count(True) == 1
    assert store.get("race/alias.json")[0] == str(wins.index(True)).encode()


# -- local specifics ----------------------------------------------------------------------------------


def test_local_create_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.create("a/b", b"x")
    with pytest.raises(AlreadyExists):
        store.create("a/b", b"y")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["b"]


def test_local_reader_never_sees_a_partial_file(tmp_path: Path) -> None:
    """Readers polling while a large body is written see either nothing or all of it."""
    store = LocalStore(tmp_path)
    body = b"z" * (16 << 20)
    seen: set[int] = set()
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            try:
                seen.add(len(store.get("big")[0]))
            except NotFound:
                seen.add(0)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        store.create("big", body)
    finally:
        done.set()
        thread.join()
    assert seen <= {0, len(body)}


def test_local_symlink_out_of_root_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "escape").symlink_to(outside)
    with pytest.raises(Exception, match="outside the store root"):
        LocalStore(tmp_path / "root").create("escape/x", b"x")
    assert not (outside / "x").exists()


# -- choosing a backend by URI ------------------------------------------------------------------------


def test_open_store_by_scheme(tmp_path: Path) -> None:
    assert isinstance(open_store(str(tmp_path)), LocalStore)
    local = open_store(f"file://{tmp_path}")
    assert isinstance(local, LocalStore) and local.uri == str(tmp_path)
    s3 = open_store("s3://bucket/some/prefix/")
    assert isinstance(s3, S3Store) and (s3.bucket, s3.prefix) == ("bucket", "some/prefix")
    assert isinstance(local, Store) and isinstance(s3, Store)


@pytest.mark.parametrize("uri", ["gs://bucket/x", "http://host/x"])
def test_unknown_scheme_lists_known_ones(uri: str) -> None:
    with pytest.raises(InvalidInput, match=r"known: file://, s3://"):
        open_store(uri)


@pytest.mark.parametrize("uri", ["s3://", "s3:///prefix", "s3://b/../x", "file://otherhost/x", ""])
def test_bad_store_uris_refused(uri: str) -> None:
    with pytest.raises(InvalidInput):
        open_store(uri)
