"""Distribution keys and allocation, on the shipped data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketenplan.errors import DataError, ScenarioError
from ketenplan.solidarity import (allocate, distribution_key, get_scheme, key_shares, largest_remainder,
                                  parameters, participants, round_each)

# Published figures for the Netherlands (the other states' figures are kept back as an external test).
NL_SEP_2015_PERSONS = 7214      # COM(2015) 451, 120,000 persons
NL_MAY_2015_PERSONS = 2047      # COM(2015) 286, 40,000 persons (1,228 from IT + 819 from EL)


def test_every_figure_has_a_source_and_unit():
    rows = parameters()
    assert len(rows) >= 20
    for p in rows:
        assert p.source.strip() and p.unit.strip(), p


def test_scheme_weights_as_published():
    assert get_scheme("relocation-2015").weights == {"population": 0.4, "gdp": 0.4, "past_applications": 0.1,
                                                     "unemployment": 0.1}
    for s in ("dublin-2016", "pact-2024"):
        assert get_scheme(s).weights == {"population": 0.5, "gdp": 0.5}
    pact = get_scheme("pact-2024")
    assert pact.figure("pool_financial_eur") / pact.figure("pool_relocations") == pact.figure("eur_per_relocation")


def test_relocation_2015_september_reproduces_nl():
    """Sept 2015 proposal (COM(2015) 451, 22 states, inputs of 2015): NL 6.012% and 7,214 of 120,000
    within rounding (we obtain 6.0122% and 7,215)."""
    k = distribution_key("relocation-2015")
    assert len(k) == 22 and "HUN" not in k.index and "GBR" not in k.index
    assert round(100 * float(k.loc["NLD", "share"]), 3) == 6.012
    for rounding in ("largest-remainder", "per-state"):
        nl = int(allocate(k, 120_000, rounding).loc["NLD", "persons"])
        assert abs(nl - NL_SEP_2015_PERSONS) <= 1, (rounding, nl)
    assert allocate(k, 120_000)["persons"].sum() == 120_000


def test_relocation_2015_inputs_as_the_commission_defined_them():
    """ERR's worked example of the Commission's calculation for Estonia (see parameters.csv)."""
    k = distribution_key("relocation-2015", variant="may-2015")
    ee = k.loc["EST"]
    assert ee.population == 1_315_819 and ee.unemployment_rate == 7.4
    assert 64 <= ee.past_applications_per_million < 65          # 425 applications / 5 / 1.3158 M
    assert k.attrs["cap"] is None and k.attrs["gdp_year"] == 2013
    sep = distribution_key("relocation-2015")
    assert sep.attrs["cap"] == 0.3 and sep.attrs["gdp_year"] == 2014


def test_relocation_2015_may_key_against_the_published_annex():
    """External check: the published May 2015 key of all 23 states (COM(2015) 286 Annex I/II, as
    printed by Der Spiegel, 27 May 2015; shipped in relocation_2015_published_may.csv). Nothing was
    chosen on it. The formula reproduces most states; NL is the largest outlier (+2.5%)."""
    import pandas as pd

    from ketenplan.data import data_path

    pub = pd.read_csv(data_path("solidarity", "relocation_2015_published_may.csv")).set_index("iso3")
    assert pub.share_pct.sum() == pytest.approx(100.0)
    assert (pub.from_italy + pub.from_greece).sum() == 40_000 - 2  # the Annex's own rounding
    k = distribution_key("relocation-2015", variant="may-2015")
    assert set(k.index) == set(pub.index)
    dev = 100 * k.share.reindex(pub.index) / pub.share_pct - 1
    assert dev.abs().median() < 0.01
    assert (dev.abs() < 0.015).sum() >= 20
    assert dev.abs().idxmax() == "NLD"


@pytest.mark.xfail(strict=True, reason="May 2015 key (COM(2015) 286): the documented uncapped formula with the "
                   "inputs of the time gives NL 5.247% / 2,099 against the published 5.12% / 2,047 (+2.5%); "
                   "see docs/solidarity.md for what is missing")
def test_relocation_2015_may_reproduces_nl():
    k = distribution_key("relocation-2015", variant="may-2015")
    nl = int(allocate(k, 40_000).loc["NLD", "persons"])
    assert abs(nl - NL_MAY_2015_PERSONS) <= 1


def test_per_state_rounding_need_not_sum_but_largest_remainder_does():
    k = distribution_key("relocation-2015")
    per_state = allocate(k, 120_000, "per-state")
    assert abs(int(per_state["persons"].sum()) - 120_000) <= len(k) / 2
    assert per_state.attrs["allocated"] == per_state["persons"].sum()
    assert allocate(k, 120_000)["persons"].sum() == 120_000


def test_pact_synthetic_example():
    inputs = pd.DataFrame({"population": [10, 30, 60], "gdp": [100, 100, 800]}, index=["A", "B", "C"])
    k = distribution_key("pact-2024", inputs=inputs)
    assert np.allclose(k["share"], [0.10, 0.20, 0.70])
    assert list(allocate(k, 30_000)["persons"]) == [3000, 6000, 21000]
    assert list(allocate(k, 21_000)["persons"]) == [2100, 4200, 14700]
    assert np.allclose(k["share"] * 600e6, [60e6, 120e6, 420e6])


def test_pact_key_real_data_sums_to_one():
    k = distribution_key("pact-2024", 2023)
    assert "DNK" not in k.index and len(k) == 26
    assert k["share"].sum() == pytest.approx(1.0)
    assert k.loc["DEU", "share"] > k.loc["NLD", "share"] > k.loc["MLT", "share"]


# ---------------------------------------------------------------- properties

positive = st.floats(min_value=1e3, max_value=1e8, allow_nan=False)
rate = st.floats(min_value=1.0, max_value=30.0, allow_nan=False)
per_million = st.floats(min_value=10.0, max_value=1e4, allow_nan=False)


@st.composite
def key_inputs(draw, n_min=2, n_max=12):
    n = draw(st.integers(n_min, n_max))
    return pd.DataFrame({
        "population": draw(st.lists(positive, min_size=n, max_size=n)),
        "gdp": draw(st.lists(positive, min_size=n, max_size=n)),
        "unemployment_rate": draw(st.lists(rate, min_size=n, max_size=n)),
        "past_applications_per_million": draw(st.lists(per_million, min_size=n, max_size=n)),
    }, index=[f"S{i}" for i in range(n)])


W2015 = get_scheme("relocation-2015").weights
W50 = get_scheme("pact-2024").weights


@settings(max_examples=60, deadline=None)
@given(key_inputs(), st.sampled_from([None, 0.3, 0.1]))
def test_shares_sum_to_one_and_are_positive(inputs, cap):
    for w in (W2015, W50):
        s = key_shares(inputs, w, cap=cap)
        assert s.sum() == pytest.approx(1.0, abs=1e-12)
        assert (s > 0).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=1.0, allow_nan=False), min_size=1, max_size=30)
       .filter(lambda v: sum(v) > 1e-6), st.integers(0, 10**6))
def test_allocations_sum_exactly_to_total(raw, total):
    s = np.array(raw) / sum(raw)
    a = largest_remainder(s, total)
    assert a.sum() == total and (a >= 0).all()
    assert np.all(np.abs(a - s * total) < 1.0 + 1e-9)   # quota property
    assert np.all(np.abs(round_each(s, total) - s * total) <= 0.5 + 1e-9)


@settings(max_examples=60, deadline=None)
@given(key_inputs(), st.integers(0, 11), st.floats(min_value=1.01, max_value=3.0), st.sampled_from(["population", "gdp"]))
def test_key_monotone_in_population_and_gdp(inputs, i, factor, column):
    i = i % len(inputs)
    more = inputs.copy()
    more.iloc[i, more.columns.get_loc(column)] *= factor
    for w, cap in ((W50, None), (W2015, 0.3)):
        before = key_shares(inputs, w, cap=cap).iloc[i]
        after = key_shares(more, w, cap=cap).iloc[i]
        assert after >= before - 1e-12, (w, before, after)


# ---------------------------------------------------------------- bad input

def test_weights_not_summing_to_one_are_rejected():
    with pytest.raises(ScenarioError, match="sum to 1"):
        distribution_key("pact-2024", 2020, weights={"population": 0.5, "gdp": 0.6})
    with pytest.raises(ScenarioError, match="sum to 1"):
        get_scheme("dublin-2016").replace(weights={"population": 0.3, "gdp": 0.3})


def test_year_outside_data_is_a_clear_error():
    with pytest.raises(DataError, match="outside the data"):
        distribution_key("dublin-2016", 1999)
    with pytest.raises(DataError, match="window"):
        distribution_key("relocation-2015", 2012, states=participants("pact-2024"))


def test_missing_member_state_data_is_a_clear_error():
    with pytest.raises(DataError, match="LIE"):
        distribution_key("dublin-2016", 2023, states=participants("dublin-2016") + ["LIE"])
    with pytest.raises(ScenarioError, match="unknown state"):
        distribution_key("pact-2024", 2020, states=["NLD", "XXX"])
    with pytest.raises(DataError, match="GBR"):
        distribution_key("pact-2024", 2020, states=["NLD", "GBR"])
    with pytest.raises(DataError, match="NOR"):
        distribution_key("relocation-2015", states=["NLD", "NOR"])


def test_unknown_scheme_and_rounding():
    with pytest.raises(ScenarioError, match="unknown scheme"):
        get_scheme("dublin-2013")
    k = distribution_key("pact-2024", 2020)
    with pytest.raises(ScenarioError, match="rounding"):
        allocate(k, 100, "banker")  # type: ignore[arg-type]
    with pytest.raises(ScenarioError, match="whole number"):
        allocate(k, -5)
