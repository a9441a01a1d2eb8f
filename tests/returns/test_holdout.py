"""Return outcomes by group on years the fit did not see (P4.1): 2019 and 2020-2021.

Tolerances: the 2019 holdout missed the DT&V verified departures by 23% (the fit's own check
table), so a count on a later year is allowed 25%; shares of departures by type were within 2.3
points in and out of sample (2017-2019), so 3 points; the ranking check is exact."""

from __future__ import annotations

import pytest

from ketenplan.returns import data as rd
from ketenplan.returns import holdout as h


@pytest.fixture(scope="module")
def table():
    return h.check_table().set_index(["quantity", "year"])


def test_prediction_reproduces_the_fits_own_2019_check():
    """The same fitted tables and entries as tools/derive_groups_returns.py: the 2019 total and
    the shares equal the shipped check rows (computed by the tool, independently of this module)."""
    check = rd.return_fit_check()
    rows = check[(check.check == "dtv_holdout") & (check.year.astype(str).str.startswith("2019"))]
    row = rows.set_index("quantity").predicted
    d = h.predict(range(2019, 2020))
    tot = {k: float(v[2019].sum()) for k, v in d.items()}
    total = sum(tot.values())
    assert total == pytest.approx(row["departures_total"], rel=1e-3)
    assert tot["unsupervised"] / total == pytest.approx(row["share_unsupervised"], abs=1e-3)


def test_heldout_2020_verified_departures(table):
    r = table.loc[("verified_departures", "2020")]
    assert r.observed == 4300
    assert abs(r.error) < 0.25, r


def test_heldout_2020_2021_share_without_supervision(table):
    r = table.loc[("share_unsupervised", "2020-2021")]
    assert abs(r.error) < 0.03, r


def test_heldout_2021_largest_group_is_maghreb(table):
    assert table.loc[("largest_group_rank", "2021")].predicted == 1


def test_2019_consistency_row_states_the_known_miss(table):
    # the 2019 DT&V verified departures (7,220 in the fit's table, 'bijna 7200' in the press) are
    # under-predicted by about a quarter: the stated error, not a tuned value
    r = table.loc[("verified_departures", "2019")]
    assert -0.30 < r.error < -0.15
