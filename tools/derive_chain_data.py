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
# the nl_history preset (actual inputs 2012-2024; see the header it writes)
# ----------------------------------------------------------------------------------------------
FIRST = {2012: 9810, 2013: 9840, 2014: 21810, 2015: 43095, 2016: 18171, 2017: 14716, 2018: 20353, 2019: 22533,
         2020: 13720, 2021: 24740, 2022: 35535, 2023: 38000, 2024: 32180}
NAREIS = {2012: 2185, 2013: 1753, 2014: 3055, 2015: 13845, 2016: 11814, 2017: 14490, 2018: 6463, 2019: 4179,
          2020: 3865, 2021: 10120, 2022: 10925, 2023: 10000, 2024: 11880}
RESETTLED = {2012: 500, 2013: 500, 2014: 500, 2015: 500, 2016: 695, 2017: 2265, 2018: 1225, 2019: 1875,
             2020: 425, 2021: 470, 2022: 1405, 2023: 830, 2024: 760}
TRACK_SPLIT = {"general": 0.638, "safe": 0.144, "dublin": 0.218}
# UNHCR counts fewer first-instance decisions than IND made (2018: 9,177, while 7,640 pending at a
# 19-week lead time imply ~21,000 a year by Little's law). One factor on the UNHCR series, chosen
# on the 2014-2019 facts only (tools/calibrate_history.py); sourced IND capacities replace it where
# they exist (2022: ~28,000, P13; 2023: ~35,000, P15).
IND_CAPACITY_FACTOR = 1.5
IND_CAPACITY_SOURCED = {2022: 28000, 2023: 35000}
HEADER = '''# nl_history: the chain driven by the actual inputs of 2012-2024 (2012-2013 are warm-up).
# Generated by tools/derive_chain_data.py from the shipped data; every input and its derivation:
# - first applications per year: Rapportages Vreemdelingenketen / CBS / IND (data/nl_chain/
#   nl_asylum_inflow_components_yearly.csv); spread over months by that year's Eurostat NL monthly
#   shape for 2012-2018, and by the 2008-2018 average profile from 2019.
# - subsequent applications: UNHCR asylum_applications, NL, app_type R (2013 missing: mean of 2012
#   and 2014, assumption).
# - nareis (given): IND/CBS per year 2015-2024; 2012-2014 not found: 0.32 x the previous year's
#   UNHCR first-instance grants (assumption, the baseline nareis ratio).
# - resettlement: CBS 82025NED 2016-2023, Tweede Kamer 2025D08674 for 2024; 2012-2015 the annual
#   quota of 500 (UNHCR NL).
# - IND first-instance capacity: UNHCR first-instance decisions (incl. otherwise closed, i.e. Dublin)
#   per year x a factor calibrated on 2014-2019 facts only (UNHCR undercounts IND decisions), or the
#   sourced IND capacity (2022: 28,000, P13; 2023: 35,000, P15); split 63.8/14.4/21.8% over the tracks.
# - statutory period: 6 months; 15 months 2015-10-01..2016-12-31 (the 2015/2016 extension, P4;
#   exact dates assumed) and 2022-09-27..2024-12-31 (P5).
# - registration capacity: not binding before 2022 (400/day, assumption); 120/day from 2022 (A11).
# - housing task: given where found (2016-H2..2018-H2, 2022-H1..2023-H1), else the rule.
# - regular reception capacity: 20,000 (2012, assumption: 2013 occupancy 15,394 at 80%),
#   48,000 from 2016 (assumption: 2015 year-end occupancy), 27,000 (2018) and 30,300 (2019) (C7),
#   35,000 (2022) and 51,000 (2023) (C7).
# Only 2014-2019 outcome figures may be used to judge calibration; 2020-2024 are out of sample.
'''


def history_preset(raw: Path, factor: float = IND_CAPACITY_FACTOR) -> str:
    import tomli_w

    m = pd.read_csv(raw / "eurostat" / "nl_monthly_asylum_applicants_total_2008_2019M04_derived.csv")
    m["year"] = m.month.str[:4].astype(int)
    shape = {}
    for y, g in m.groupby("year"):
        if len(g) == 12:
            shape.update({r.month: r.applicants / g.applicants.sum() for r in g.itertuples()})
    prof = pd.read_csv(OUT / "nl_monthly_profile_2008_2018.csv").relative_arrivals.tolist()
    monthly = []
    for y, v in FIRST.items():
        for mo in range(1, 13):
            key = f"{y}-{mo:02d}"
            w = shape.get(key, prof[mo - 1] / 12.0)
            monthly.append({"month": key, "value": round(v * w, 1)})
    app = pd.read_csv(raw / "unhcr_refugees_pkg" / "asylum_applications.csv")
    app = app[(app.coa_iso == "NLD") & (app.app_type == "R")]
    sub = app.groupby(app.year.astype(int)).applied.sum().to_dict()
    sub[2013] = round((sub[2012] + sub[2014]) / 2)
    dec = pd.read_csv(OUT / "nl_first_instance_decisions_unhcr_2010_2024.csv").set_index("year").dec_total
    steps = lambda d: [{"start": dt.date(y, 1, 1), "value": float(v)} for y, v in sorted(d.items())]  # noqa: E731
    total = {y: IND_CAPACITY_SOURCED.get(y, float(dec[y]) * factor) for y in range(2012, 2025)}
    cap = {k: [{"start": dt.date(y, 1, 1), "value": round(total[y] * f / 52.18, 1)} for y in range(2012, 2025)]
           for k, f in TRACK_SPLIT.items()}
    data = {
        "name": "nl_history",
        "description": "The Dutch chain 2014-2024 driven by actual inputs (2012-2013 warm-up)",
        "simulation": {"start": dt.date(2014, 1, 1), "end": dt.date(2024, 12, 31), "warmup_years": 2,
                       "replicates": 20, "seed": 20140101},
        "inflow": {"first": {"monthly": monthly},
                   "subsequent": {"per_year": steps({y: sub[y] for y in range(2012, 2025)})},
                   "resettlement": {"per_year": steps(RESETTLED)},
                   "nareis": {"mode": "given", "per_year": steps(NAREIS)}},
        "registration": {"capacity_per_day": [{"start": dt.date(2012, 1, 1), "value": 400.0},
                                              {"start": dt.date(2022, 1, 1), "value": 120.0}]},
        "decision_capacity": cap,
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
    return HEADER + tomli_w.dumps(data)


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
            rows.append((str(y), q, v, "https://www.dienstterugkeerenvertrek.nl/over-dtv/cijfers (DT&V)"))
    return pd.DataFrame(rows, columns=["date", "quantity", "value", "source"])


def write_history(raw: Path) -> None:
    preset = Path(__file__).resolve().parents[1] / "src" / "ketenplan" / "scenario" / "presets" / "nl_history.toml"
    preset.write_text(history_preset(raw), encoding="utf-8")
    facts_2014_2019().to_csv(OUT / "facts_nl_2014_2019.csv", index=False)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
    write_history(Path(sys.argv[1]))
