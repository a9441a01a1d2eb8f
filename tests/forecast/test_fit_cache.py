"""The disk cache of the combination model's fit: a hit gives exactly a fresh fit's numbers, and
anything unreadable or switched off falls back to fitting (P0.1)."""

from __future__ import annotations

import numpy as np
import pytest

from ketenplan.forecast import api, models, totals
from ketenplan.forecast.fitcache import cache_dir, cached_fit, fit_key


def _paths(**kw):
    api._country_quantiles.cache_clear()  # the calibrations are kept in memory too
    totals._total_quantiles_at.cache_clear()
    return api.forecast("NL", horizon=14, n_paths=20, seed=5, origin="2018-06", **kw).paths.applicants.to_numpy()


def test_a_cached_fit_gives_the_fresh_fit_and_is_not_refitted(tmp_path, monkeypatch):
    monkeypatch.setenv("KETENPLAN_CACHE", "off")
    fresh = _paths()
    monkeypatch.setenv("KETENPLAN_CACHE", "on")
    monkeypatch.setenv("KETENPLAN_CACHE_DIR", str(tmp_path))
    first = _paths()
    files = list((tmp_path / "forecast-fits").glob("*.npy"))
    assert len(files) == 3  # the point forecast, the calibration of the months and of the totals
    calls = []
    real = models.forecast_origin
    monkeypatch.setattr(models, "forecast_origin", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = _paths()
    assert calls == []  # read from disk
    np.testing.assert_array_equal(first, fresh)
    np.testing.assert_array_equal(again, fresh)
    # damaged entries are refitted (and rewritten), never used
    for f in files:
        f.write_bytes(b"not an array")
    np.testing.assert_array_equal(_paths(), fresh)
    assert calls == [1] and all(np.load(f).ndim >= 1 for f in files)


def test_the_key_changes_with_every_input_and_the_cache_can_be_switched_off(tmp_path, monkeypatch):
    x = np.arange(10.0)
    k = fit_key(x, T=3, h=12)
    assert k == fit_key(x.copy(), T=3, h=12)
    y = x.copy()
    y[-1] = np.nextafter(y[-1], 100.0)
    assert len({k, fit_key(y, T=3, h=12), fit_key(x, T=4, h=12), fit_key(x, T=3, h=13),
                fit_key(x.astype(np.float32), T=3, h=12)}) == 5
    monkeypatch.setenv("KETENPLAN_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("KETENPLAN_CACHE", "off")
    assert cache_dir() is None
    out = cached_fit(k, 3, lambda: np.ones(3))
    assert out.tolist() == [1.0, 1.0, 1.0] and not (tmp_path / "forecast-fits").exists()
    monkeypatch.delenv("KETENPLAN_CACHE")
    # a fit of another length or with non-finite values is returned but never stored
    assert np.isnan(cached_fit(k, 3, lambda: np.array([1.0, np.nan, 2.0])))[1]
    assert not (tmp_path / "forecast-fits" / f"{k}.npy").exists()
    with pytest.raises(ZeroDivisionError):  # a failing fit is not hidden
        cached_fit(k, 3, lambda: 1 / 0)
