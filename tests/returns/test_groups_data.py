"""Nationality groups and their yearly table: recomputed from the shipped UNHCR slices with the
csv module (independently of tools/derive_groups_returns.py) and checked against national
totals and published figures."""

from __future__ import annotations

import csv
from collections import defaultdict

import pytest

from ketenplan.data import data_path
from ketenplan.returns import data as rd
from ketenplan.returns.groups import GROUP_ORDER, NAMED_GROUPS, assign


def _rows(name):
    with open(data_path("returns", name), newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def group_of():
    return {r["iso3"]: r["group"] for r in _rows("nl_nationality_groups.csv")}


def test_named_groups_are_disjoint_and_count_is_8_to_12():
    members = [iso for isos in NAMED_GROUPS.values() for iso in isos]
    assert len(members) == len(set(members))
    assert 8 <= len(GROUP_ORDER) <= 12


def test_group_assignment_follows_the_rule(group_of):
    # residual origins: grant rate 2014-2019 recomputed from the decisions slice
    acc = defaultdict(lambda: [0.0, 0.0])
    for r in _rows("unhcr_nl_asylum_decisions.csv"):
        if r["dec_level"] == "FI" and 2014 <= float(r["year"]) <= 2019:
            g = float(r["dec_recognized"]) + float(r["dec_other"])
            acc[r["coo_iso"]][0] += g
            acc[r["coo_iso"]][1] += g + float(r["dec_rejected"])
    for iso, group in group_of.items():
        granted, decided = acc.get(iso, [0.0, 0.0])
        rate = granted / decided if decided > 0 else None
        assert assign(iso, rate) == group, iso
    assert group_of["SYR"] == "syria" and group_of["MAR"] == "maghreb" and group_of["ALB"] == "west_balkans"
    assert group_of["XXA"] == "other_high"  # stateless: 87% granted 2014-2019


def test_group_year_recomputed_independently(group_of):
    apps, reps, dec = defaultdict(int), defaultdict(int), defaultdict(lambda: defaultdict(int))
    for r in _rows("unhcr_nl_asylum_applications.csv"):
        y = int(float(r["year"]))
        key = (group_of[r["coo_iso"]], y)
        if r["dec_level"] == "FI":
            apps[key] += int(float(r["applied"]))
        elif r["dec_level"] == "RA":
            reps[key] += int(float(r["applied"]))
    for r in _rows("unhcr_nl_asylum_decisions.csv"):
        if r["dec_level"] != "FI":
            continue
        key = (group_of[r["coo_iso"]], int(float(r["year"])))
        for c in ("recognized", "other", "rejected", "closed", "total"):
            dec[key][c] += int(float(r["dec_" + c]))
    table = rd.group_year()
    assert set(table.year) == set(range(2012, 2025))
    for row in table.itertuples():
        key = (row.group, row.year)
        assert row.new_applications == apps[key]
        assert row.repeat_applications == reps[key]
        for c in ("recognized", "other", "rejected", "closed", "total"):
            assert getattr(row, "fi_" + c) == dec[key][c], (key, c)
        granted = dec[key]["recognized"] + dec[key]["other"]
        decided = granted + dec[key]["rejected"]
        if decided:
            assert row.grant_rate == pytest.approx(granted / decided, abs=6e-5)


def test_group_totals_add_up_to_national_totals():
    table = rd.group_year()
    nat_new, nat_dec = defaultdict(int), defaultdict(int)
    for r in _rows("unhcr_nl_asylum_applications.csv"):
        if r["dec_level"] == "FI":
            nat_new[int(float(r["year"]))] += int(float(r["applied"]))
    for r in _rows("unhcr_nl_asylum_decisions.csv"):
        if r["dec_level"] == "FI":
            nat_dec[int(float(r["year"]))] += int(float(r["dec_total"]))
    by_year = table.groupby("year")[["new_applications", "fi_total", "share_new"]].sum()
    for y in range(2012, 2025):
        assert by_year.loc[y, "new_applications"] == nat_new[y]
        assert by_year.loc[y, "fi_total"] == nat_dec[y]
        assert by_year.loc[y, "share_new"] == pytest.approx(1.0, abs=2e-3)
    chk = _rows("nl_group_year_check.csv")
    assert all(int(r["difference"]) == 0 for r in chk)


def test_national_totals_agree_with_published_figures():
    table = rd.group_year().groupby("year").sum(numeric_only=True)
    # Eurostat migr_asydcfsta NL 2014: 18,810 first-instance decisions, 12,550 positive (shared SOURCES.md)
    assert table.loc[2014, "fi_total"] == pytest.approx(18810, rel=0.01)
    assert table.loc[2014, "fi_recognized"] + table.loc[2014, "fi_other"] == pytest.approx(12550, rel=0.01)
    # CBS first asylum applications 2015: 43,095 (nl_chain.md section 3)
    assert table.loc[2015, "new_applications"] == pytest.approx(43095, rel=0.005)
    # Telegraaf/IND repeat applications 2018: 3,564 and 2019: 2,723 (nl_chain.md R8)
    assert table.loc[2018, "repeat_applications"] == pytest.approx(3564, rel=0.02)
    assert table.loc[2019, "repeat_applications"] == pytest.approx(2723, rel=0.02)


def test_group_summary_homogeneity_and_safe_flag():
    g = rd.groups().set_index("group")
    assert g.share_new_2014_2019.sum() == pytest.approx(1.0, abs=2e-3)
    assert g.loc["syria", "grant_rate_2014_2019"] > 0.9 and g.loc["eritrea", "grant_rate_2014_2019"] > 0.9
    assert g.loc["west_balkans", "grant_rate_2014_2019"] < 0.01 and g.loc["maghreb", "grant_rate_2014_2019"] < 0.06
    assert g.loc["other_high", "grant_rate_2014_2019"] >= 0.5 > g.loc["other_low", "grant_rate_2014_2019"]
    safe = set(g.index[g.safe_country.astype(str) == "True"])
    assert safe == {"maghreb", "west_balkans"}
    # Rekenkamer: 13,789 applicants from safe countries 2014-2016, 16.6% of inflow (nl_chain S5);
    # the list of 2016-2019 applied to the UNHCR rows of 2014-2016
    t = rd.group_year()
    sub = t[t.year.between(2014, 2016)]
    assert sub.safe_country_new_applications.sum() == pytest.approx(13789, rel=0.03)
    share = sub.safe_country_new_applications.sum() / sub.new_applications.sum()
    assert share == pytest.approx(0.166, abs=0.01)
