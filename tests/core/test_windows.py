from __future__ import annotations

import numpy as np
import pytest

from anomaly_core.data.events import generate_events
from anomaly_core.data.generator import generate_windows
from anomaly_core.data.io import load_dataset, save_dataset, windows_from_table
from anomaly_core.data.windows import iter_batches, sliding_windows, time_ordered_split, window_labels
from anomaly_core.errors import InvalidInput


def test_sliding_windows_is_a_view_with_the_right_content():
    values = np.arange(20 * 3, dtype=np.float32).reshape(20, 3)
    w = sliding_windows(values, 5, stride=2)
    assert w.shape == (8, 5, 3)
    assert np.shares_memory(w, values)  # lazy: no copy of the table
    np.testing.assert_array_equal(w[1], values[2:7])
    np.testing.assert_array_equal(w[-1], values[14:19])


def test_large_table_windows_stay_lazy():
    values = np.zeros((200_000, 16), dtype=np.float32)
    w = sliding_windows(values, 60)
    assert w.shape == (199_941, 60, 16)
    assert w.base is not None and np.shares_memory(w, values)


def test_window_label_is_last_event_label():
    labels = np.array([0, 0, 0, 1, 0, 0])
    np.testing.assert_array_equal(window_labels(labels, 3), [0, 1, 0, 0])


def test_time_ordered_split_is_contiguous_and_in_order():
    tr, va, te = time_ordered_split(1000)
    assert (tr.start, tr.stop, va.stop, te.stop) == (0, 700, 850, 1000)
    with pytest.raises(InvalidInput, match="too few"):
        time_ordered_split(2)


def test_iter_batches_covers_everything_once():
    covered = np.concatenate([np.arange(10)[s] for s in iter_batches(10, 3)])
    np.testing.assert_array_equal(covered, np.arange(10))


def test_event_table_windows_keep_feature_names():
    frame = generate_events(500, 4, seed=0)
    ds = windows_from_table(frame, 30)
    assert ds.feature_names == ["f0", "f1", "f2", "f3"] and ds.X.shape == (471, 30, 4)
    assert ds.y.tolist() == frame["label"].to_numpy()[29:].tolist()


def test_npz_round_trip_and_bad_files(tmp_path):
    ds = generate_windows(20, seed=0)
    save_dataset(ds, tmp_path / "d.npz")
    back = load_dataset(tmp_path / "d.npz")
    np.testing.assert_array_equal(back.X, ds.X)
    np.testing.assert_array_equal(back.y, ds.y)
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(InvalidInput, match="empty"):
        load_dataset(tmp_path / "empty.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(InvalidInput, match="not a readable"):
        load_dataset(tmp_path / "junk.npz")
    np.savez(tmp_path / "noX.npz", Y=np.zeros(3))
    with pytest.raises(InvalidInput, match="no 'X'"):
        load_dataset(tmp_path / "noX.npz")
    np.savez(tmp_path / "obj.npz", X=np.array([{"a": 1}], dtype=object))
    with pytest.raises(InvalidInput, match="pickle"):
        load_dataset(tmp_path / "obj.npz")
    with pytest.raises(InvalidInput, match="no such file"):
        load_dataset(tmp_path / "missing.npz")
