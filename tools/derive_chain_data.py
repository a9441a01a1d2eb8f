"""Rebuild the derived chain tables shipped in src/ketenplan/data/nl_chain/ from the raw public data.

Usage: python tools/derive_chain_data.py RAW_DATA_DIR
RAW_DATA_DIR is the collection described in the shipped SOURCES.md (UNHCR refugees package CSVs,
Eurostat monthly NL series, the transcribed nl_chain tables). Only years up to 2019 are used for
anything that sets a default parameter.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from pathlib import Path

import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "src" / "ketenplan" / "data" / "nl_chain"

# Recognition-rate bands (first-instance grants / (grants + rejections), NL, 2014-2019).
BANDS = [("high", 0.70, 1.01), ("medium", 0.30, 0.70), ("low", 0.05, 0.30), ("very_low", -0.01, 0.05)]


def groups(raw: Path) -> pd.DataFrame:
    dec = pd.read_csv(raw / "unhcr_refugees_pkg" / "asylum_decisions.csv")
    dec = dec[(dec.coa_iso == "NLD") & dec.year.between(2014, 2019) & (dec.dec_level == "FI")]
    by = dec.groupby("coo_name")[["dec_recognized", "dec_other", "dec_rejected"]].sum()
    by["granted"] = by.dec_recognized + by.dec_other
    by["decided"] = by.granted + by.dec_rejected
    by = by[by.decided > 0]
    by["rate"] = by.granted / by.decided
    app = pd.read_csv(raw / "unhcr_refugees_pkg" / "asylum_applications.csv")
    app = app[(app.coa_iso == "NLD") & app.year.between(2014, 2019) & (app.app_type == "N")]
    applied = app.groupby("coo_name").applied.sum()
    by = by.join(applied, how="left").fillna({"applied": 0})
    rows = []
    for name, lo, hi in BANDS:
        b = by[(by.rate > lo) & (by.rate <= hi)] if name != "very_low" else by[by.rate <= hi]
        rows.append({"group": name, "rate_band": f"({max(lo, 0):.2f}, {min(hi, 1):.2f}]",
                     "origins": len(b), "applications_new_2014_2019": int(b.applied.sum()),
                     "decisions_2014_2019": int(b.decided.sum()), "granted_2014_2019": int(b.granted.sum()),
                     "grant_rate": round(b.granted.sum() / b.decided.sum(), 4),
                     "top_origins": "; ".join(b.sort_values("applied", ascending=False).index[:6])})
    out = pd.DataFrame(rows)
    out["share"] = (out.applications_new_2014_2019 / out.applications_new_2014_2019.sum()).round(4)
    out.loc[out.index[-1], "share"] = round(1 - out.share.iloc[:-1].sum(), 4)
    return out


def monthly_profile(raw: Path) -> pd.DataFrame:
    m = pd.read_csv(raw / "eurostat" / "nl_monthly_asylum_applicants_total_2008_2019M04_derived.csv")
    m["year"] = m.month.str[:4].astype(int)
    m["mon"] = m.month.str[5:7].astype(int)
    m = m[m.year.between(2008, 2018)]
    m["rel"] = m.applicants / m.groupby("year").applicants.transform("mean")
    prof = m.groupby("mon").rel.mean()
    prof = prof / prof.mean()
    return pd.DataFrame({"month_of_year": prof.index, "relative_arrivals": prof.round(3).values})


def main(raw: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    groups(raw).to_csv(OUT / "nl_origin_groups_2014_2019.csv", index=False)
    monthly_profile(raw).to_csv(OUT / "nl_monthly_profile_2008_2018.csv", index=False)
    for f in ["coa_bezetting_yearly_1995_2019.csv", "dtv_instroom_vertrek_2018_2019.csv",
              "nl_asylum_inflow_components_yearly.csv", "taakstelling_huisvesting_halfjaar.csv",
              "cbs_cohort_verblijfsvergunningen_asiel_2014_2019.csv", "cbs_cohort_instroom_coa_opvang_2014_2021H1.csv"]:
        shutil.copyfile(raw / "nl_chain" / f, OUT / f)
    shutil.copyfile(raw / "eurostat" / "nl_monthly_asylum_applicants_total_2008_2019M04_derived.csv",
                    OUT / "nl_monthly_asylum_applicants_total_2008_2019M04.csv")
    # first-instance decisions per year (NL), an input of the history preset (IND capacity proxy)
    dec = pd.read_csv(raw / "unhcr_refugees_pkg" / "asylum_decisions.csv")
    dec = dec[(dec.coa_iso == "NLD") & (dec.dec_level == "FI") & dec.year.between(2010, 2024)]
    y = dec.groupby("year")[["dec_recognized", "dec_other", "dec_rejected", "dec_closed", "dec_total"]].sum()
    y.index = y.index.astype(int)
    y.astype(int).reset_index().to_csv(OUT / "nl_first_instance_decisions_unhcr_2010_2024.csv", index=False)




# ----------------------------------------------------------------------------------------------
# the nl_history preset (actual inputs 2012-2024; see the header it writes). Built only from the
# tables the package ships (data/nl_chain, data/returns, data/forecast).
# ----------------------------------------------------------------------------------------------
DATA = OUT.parent
# resettlement: CBS 82025NED 2016-2023, Tweede Kamer 2025D08674 for 2024; 2012-2015 the quota of 500
RESETTLED = {2012: 500, 2013: 500, 2014: 500, 2015: 500, 2016: 695, 2017: 2265, 2018: 1225, 2019: 1875,
             2020: 425, 2021: 470, 2022: 1405, 2023: 830, 2024: 760}
# IND capacity = UNHCR first-instance decisions (persons, incl. otherwise closed) x this factor; the
# factor is the one weakly identified input, drawn from the 2014-2019 posterior (tools/calibrate_history.py)
IND_CAPACITY_FACTOR = 2.0
# registration never binds in a replay: the first-application counts are registrations
REGISTRATION_UNCAPPED = 5000.0
# nareis that skip COA: CBS counts entries into COA reception 2015-2018 (incl. nareis who entered
# via COA) of 151,000 against first + subsequent + nareis + resettled arrivals of 158,268; the gap
# of 7,268 over 46,612 nareis is 0.156 (an upper bound: first applicants who never enter COA also
# fall in the gap). Derived in nareis_share_to_home().
YEARS = range(2012, 2025)
# the posterior sample of tools/calibrate_history.py: replicate i of a run takes row i % n
PARAMETER_SETS = "nl_chain/nl_history_parameter_sets.csv"


def _components() -> tuple[dict[int, float], dict[int, float]]:
    c = pd.read_csv(OUT / "nl_asylum_inflow_components_yearly.csv").drop_duplicates(["year", "component"])
    first = c[c.component == "first_asylum_applications"].set_index("year").persons.to_dict()
    nareis = c[c.component == "nareizigers"].set_index("year").persons.to_dict()
    return {int(y): float(v) for y, v in first.items()}, {int(y): float(v) for y, v in nareis.items()}


def _subsequent() -> dict[int, float]:
    app = pd.read_csv(DATA / "returns" / "unhcr_nl_asylum_applications.csv")
    app = app[app.app_type == "R"]
    sub = app.groupby(app.year.astype(int)).applied.sum().to_dict()
    sub[2013] = round((sub[2012] + sub[2014]) / 2)  # 2013 missing in UNHCR: assumption, mean of neighbours
    return {y: float(sub[y]) for y in YEARS}


def _fi_decisions() -> pd.DataFrame:
    return pd.read_csv(OUT / "nl_first_instance_decisions_unhcr_2010_2024.csv").set_index("year")


def nareis_share_to_home() -> float:
    """Share of nareis arrivals that do not enter COA, from CBS COA entries 2015-2018 (upper bound)."""
    first, nareis = _components()
    sub = _subsequent()
    coa = pd.read_csv(OUT / "cbs_cohort_instroom_coa_opvang_2014_2021H1.csv").set_index("period")
    years = [2015, 2016, 2017, 2018]
    arrivals = sum(first[y] + sub[y] + nareis[y] + RESETTLED[y] for y in years)
    entered = sum(float(coa.loc[str(y)].asylum_seekers_entering_coa_reception_rounded) for y in years)
    return round(max(arrivals - entered, 0.0) / sum(nareis[y] for y in years), 3)


def monthly_first(first: dict[int, float]) -> list[dict]:
    """First applications per month: the year's count spread by that year's observed Eurostat NL
    monthly shape (2012-2018; 2019-01..04 observed share of the Eurostat 2019 annual total, the other
    months by the 2008-2018 profile); from 2020 (no monthly series shipped) the 2008-2018 profile."""
    m = pd.read_csv(OUT / "nl_monthly_asylum_applicants_total_2008_2019M04.csv")
    m["year"] = m.month.str[:4].astype(int)
    annual = pd.read_csv(DATA / "forecast" / "eurostat_annual_applicants_2011_2024.csv")
    annual = annual[annual.geo_iso3 == "NLD"].set_index("year").persons
    prof = pd.read_csv(OUT / "nl_monthly_profile_2008_2018.csv").relative_arrivals.to_numpy() / 12.0
    out = []
    for y in YEARS:
        g = m[m.year == y].set_index("month").applicants
        w = prof / prof.sum()
        if len(g) == 12:
            w = (g / g.sum()).to_numpy()
        elif len(g):
            obs = (g / float(annual[y])).to_numpy()
            rest = prof[len(g):] / prof[len(g):].sum() * max(1.0 - obs.sum(), 0.0)
            w = list(obs) + list(rest)
        out += [{"month": f"{y}-{mo:02d}", "value": round(first[y] * float(w[mo - 1]), 1)} for mo in range(1, 13)]
    return out


def history_groups() -> list[dict]:
    """The 11 nationality groups with their share of new applications and first-instance grant rate
    per year (UNHCR, NL, data/returns/nl_group_year.csv), pooled 2014-2019 as the fallback."""
    from ketenplan.scenario.schema import default_groups

    gy = pd.read_csv(DATA / "returns" / "nl_group_year.csv")
    out = []
    pooled = gy[gy.year.between(2014, 2019)].groupby("group")[["new_applications"]].sum()
    pooled_share = pooled.new_applications / pooled.new_applications.sum()
    for g in default_groups():
        d = gy[gy.group == g.name].set_index("year")
        ins = d.loc[2014:2019]
        granted = (ins.fi_recognized + ins.fi_other).sum()
        decided = granted + ins.fi_rejected.sum()
        shares = {}
        for y in YEARS:
            tot = gy[gy.year == y].new_applications.sum()
            shares[str(y)] = round(float(d.loc[y, "new_applications"]) / float(tot), 6)
        rates = {str(y): round(float(d.loc[y, "grant_rate"]), 4) for y in YEARS
                 if (d.loc[y, "fi_recognized"] + d.loc[y, "fi_other"] + d.loc[y, "fi_rejected"]) > 0}
        out.append({"name": g.name, "label": g.label, "share": round(float(pooled_share[g.name]), 6),
                    "grant_rate": round(float(granted / decided), 4), "safe_country": g.safe_country,
                    "shares_by_year": shares, "grant_rates_by_year": rates,
                    "departure_shares": list(g.departure_shares)})
    for key in ["share"]:
        tot = sum(o[key] for o in out)
        out[-1][key] = round(out[-1][key] + 1 - tot, 6)
    for y in YEARS:
        tot = sum(o["shares_by_year"][str(y)] for o in out)
        out[-1]["shares_by_year"][str(y)] = round(out[-1]["shares_by_year"][str(y)] + 1 - tot, 6)
    return out


HEADER = '''# nl_history: the chain driven by the actual inputs of 2012-2024 (2012-2013 are warm-up).
# Generated by tools/derive_chain_data.py from the tables the package ships; every input:
# - first applications per year (registrations): Rapportages Vreemdelingenketen / CBS / IND
#   (data/nl_chain/nl_asylum_inflow_components_yearly.csv); per month by the observed Eurostat NL
#   monthly series (data/nl_chain/nl_monthly_asylum_applicants_total_2008_2019M04.csv) up to 2019-04,
#   the rest of 2019 and 2020-2024 by the 2008-2018 average profile (no monthly series is shipped).
# - subsequent applications: UNHCR asylum_applications, NL, app_type R (data/returns/
#   unhcr_nl_asylum_applications.csv; 2013 missing: mean of 2012 and 2014, assumption).
# - nationality groups: share of new applications and first-instance grant rate per year and group
#   (UNHCR, data/returns/nl_group_year.csv): inputs of the replay, observed, not fitted.
# - nareis (given): IND/CBS per year 2015-2024; 2012-2014 not found: 0.32 x the previous year's
#   UNHCR first-instance grants (assumption, the baseline nareis ratio). Share that joins a housed
#   sponsor without a COA stay: {share_home} (CBS COA entries 2015-2018 against arrivals; upper bound).
# - resettlement: CBS 82025NED 2016-2023, Tweede Kamer 2025D08674 for 2024; 2012-2015 the annual
#   quota of 500 (UNHCR NL).
# - IND capacity: ONE pool shared by the tracks in priority order (Dublin, safe third country, safe
#   country, general). Size: UNHCR first-instance decisions per year, persons, incl. otherwise closed
#   (Dublin, withdrawn) (data/nl_chain/nl_first_instance_decisions_unhcr_2010_2024.csv) x {factor}
#   (the posterior median of the earlier rejection ABC; the joint posterior with the model error puts
#   it at 1.83, docs/backtest.md, and the point replay was not re-fitted). Why this series: it is the only IND production series
#   of every year 2012-2024 that is shipped, it counts persons (the model's unit) and it includes the
#   Dublin and withdrawn closures that use IND capacity. UNHCR undercounts the IND's output (2018:
#   9,177, while 7,640 pending at 19 weeks imply ~21,000 a year); the factor, the one weakly
#   identified input, carries that. The sourced 2022/2023 capacities are no longer spliced in: one
#   series throughout, so that no year changes definition.
# - parameter sets: {sets}: a sample of the joint posterior of the parameters and
#   the model error given the 2014-2019 facts (ABC whose kernel is the model error,
#   tools/calibrate_history.py); replicate i applies row i % n (IND capacity factor, nareis share to
#   the sponsor's home, housing realisation rate), so the bands carry their uncertainty, and
#   `ketenplan backtest` adds each row's model error (model_error_sd:<quantity>, log scale) to them.
#   The values above are the point replay (simulation.parameter_sets = "" runs it alone).
#   The schema's declared parameter distributions (simulation.parameter_uncertainty) are off: the
#   replay's uncertainty is its calibrated parameter sets.
# - registration: not capped ({reg:.0f}/day): the first-application counts are registrations.
# - statutory period: 6 months; 15 months 2015-10-01..2016-12-31 (the 2015/2016 extension, P4;
#   exact dates assumed) and 2022-09-27..2024-12-31 (P5).
# - housing: the given tasks where found (2016-H2..2018-H2, 2022-H1..2023-H1), else the rule. The
#   realised figures (2022-H1 11,886; 2022-H2 17,000) cannot enter: the housing hook takes tasks only.
# - regular reception capacity: 20,000 (2012, assumption: 2013 occupancy 15,394 at 80%),
#   48,000 from 2016 (assumption: 2015 year-end occupancy), 27,000 (2018) and 30,300 (2019) (C7),
#   35,000 (2022) and 51,000 (2023) (C7). Regular places do not cap occupancy (emergency places).
# Only 2014-2019 outcome figures may be used to judge calibration; 2020-2024 are out of sample.
'''


def history_data(factor: float = IND_CAPACITY_FACTOR) -> dict:
    first, nareis = _components()
    dec = _fi_decisions()
    for y in (2012, 2013, 2014):  # nareis not found: 0.32 x previous year's UNHCR first-instance grants
        nareis.setdefault(y, round(0.32 * float(dec.loc[y - 1, "dec_recognized"] + dec.loc[y - 1, "dec_other"])))
    steps = lambda d: [{"start": dt.date(y, 1, 1), "value": float(v)} for y, v in sorted(d.items())]  # noqa: E731
    total = {y: round(float(dec.loc[y, "dec_total"]) * factor / 52.18, 1) for y in YEARS}
    return {
        "name": "nl_history",
        "description": "The Dutch chain 2014-2024 driven by actual inputs (2012-2013 warm-up)",
        "simulation": {"start": dt.date(2014, 1, 1), "end": dt.date(2024, 12, 31), "warmup_years": 2, "initial_state": "empty", "parameter_uncertainty": False,
                       "replicates": 20, "seed": 20140101,
                       "parameter_sets": PARAMETER_SETS if (OUT / PARAMETER_SETS.split("/")[1]).exists() else ""},
        "groups": history_groups(),
        "inflow": {"source": "given", "first": {"monthly": monthly_first(first)},
                   "subsequent": {"per_year": steps(_subsequent())},
                   "nareis": {"mode": "given", "per_year": steps({y: nareis[y] for y in YEARS}),
                              "share_to_sponsor_home": nareis_share_to_home()}},
        "resettlement": {"quota": steps(RESETTLED)},
        "registration": {"capacity_per_day": [{"start": dt.date(2012, 1, 1), "value": REGISTRATION_UNCAPPED}]},
        "decision_capacity": {"pooling": "shared", "total": steps(total)},
        "procedure": {"statutory_months": [
            {"start": dt.date(2012, 1, 1), "value": 6.0}, {"start": dt.date(2015, 10, 1), "value": 15.0},
            {"start": dt.date(2017, 1, 1), "value": 6.0}, {"start": dt.date(2022, 9, 27), "value": 15.0}]},
        "housing": {"tasks": [{"period": p, "value": float(v)} for p, v in [
            ("2016-H2", 23000), ("2017-H1", 13000), ("2017-H2", 10000), ("2018-H1", 13000), ("2018-H2", 8000),
            ("2022-H1", 9979), ("2022-H2", 13500), ("2023-H1", 21200)]]},
        "reception": {"capacity_regular": [
            {"start": dt.date(2012, 1, 1), "value": 20000.0}, {"start": dt.date(2016, 1, 1), "value": 48000.0},
            {"start": dt.date(2018, 1, 1), "value": 27000.0}, {"start": dt.date(2019, 1, 1), "value": 30300.0},
            {"start": dt.date(2022, 1, 1), "value": 35000.0}, {"start": dt.date(2023, 1, 1), "value": 51000.0}]},
    }


def history_preset(factor: float = IND_CAPACITY_FACTOR) -> str:
    import tomli_w

    data = history_data(factor)
    head = HEADER.format(share_home=data["inflow"]["nareis"]["share_to_sponsor_home"], factor=factor,
                         reg=REGISTRATION_UNCAPPED, sets=data["simulation"]["parameter_sets"] or "none")
    return head + tomli_w.dumps(data)


def facts_2014_2019() -> pd.DataFrame:
    """The in-sample facts file: outcome figures 2014-2019 from the shipped tables."""
    rows = []
    coa = pd.read_csv(OUT / "coa_bezetting_yearly_1995_2019.csv")
    for r in coa.itertuples():
        if 2014 <= r.year <= 2019:
            date = r.reference_date if r.reference_date[:1].isdigit() else str(r.year)
            rows.append((date, "coa_occupancy", r.persons_in_coa_reception, r.source_url))
    for date, v, src in [("2018-01", 4600, "dvhn via nl_chain.md H6 (early 2018)"),
                         ("2018-10", 5500, "dvhn via nl_chain.md H6 (Oct 2018)"),
                         ("2019-11-11", 5595, "https://coa.nl/nl/over-coa/bezetting (H6)")]:
        rows.append((date, "permit_holders_in_reception", v, src))
    rows.append(("2018-08-31", "ind_pending_asylum", 7640,
                 "https://zoek.officielebekendmakingen.nl/ah-tk-20182019-349.html (P7)"))
    rows.append(("2018-08", "ind_avg_decision_time_weeks", 19,
                 "https://zoek.officielebekendmakingen.nl/ah-tk-20182019-349.html (P6, Jul-Aug 2018)"))
    perm = pd.read_csv(OUT / "cbs_cohort_verblijfsvergunningen_asiel_2014_2019.csv")
    for r in perm.itertuples():
        rows.append((str(r.period), "permits_granted_asylum", r.asylum_residence_permits_granted_rounded,
                     r.source_url))
    dtv = {2015: (3320, 1850, 5070), 2016: (6760, 2220, 8100), 2017: (3400, 2700, 9020),
           2018: (3610, 2650, 8620), 2019: (4460, 2760, 9660)}
    for y, (a, b, c) in dtv.items():
        for q, v in zip(("departures_independent", "departures_forced", "departures_unsupervised"), (a, b, c)):
            rows.append((str(y), q, v, "https://www.dienstterugkeerenvertrek.nl/over-dtv/cijfers (DT&V; "
                                       "all intake: IND, police, KMar, other)"))
    rows += departures_from_ind_intake()
    return pd.DataFrame(rows, columns=["date", "quantity", "value", "source"])


def departures_from_ind_intake() -> list[tuple]:
    """DT&V departures (all three kinds) restricted to the cases the IND handed over, per year where
    DT&V gives the intake by source (2018, 2019: dtv_instroom_vertrek_2018_2019.csv).

    Assumption (departures in proportion to intake): DT&V does not split departures by the case's
    origin, so the year's departures are multiplied by the IND's share of that year's intake
    (2018: 13,000 of 19,010; 2019: 15,640 of 22,550). Rounded to tens, as DT&V rounds. The IND
    intake still includes rejected regular (non-asylum) applications, so this is an upper bound of
    the asylum chain's departures."""
    t = pd.read_csv(OUT / "dtv_instroom_vertrek_2018_2019.csv")
    out = []
    for r in t.itertuples():
        intake = r.instroom_ind + r.instroom_nationale_politie + r.instroom_kmar + r.instroom_overige
        dep = r.vertrek_zelfstandig + r.vertrek_gedwongen + r.vertrek_zelfstandig_zonder_toezicht
        out.append((str(r.period), "departures_from_ind_intake", int(round(dep * r.instroom_ind / intake, -1)),
                    "https://www.dienstterugkeerenvertrek.nl/over-dtv/cijfers (DT&V; all departures x the IND's "
                    "share of intake, assumption)"))
    return out


def write_history() -> None:
    preset = Path(__file__).resolve().parents[1] / "src" / "ketenplan" / "scenario" / "presets" / "nl_history.toml"
    preset.write_text(history_preset(), encoding="utf-8")
    facts_2014_2019().to_csv(OUT / "facts_nl_2014_2019.csv", index=False)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] != "--history-only":
        main(Path(sys.argv[1]))
    write_history()
