"""Pillar-4 parameters, the country-cooperation lever and the readers' error messages."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from scipy.optimize import brentq

from ketenplan.errors import DataError
from ketenplan.returns import cooperation as co
from ketenplan.returns import data as rd
from ketenplan.scenario import pillar4 as pm


def _fields(model: type[BaseModel]):
    for name, f in model.model_fields.items():
        ann = f.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            yield from _fields(ann)
        else:
            yield model.__name__, name, f


class _Pillar4(BaseModel):
    """The scenario's pillar-4 sections, walked together."""

    cooperation: pm.CountryCooperation
    detention: pm.Detention
    lvv: pm.Lvv
    minors: pm.Minors
    without_residence: pm.WithoutResidence
    safe_third_country: pm.SafeThirdCountry


def test_every_numeric_default_declares_unit_and_source():
    missing = []
    for owner, name, f in _fields(_Pillar4):
        if f.annotation in (float, int, bool) or name in ("age_split", "durable_split", "semi_split", "small_unit_places", "share_by_period"):
            extra = f.json_schema_extra or {}
            if not extra.get("unit") or not extra.get("source"):
                missing.append(f"{owner}.{name}")
    assert not missing, missing


def test_assumptions_are_named():
    names = {f.json_schema_extra["source"] for _, _, f in _fields(_Pillar4)
             if f.json_schema_extra and f.json_schema_extra.get("source", "").startswith("assumption:")}
    assert "assumption: cooperation lag" in names and "assumption: safe-third-country use" not in names  # per group
    assert {"assumption: LVV durable split", "assumption: adequate reception found"} <= names


def test_models_are_frozen_and_reject_unknown_keys():
    d = pm.Detention()
    with pytest.raises(ValidationError):
        d.places = 1  # type: ignore[misc]
    with pytest.raises(ValidationError):
        pm.Detention(beds=900)  # unknown key
    from ketenplan.scenario.schema import Scenario

    with pytest.raises(ValidationError, match="unknown group 'morocco'"):  # checked against the scenario's groups
        Scenario(cooperation={"changes": [{"group": "morocco", "change": 0.5}]})
    with pytest.raises(ValidationError, match="more than once"):
        pm.CountryCooperation(changes=(pm.GroupCooperation(group="maghreb", change=0.5),
                                       pm.GroupCooperation(group="maghreb", change=0.2)))
    with pytest.raises(ValidationError, match="sum to 1"):
        pm.GroupReturn(group="syria", p_independent=0.5, p_forced=0.5, p_unsupervised=0.5, p_still_present=0,
                       mean_months_to_departure=3)


def test_sourced_values_recomputed():
    m = pm.Minors()
    assert m.share_of_first_applications == pytest.approx(8775 / 135345, abs=1e-3)   # A2
    assert m.grant_rate == pytest.approx(69 / (69 + 26), abs=1e-3)                    # A5
    assert sum(m.age_split) == pytest.approx(1.0, abs=0.011)
    lvv = pm.Lvv()
    assert lvv.cost_per_place_day == pytest.approx(64e6 / (1500 * 3 * 365), abs=0.5)    # LV1, LV2
    # mean guidance stay from L1/L2: 2,065 entered, 1,258 left in 39 months, exponential stays
    lam = 2065 / 39
    w = brentq(lambda x: lam * x * (1 - math.exp(-39 / x)) - (2065 - 1258), 1, 200)
    assert lvv.guidance_mean_months == pytest.approx(w, abs=0.5)
    o = lvv.outcomes
    assert (o.durable, o.semi_durable, o.none) == (0.18, 0.41, 0.41)                   # L2
    det = pm.Detention()
    # Little's law against the occupancy of 29-02-2020 (V5): within 25%
    assert det.expected_occupancy() == pytest.approx(det.occupancy_check, rel=0.25)
    assert det.expected_occupancy() <= det.places


def test_detention_and_lvv_validation():
    with pytest.raises(ValidationError, match="must sum to 1"):
        pm.LvvOutcomes(durable=0.5, semi_durable=0.5, none=0.5)
    with pytest.raises(ValidationError, match="at most 1"):
        pm.SafeThirdCountry(p_transfer=0.8, p_substantive_after_all=0.5)
    s = pm.SafeThirdCountry()
    assert s.p_return_track == pytest.approx(0.55)


@pytest.fixture(scope="module")
def groups():
    return rd.group_returns()


def test_cooperation_ramp_and_reference(groups):
    lever = pm.CountryCooperation(changes=(pm.GroupCooperation(group="maghreb", change=1.0),), start_year=2025,
                                  lag_months=12, ramp_months=12)
    assert co.outcomes_at(groups, lever, 2025, 12)["maghreb"] == groups["maghreb"]   # before the lag
    half = co.outcomes_at(groups, lever, 2026, 7)["maghreb"]                          # 18 months: half way
    full = co.outcomes_at(groups, lever, 2027, 1)["maghreb"]                          # 24 months: full
    ref = groups["west_balkans"]
    assert full.p_verified == pytest.approx(ref.p_verified)
    assert full.p_forced / full.p_verified == pytest.approx(ref.p_forced / ref.p_verified)
    mid = groups["maghreb"].p_verified + 0.5 * (ref.p_verified - groups["maghreb"].p_verified)
    assert half.p_verified == pytest.approx(mid)
    assert co.outcomes_at(groups, lever, 2027, 1)["syria"] == groups["syria"]         # untouched group


@settings(max_examples=60, deadline=None)
@given(group=st.sampled_from(["syria", "eritrea", "afghanistan", "iraq_iran", "turkey", "maghreb",
                              "east_europe_caucasus", "west_africa", "other_high", "other_low"]),
       e1=st.floats(-1, 1), e2=st.floats(-1, 1))
def test_cooperation_conserves_and_is_monotone(group, e1, e2):
    groups = rd.group_returns()
    ref = groups["west_balkans"]
    a = co.apply_change(groups[group], ref, min(e1, e2))
    b = co.apply_change(groups[group], ref, max(e1, e2))
    for g in (a, b):
        total = g.p_independent + g.p_forced + g.p_unsupervised + g.p_still_present
        assert total == pytest.approx(1.0, abs=1e-12)
        assert min(g.p_independent, g.p_forced, g.p_unsupervised, g.p_still_present) >= -1e-12
    assert b.p_verified >= a.p_verified - 1e-12
    assert b.p_forced >= a.p_forced - 1e-12
    with pytest.raises(ValueError):
        co.apply_change(groups[group], ref, 1.5)


def test_reader_errors_name_file_row_and_column(tmp_path):
    src = rd.data_path("returns", "nl_group_return_fit.csv").read_text().splitlines()
    header = src[0].split(",")
    col = header.index("p_forced")
    row = src[3].split(",")
    row[col] = "1.7"
    bad = tmp_path / "nl_group_return_fit.csv"
    bad.write_text("\n".join([src[0], src[1], src[2], ",".join(row)] + src[4:]) + "\n")
    with pytest.raises(DataError, match=r"nl_group_return_fit.csv, row 4, column 'p_forced': share out of range"):
        rd.return_fit(bad)
    row[col] = "abc"
    bad.write_text("\n".join([src[0], ",".join(row)]) + "\n")
    with pytest.raises(DataError, match=r"row 2, column 'p_forced': value is not a number"):
        rd.return_fit(bad)
    missing = tmp_path / "nl_group_year.csv"
    missing.write_text("group,year\nsyria,2014\n")
    with pytest.raises(DataError, match=r"nl_group_year.csv: missing columns"):
        rd.group_year(missing)
    unknown = tmp_path / "nl_nationality_groups.csv"
    unknown.write_text("group,iso3,origin_name,grant_rate_2014_2019\nnowhere,SYR,Syria,0.9\n")
    with pytest.raises(DataError, match=r"row 2, column 'group': unknown nationality group"):
        rd.nationality_groups(unknown)


def test_return_fit_rows_must_sum_to_one(tmp_path):
    src = rd.data_path("returns", "nl_group_return_fit.csv").read_text().splitlines()
    header = src[0].split(",")
    row = src[1].split(",")
    row[header.index("p_still_present")] = "0.9"
    bad = tmp_path / "nl_group_return_fit.csv"
    bad.write_text("\n".join([src[0], ",".join(row)]) + "\n")
    with pytest.raises(DataError, match="do not sum to 1"):
        rd.return_fit(bad)


def test_grant_rates_by_year_for_the_replay():
    gr = rd.grant_rates()
    assert list(gr.columns)[0] == "syria" and gr.index.min() == 2012 and gr.index.max() == 2024
    assert gr.loc[2014:2019, "west_balkans"].max() < 0.01
    assert gr.loc[2014:2019, "syria"].min() > 0.7
    est = rd.irregular_estimates()
    assert {23000, 58000, 97145} <= set(est.estimate)
    reg = rd.irregular_regions_2009()
    assert reg.estimate.sum() == 97145 and reg.share_of_national.sum() == pytest.approx(1.0, abs=1e-3)
