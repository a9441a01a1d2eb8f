"""The replayed starting state kept on disk: a later run reads it instead of replaying, and gets the
same state; a damaged entry is replayed; with the cache off nothing is written."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ketenplan import load_scenario
from ketenplan.engine import snapshot as S


def _same(a: S.Snapshot, b: S.Snapshot) -> None:
    assert (a.day0, a.day, a.housing) == (b.day0, b.day, b.housing)
    np.testing.assert_array_equal(a.key, b.key)
    for part in ("inputs", "case", "state", "totals", "days"):
        x, y = getattr(a, part), getattr(b, part)
        assert list(x) == list(y), part
        for k in x:
            assert x[k].dtype == y[k].dtype, (part, k)
            np.testing.assert_array_equal(x[k], y[k], err_msg=f"{part}.{k}")
    for x, y in zip(a.events + a.patience + (a.emergency,), b.events + b.patience + (b.emergency,)):
        np.testing.assert_array_equal(x, y)
    assert len(a.queues) == len(b.queues) and all(np.array_equal(x, y) for x, y in zip(a.queues, b.queues))
    pd.testing.assert_frame_equal(a.checks, b.checks)


def test_the_replayed_state_is_kept_and_read_back_the_same(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("KETENPLAN_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("KETENPLAN_CACHE", raising=False)
    sc = load_scenario("nl_baseline")
    caplog.set_level(logging.INFO, logger=S.__name__)
    S.clear_cache()
    fresh = S.history_snapshot(sc)
    assert "replaying" in caplog.text
    kept = list((tmp_path / "history-states").glob("*.pickle"))
    assert len(kept) == 1
    caplog.clear()
    S.clear_cache()
    read = S.history_snapshot(sc)
    assert "replaying" not in caplog.text and "kept replay" in caplog.text
    _same(fresh, read)
    # another history (a changed parameter) is another entry
    caplog.clear()
    S.clear_cache()
    hist = tmp_path / "hist.toml"
    hist.write_text('base = "nl_history"\n[procedure.rvt]\nmean = 9.0\n')
    S.history_snapshot(sc.replace(**{"simulation.history": str(hist)}))
    assert "replaying" in caplog.text and len(list((tmp_path / "history-states").glob("*.pickle"))) == 2
    # a damaged entry is replayed, with the same state
    kept[0].write_bytes(b"not a pickle")
    caplog.clear()
    S.clear_cache()
    again = S.history_snapshot(sc)
    assert "replaying" in caplog.text
    _same(fresh, again)
    S.clear_cache()


def test_with_the_cache_off_nothing_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("KETENPLAN_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("KETENPLAN_CACHE", "off")
    S.clear_cache()
    S.history_snapshot(load_scenario("nl_baseline"))
    assert not (tmp_path / "history-states").exists()
    S.clear_cache()
