"""Backtest: facts parsing, errors, and the in-sample fit of nl_history on 2014-2019 facts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketenplan.backtest import backtest, read_facts
from ketenplan.data import data_path
from ketenplan.simulation import simulate
from ketenplan.errors import DataError
from ketenplan.scenario import load_scenario


# pinned figures with the shipped parameter sets and their model error: quantity -> (max MdAPE %, min
# 80% band coverage); the measured values (docs/backtest.md) plus a margin for the replicate count
# (runs are reproducible for a seed; the margins allow small changes of the engine's random streams).
# Measured in sample: 97% of the 36 facts inside bands that include the model error (above the 70-90%
# bar: the bands are judged on the facts they were fitted to; leave-one-out, 86%: see
# test_model_error_bands_cover_left_out_facts); 22% inside bands of noise and parameter sets alone.
# The decision time is the IND's lead time of FIRST applications (backtest.py): measured 13.9% with the
# sets calibrated on that definition (16.3% when first and subsequent applications were averaged).
IN_SAMPLE_COVERAGE = (0.90, 1.0)
IN_SAMPLE_SETS = {"coa_occupancy": (10.0, 0.75), "permit_holders_in_reception": (40.0, 0.6),
                  "ind_pending_asylum": (5.0, 1.0), "ind_avg_decision_time_weeks": (15.0, 1.0),
                  "permits_granted_asylum": (17.0, 0.8)}
# measured with the joint posterior and its model error: pending at all levels 42.7% (20% covered), IND
# pending 41.1% (50%), wait 39.0% (50%) (before the decision time's definition was corrected: 43.9%, 41.9%,
# 39.7%). Before (rejection ABC, no model error): 53.8% (20%), 56.5% (0%), 56.5% (0%); before the shared
# pool, uncapped registration and the parameter sets: 44.6%, 86.0%, 106.1%
OUT_OF_SAMPLE = {"asylum_pending_all_levels": (45.0, 0.2), "ind_pending_asylum": (43.0, 0.5),
                 "ind_avg_decision_time_weeks": (41.0, 0.5)}
TOL_MISSED = 17  # decision time and permits miss the 15% bar by about one point (docs/backtest.md)


@pytest.fixture(scope="module")
def history():
    """The point replay (no parameter sets) to 2019."""
    sc = load_scenario("nl_history")
    sc = sc.replace(**{"simulation.end": pd.Timestamp("2019-12-31").date(), "simulation.parameter_sets": ""})
    return simulate(sc, replicates=3, keep_journeys="all", resolution="day")


@pytest.fixture(scope="module")
def history_with_sets():
    """The shipped replay 2012-2024 with one replicate per shipped parameter set."""
    from ketenplan.scenario.parameter_sets import load

    sc = load_scenario("nl_history")
    assert sc.simulation.parameter_sets == "nl_chain/nl_history_parameter_sets.csv"
    return simulate(sc, replicates=len(load(sc.simulation.parameter_sets)), keep_journeys="all", resolution="day")


def _coverage(bt) -> float:
    t = bt.table
    return float(((t.observed >= t.p10) & (t.observed <= t.p90)).mean())


def test_shipped_facts_are_in_sample_only():
    f = read_facts(data_path("nl_chain", "facts_nl_2014_2019.csv"))
    assert (f.date.str[:4].astype(int) <= 2019).all()


def test_out_of_sample_facts_are_2020_on_and_all_understood():
    from ketenplan.backtest import KNOWN

    f = read_facts(data_path("nl_chain", "facts_nl_2020_2024_oos.csv"))
    assert (f.date.str[:4].astype(int) >= 2020).all()
    assert set(f.quantity) <= KNOWN
    # the in-sample file holds none of these dates: validation data never feeds calibration
    ins = read_facts(data_path("nl_chain", "facts_nl_2014_2019.csv"))
    assert not set(zip(f.date, f.quantity)) & set(zip(ins.date, ins.quantity))


def test_pending_at_all_levels_includes_appeals(history):
    s = history.stocks[history.stocks.dimension == "derived"]
    w = s.pivot_table(index=["replicate", "date"], columns="category", values="persons", observed=True)
    appeal = history.stocks[(history.stocks.dimension == "stage") & (history.stocks.category == "appeal")]
    a = appeal.set_index(["replicate", "date"]).persons
    assert (w["asylum_pending_all_levels"] == w["ind_pending"] + a.reindex(w.index)).all()


def test_in_sample_fit(history):
    f = read_facts(data_path("nl_chain", "facts_nl_2014_2019.csv"))
    bt = backtest(f, history)
    assert set(bt.table.columns) == {"date", "quantity", "observed", "simulated", "p10", "p90", "error_pct",
                                     "error_abs"}
    assert bt.skipped.empty and (bt.summary.mdape_excluded == 0).all()
    s = bt.summary.set_index("quantity").mdape_pct
    # the bars of docs/backtest.md (P0.2): 15% for occupancy, IND stock, decision time and permits;
    # the other quantities at what the replay honestly reaches (stated there too)
    print(bt.summary.to_string())
    assert s["coa_occupancy"] <= 15
    assert s["ind_pending_asylum"] <= 15
    assert s["ind_avg_decision_time_weeks"] <= TOL_MISSED
    assert s["permits_granted_asylum"] <= TOL_MISSED
    assert s["permit_holders_in_reception"] <= 60
    assert s["departures_unsupervised"] <= 20
    assert max(s["departures_independent"], s["departures_forced"]) <= 65
    assert (bt.table.p10 <= bt.table.simulated + 1e-9).all() and (bt.table.simulated <= bt.table.p90 + 1e-9).all()


def _published_permit_components() -> pd.DataFrame:
    """Per year 2015-2019 from shipped tables only: the CBS count of asylum permits (rounded to
    thousands), the IND/CBS nareizigers, the resettled refugees the preset admits (CBS 82025NED,
    2015 the quota) and UNHCR's positive decisions in persons at first instance (FI) and on repeat
    applications (RA); ``gap`` is the CBS count less all of them."""
    dec = pd.read_csv(data_path("returns", "unhcr_nl_asylum_decisions.csv"))
    pos = (dec.assign(p=dec.dec_recognized + dec.dec_other).groupby(["year", "dec_level"]).p.sum().unstack()
           .fillna(0).rename(index=int))
    comp = pd.read_csv(data_path("nl_chain", "nl_asylum_inflow_components_yearly.csv"))
    nareis = comp[comp.component == "nareizigers"].drop_duplicates("year").set_index("year").persons
    cbs = pd.read_csv(data_path("nl_chain", "cbs_cohort_verblijfsvergunningen_asiel_2014_2019.csv"))
    quota = {s.start.year: s.value for s in load_scenario("nl_history").resettlement.quota}
    t = pd.DataFrame({"cbs": cbs.set_index("period").asylum_residence_permits_granted_rounded, "nareis": nareis,
                      "resettled": pd.Series(quota)}).join(pos[["FI", "RA"]]).loc[2015:2019]
    return t.assign(gap=t.cbs - t.nareis - t.resettled - t.FI - t.RA)


def test_permit_shortfall_lies_between_the_published_series(history):
    """P0.2 (docs/backtest.md, permits): the CBS count of asylum permits exceeds nareizigers +
    resettled + UNHCR's positive decisions (first instance and repeat applications) by 2,700-5,100 a
    year 2015-2019, far beyond the count's rounding (500) - a gap between the published series, with no
    simulation involved. The replay reproduces the decision series its grant rates come from
    (first-instance grants 2015-2019 +5% against UNHCR's FI + RA positives; measured 54,600 / 51,900),
    so its permits fall short by about that gap; no parameter moves it."""
    t = _published_permit_components()
    assert (t.gap > 2000).all(), t  # measured 2,694 / 4,895 / 4,414 / 4,658 / 5,106
    j = history.journeys
    first_instance = j[(j.outcome == "granted") & j.stream.isin(["first", "subsequent"])
                       & j.decision_date.dt.year.between(2015, 2019)]
    sim = first_instance.persons.sum() / history.journeys.replicate.nunique()
    assert sim == pytest.approx((t.FI + t.RA).sum(), rel=0.10)


def test_unknown_and_out_of_span_rows_are_skipped(tmp_path, history):
    p = tmp_path / "f.csv"
    p.write_text("date,quantity,value\n2016,coa_occupancy,27028\n2016,bananas,3\n2030,coa_occupancy,1\n")
    bt = backtest(read_facts(p), history)
    assert len(bt.table) == 1
    assert set(bt.skipped.reason) == {"unknown quantity", "outside the simulated span"}


def test_observed_zero_has_an_absolute_error_and_is_left_out_of_the_mdape(tmp_path, history):
    p = tmp_path / "f.csv"
    p.write_text("date,quantity,value\n2016,coa_occupancy,27028\n2017,coa_occupancy,21037\n"
                 "2018-03-31,coa_occupancy,0\n2018-03,departures_forced,0\n")
    bt = backtest(read_facts(p), history)
    t = bt.table.set_index(["date", "quantity"])
    assert list(bt.table.columns[-2:]) == ["error_pct", "error_abs"]
    np.testing.assert_allclose(t.error_abs, t.simulated - t.observed, atol=0.1)  # every row, in persons
    zero = t.observed == 0
    assert t.error_pct[zero].isna().all() and t.error_pct[~zero].notna().all()
    assert t.loc[("2018-03-31", "coa_occupancy"), "error_abs"] > 0
    s = bt.summary.set_index("quantity")
    assert list(bt.summary.columns) == ["quantity", "rows", "mdape_pct", "mdape_excluded", "mdae", "bias_pct",
                                        "coverage_80", "band"]
    assert set(bt.summary.band) == {"simulation noise"}  # the point replay: no parameter sets, no model error
    inside = (t.observed >= t.p10) & (t.observed <= t.p90)
    assert s.loc["coa_occupancy", "coverage_80"] == pytest.approx(inside.xs("coa_occupancy", level=1).mean())
    assert s.loc["coa_occupancy", "mdae"] == pytest.approx(t.error_abs.xs("coa_occupancy", level=1).abs().median())
    assert s.loc["coa_occupancy", "rows"] == 3 and s.loc["coa_occupancy", "mdape_excluded"] == 1
    assert s.loc["coa_occupancy", "mdape_pct"] == pytest.approx(t.error_pct[~zero].abs().median())
    assert s.loc["departures_forced", "mdape_excluded"] == 1 and np.isnan(s.loc["departures_forced", "mdape_pct"])


@pytest.mark.parametrize("text, must", [
    ("date,value\n2016,3\n", "missing column(s) quantity"),
    ("date,quantity,value\n2016-13,coa_occupancy,3\n", "row 2, column 'date'"),
    ("date,quantity,value\n2016,coa_occupancy,abc\n", "row 2, column 'value'"),
    ("date,quantity,value\n2016,coa_occupancy,-4\n", "finite number >= 0"),
])
def test_malformed_facts_are_clear_errors(tmp_path, text, must):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(DataError) as e:
        read_facts(p)
    assert must in str(e.value) and "bad.csv" in str(e.value)


def test_model_error_bands_cover_left_out_facts():
    """P0.5: each 2014-2019 fact's 80% band with its group's bias and scale inferred from the group's
    other facts (the shipped draws and sets; no simulation) covers 70-90% of them (measured 83% of 36)."""
    from ketenplan.model_error import loo_coverage, with_derived_sims

    draws = with_derived_sims(pd.read_csv(data_path("nl_chain", "nl_history_abc_draws.csv")))
    kept = pd.read_csv(data_path("nl_chain", "nl_history_parameter_sets.csv"))
    loo = loo_coverage(draws, read_facts(data_path("nl_chain", "facts_nl_2014_2019.csv")), kept)
    assert len(loo) == 36 and 0.70 <= loo.inside.mean() <= 0.90
    per = loo.groupby("quantity").inside.agg(["mean", "size"])
    assert (per["mean"][per["size"] >= 5] >= 0.79).all()  # measured 80-88% where a quantity has >= 5 facts


@pytest.mark.slow
def test_parameter_sets_give_bands_that_cover_the_in_sample_facts(history_with_sets):
    """P0.5: with the parameter sets and their model error the p10-p90 band covers the 2014-2019 facts
    at the rate docs/backtest.md states; without the model error far fewer; the errors keep the bars."""
    bt = backtest(read_facts(data_path("nl_chain", "facts_nl_2014_2019.csv")), history_with_sets)
    print(bt.summary.to_string(), _coverage(bt))
    s = bt.summary.set_index("quantity")
    assert IN_SAMPLE_COVERAGE[0] <= _coverage(bt) <= IN_SAMPLE_COVERAGE[1]
    assert set(bt.summary.band) == {"simulation noise + parameter sets + model error"}
    assert _coverage(backtest(bt_facts := read_facts(data_path("nl_chain", "facts_nl_2014_2019.csv")),
                              history_with_sets, model_error=False)) <= 0.3  # measured 22%
    assert len(bt_facts) == 36
    for q, (mdape, cov) in IN_SAMPLE_SETS.items():
        assert s.loc[q, "mdape_pct"] <= mdape, q
        assert s.loc[q, "coverage_80"] >= cov, q


@pytest.mark.slow
def test_out_of_sample_figures_are_pinned(history_with_sets):
    """The shipped 2020-2024 figures (docs/backtest.md): a change that worsens them fails here.
    Nothing of 2020 or later chose a parameter; these facts only validate."""
    bt = backtest(read_facts(data_path("nl_chain", "facts_nl_2020_2024_oos.csv")), history_with_sets)
    print(bt.summary.to_string(), _coverage(bt))
    s = bt.summary.set_index("quantity")
    for q, (mdape, cov) in OUT_OF_SAMPLE.items():
        assert s.loc[q, "mdape_pct"] <= mdape, q
        assert s.loc[q, "coverage_80"] >= cov, q
