import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketenplan.data import data_path
from ketenplan.errors import DataError
from ketenplan.forecast import data as fdata


def test_monthly_series_nl_matches_published_yearly_sums():
    s = fdata.monthly_series("NL")
    assert str(s.index[0]) == "2008-01" and str(s.index[-1]) == "2019-04"
    yearly = s.groupby(s.index.year).sum()
    # sums given in the data catalogue of the source collection
    assert yearly[2008] == 15255 and yearly[2015] == 44975 and yearly[2016] == 20945


def test_all_countries_complete_and_nonnegative():
    codes = fdata.countries()
    assert len(codes) == 32 and "NL" in codes and "EL" in codes
    Y, months, _ = fdata.panel()
    assert np.nanmin(Y) >= 0
    for row in Y:
        ok = np.flatnonzero(~np.isnan(row))
        assert ok[-1] - ok[0] + 1 == ok.size  # no internal gaps


def test_country_aliases_and_unknown():
    assert fdata.normalise_country("gr") == "EL"
    assert fdata.normalise_country("GB") == "UK"
    with pytest.raises(DataError, match="unknown country 'XX'"):
        fdata.normalise_country("XX")


def test_check_series_errors_name_the_problem():
    good = np.arange(40.0)
    assert fdata.check_series(good, "s").size == 40
    with pytest.raises(DataError, match="missing value at 5"):
        fdata.check_series(np.r_[good[:5], np.nan, good[6:]], "s")
    with pytest.raises(DataError, match="expected counts >= 0"):
        fdata.check_series(np.r_[good[:5], -1.0, good[6:]], "s")
    with pytest.raises(DataError, match="expected at least 36"):
        fdata.check_series(good[:20], "s")
    # leading missing months are allowed (a series may start late)
    assert fdata.check_series(np.r_[np.nan, np.nan, good], "s").size == 40


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.floats(min_value=-1e6, max_value=1e6), st.just(float("nan"))), min_size=0, max_size=60))
def test_check_series_never_passes_bad_values(values):
    arr = np.asarray(values, dtype=float)
    try:
        out = fdata.check_series(arr, "h")
    except DataError:
        return
    assert out.size >= 36 and np.all(np.isfinite(out)) and np.all(out >= 0)


def test_bridge_reproduces_yearly_totals():
    b = fdata.bridged_series("NL")
    assert str(b["month"].iloc[-1]) == "2024-12"
    ann = fdata.annual_totals().query("geo_iso3 == 'NLD'").set_index("year")["persons"]
    b["year"] = [p.year for p in b["month"]]
    sums = b.groupby("year")["applicants"].sum()
    for y in range(2019, 2025):
        assert sums[y] == pytest.approx(ann[y], rel=1e-9)
    assert (b["applicants"] >= 0).all()


def test_shipped_files_documented():
    text = data_path("forecast", "SOURCES.md").read_text(encoding="utf-8")
    folder = data_path("forecast", "SOURCES.md").parent
    for f in folder.glob("*.csv"):
        assert f.name in text, f"{f.name} is not described in SOURCES.md"
    off = fdata.official_forecasts()
    assert set(off["year"]) >= {2016, 2022, 2023}
    assert off["source_url"].str.startswith("http").all()
