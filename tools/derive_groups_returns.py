"""Build the nationality groups, their yearly asylum figures and the return fit (P4.1, P0.2).

Usage: python tools/derive_groups_returns.py RAW_DATA_DIR

RAW_DATA_DIR is the raw collection described in src/ketenplan/data/returns/SOURCES.md: the
UNHCR refugees package (``unhcr_refugees_pkg/asylum_applications.csv``, ``asylum_decisions.csv``,
``countries.csv``) and the Eurostat extracts (``eurostat/dw_migr_eiord_ordered_to_leave_2012_2016_tidy.csv``,
``eurostat/dw_migr_eirtn_returned_2012_2016_tidy.csv``). The script writes the Netherlands slices of
those files and every derived table into src/ketenplan/data/returns/. The transcribed tables
(DT&V departures, the Dutch list of safe countries of origin) live in that folder already.
Only data up to 2019 set a parameter; 2019 DT&V figures are a check, never a fit target.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ketenplan.returns import fit as rf  # noqa: E402
from ketenplan.returns.groups import GROUP_ORDER, LABELS, NAMED_GROUPS, assign  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "src" / "ketenplan" / "data" / "returns"
YEARS = range(2012, 2025)
GROUP_YEARS = (2014, 2019)

# Eurostat citizenship labels that differ from the UNHCR country names.
EUROSTAT_ISO3 = {
    "Former Yugoslav Republic of Macedonia, the": "MKD", "Serbia": "SRB", "Turkey": "TUR",
    "Kosovo (under United Nations Security Council Resolution 1244/99)": "XKX", "Moldova": "MDA",
    "Russia": "RUS", "Vatican City State": "VAT", "Central African Republic": "CAF",
    "Democratic Republic of the Congo": "COD", "São Tomé and Príncipe": "STP", "Tanzania": "TZA",
    "Swaziland": "SWZ", "Cape Verde": "CPV", "Côte d'Ivoire": "CIV", "Gambia, The": "GMB",
    "United States": "USA", "Dominican Republic": "DOM", "Bolivia": "BOL", "Venezuela": "VEN",
    "China (including Hong Kong)": "CHN", "North Korea": "PRK", "South Korea": "KOR",
    "Taiwan": "TWN", "Iran": "IRN", "Laos": "LAO", "Myanmar/Burma": "MMR", "Vietnam": "VNM",
    "Palestine": "PSE", "Syria": "SYR", "Federated States of Micronesia": "FSM",
    "Cook Islands (NZ)": "COK",
}


def slices(raw: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Netherlands rows of the UNHCR applications and decisions, unchanged, and the NL rows of
    the Eurostat orders to leave and returns with an ISO3 code per citizenship."""
    pkg = raw / "unhcr_refugees_pkg"
    app = pd.read_csv(pkg / "asylum_applications.csv")
    app = app[app.coa_iso == "NLD"].reset_index(drop=True)
    dec = pd.read_csv(pkg / "asylum_decisions.csv")
    dec = dec[dec.coa_iso == "NLD"].reset_index(drop=True)
    countries = pd.read_csv(pkg / "countries.csv")
    name_iso = dict(zip(countries.name, countries.iso_code)) | EUROSTAT_ISO3
    eu = raw / "eurostat"
    o = pd.read_csv(eu / "dw_migr_eiord_ordered_to_leave_2012_2016_tidy.csv")
    o = o[o.geo == "Netherlands"]
    r = pd.read_csv(eu / "dw_migr_eirtn_returned_2012_2016_tidy.csv")
    r = r[r.geo == "Netherlands"]
    indicators = r.indic_mg.unique().tolist()
    if indicators != ["Total number of persons returned"]:
        raise SystemExit(f"eirtn: expected the one indicator 'Total number of persons returned', found {indicators}")
    m = o.rename(columns={"time": "year", "value": "ordered_to_leave"})[["year", "citizen", "ordered_to_leave"]].merge(
        r.rename(columns={"time": "year", "value": "returned"})[["year", "citizen", "returned"]],
        on=["year", "citizen"], how="outer")
    m["iso3"] = m.citizen.map(name_iso)
    m.loc[m.citizen == "Total", "iso3"] = "TOTAL"
    missing = m[m.iso3.isna()].citizen.unique().tolist()
    if missing:
        raise SystemExit(f"eurostat: no ISO3 code for citizenship labels {missing}")
    m = m.sort_values(["year", "iso3"]).reset_index(drop=True)
    return app, dec, m[["year", "citizen", "iso3", "ordered_to_leave", "returned"]]


def origin_table(app: pd.DataFrame, dec: pd.DataFrame, eu: pd.DataFrame) -> pd.DataFrame:
    """One row per origin seen in the NL UNHCR rows or the Eurostat NL rows: name, 2014-2019
    grant rate and group."""
    fi = dec[(dec.dec_level == "FI") & dec.year.between(*GROUP_YEARS)]
    by = fi.groupby("coo_iso")[["dec_recognized", "dec_other", "dec_rejected"]].sum()
    granted = by.dec_recognized + by.dec_other
    decided = granted + by.dec_rejected
    rate = (granted / decided.where(decided > 0)).rename("grant_rate")
    names = pd.concat([app[["coo_iso", "coo_name"]], dec[["coo_iso", "coo_name"]]]).drop_duplicates("coo_iso")
    names = names.set_index("coo_iso").coo_name
    eu_names = eu[eu.iso3 != "TOTAL"].drop_duplicates("iso3").set_index("iso3").citizen
    isos = sorted(set(names.index) | set(eu_names.index))
    rows = []
    for iso in isos:
        g = rate.get(iso, np.nan)
        rows.append({"iso3": iso, "origin_name": names.get(iso, eu_names.get(iso)),
                     "grant_rate_2014_2019": g, "group": assign(iso, None if pd.isna(g) else float(g))})
    return pd.DataFrame(rows)


def group_year(app: pd.DataFrame, dec: pd.DataFrame, origins: pd.DataFrame, safe: set[str]) -> pd.DataFrame:
    """Per group and year: new and repeat applications, first-instance decisions by outcome,
    grant rate, share of the year's new applications and the share from listed safe countries."""
    grp = origins.set_index("iso3").group
    a = app.assign(group=app.coo_iso.map(grp))
    new = a[a.dec_level == "FI"].groupby(["group", "year"]).applied.sum()
    rep = a[a.dec_level == "RA"].groupby(["group", "year"]).applied.sum()
    safe_new = a[(a.dec_level == "FI") & a.coo_iso.isin(safe)].groupby(["group", "year"]).applied.sum()
    d = dec[dec.dec_level == "FI"].assign(group=dec.coo_iso.map(grp))
    cols = ["dec_recognized", "dec_other", "dec_rejected", "dec_closed", "dec_total"]
    dd = d.groupby(["group", "year"])[cols].sum()
    idx = pd.MultiIndex.from_product([GROUP_ORDER, [float(y) for y in YEARS]], names=["group", "year"])
    out = pd.DataFrame(index=idx)
    out["new_applications"] = new.reindex(idx).fillna(0)
    out["repeat_applications"] = rep.reindex(idx).fillna(0)
    out["safe_country_new_applications"] = safe_new.reindex(idx).fillna(0)
    for c in cols:
        out["fi_" + c.removeprefix("dec_")] = dd[c].reindex(idx).fillna(0)
    out = out.astype(int).reset_index()
    out["year"] = out.year.astype(int)
    granted = out.fi_recognized + out.fi_other
    decided = granted + out.fi_rejected
    out["grant_rate"] = (granted / decided.where(decided > 0)).round(4)
    tot_new = out.groupby("year").new_applications.transform("sum")
    out["share_new"] = (out.new_applications / tot_new).round(4)
    out["safe_country_share"] = (out.safe_country_new_applications / out.new_applications.where(out.new_applications > 0)).round(4)
    return out


def national_check(app: pd.DataFrame, dec: pd.DataFrame, gy: pd.DataFrame) -> pd.DataFrame:
    """Group sums against the national totals of the raw rows, per year and quantity."""
    rows = []
    for y in YEARS:
        nat = {
            "new_applications": app[(app.year == y) & (app.dec_level == "FI")].applied.sum(),
            "repeat_applications": app[(app.year == y) & (app.dec_level == "RA")].applied.sum(),
        }
        fi = dec[(dec.year == y) & (dec.dec_level == "FI")]
        for c in ["recognized", "other", "rejected", "closed", "total"]:
            nat["fi_" + c] = fi["dec_" + c].sum()
        g = gy[gy.year == y]
        for q, v in nat.items():
            rows.append({"year": y, "quantity": q, "national_total": int(v), "sum_of_groups": int(g[q].sum()),
                         "difference": int(g[q].sum() - v)})
    return pd.DataFrame(rows)


def group_summary(gy: pd.DataFrame) -> pd.DataFrame:
    """2014-2019 summary per group with the safe-country flag (rule: at least half of the group's
    new applications 2014-2019 came from countries on the Dutch list of 2016-2019)."""
    s = gy[gy.year.between(*GROUP_YEARS)].groupby("group").sum(numeric_only=True).reindex(GROUP_ORDER)
    granted = s.fi_recognized + s.fi_other
    out = pd.DataFrame({
        "group": s.index,
        "label": [LABELS[g] for g in s.index],
        "new_applications_2014_2019": s.new_applications.astype(int).values,
        "share_new_2014_2019": (s.new_applications / s.new_applications.sum()).round(4).values,
        "grant_rate_2014_2019": (granted / (granted + s.fi_rejected)).round(4).values,
        "safe_country_share_2014_2019": (s.safe_country_new_applications / s.new_applications).round(4).values,
    })
    out["safe_country"] = out.safe_country_share_2014_2019 >= 0.5
    out["named"] = out.group.isin(list(NAMED_GROUPS))
    return out


def group_tables_for_fit(dec: pd.DataFrame, eu: pd.DataFrame, origins: pd.DataFrame):
    """Eurostat orders and returns by group x year, UNHCR decisions without a permit by group x
    year (first instance and repeat: rejected + otherwise closed) and the 2014-2016 cohort mix of
    first-instance decisions without a permit."""
    grp = origins.set_index("iso3").group
    e = eu[eu.iso3 != "TOTAL"].assign(group=lambda d: d.iso3.map(grp))
    orders = e.pivot_table(index="group", columns="year", values="ordered_to_leave", aggfunc="sum").fillna(0)
    rets = e.pivot_table(index="group", columns="year", values="returned", aggfunc="sum").fillna(0)
    d = dec[dec.dec_level.isin(["FI", "RA"])].assign(group=lambda x: x.coo_iso.map(grp),
                                                      no_permit=lambda x: x.dec_rejected + x.dec_closed)
    d["year"] = d.year.astype(int)
    no_permit = d.pivot_table(index="group", columns="year", values="no_permit", aggfunc="sum").fillna(0)
    c = d[(d.dec_level == "FI") & d.year.between(*rf.COHORT_YEARS)]
    cohort = c.groupby("group").no_permit.sum()
    return orders, rets, no_permit, cohort


def fit_tables(f: rf.ReturnFit, orders: pd.DataFrame, rets: pd.DataFrame, dtv: pd.DataFrame):
    """The per-group fit table and the check table (in-sample and held-out errors)."""
    p = f.probs
    dep = p[["independent", "forced", "unsupervised"]]
    dep_share = dep.div(dep.sum(axis=1), axis=0)
    eu_years = list(range(rf.EUROSTAT_YEARS[0], rf.EUROSTAT_YEARS[1] + 1))
    table = pd.DataFrame({
        "group": p.index,
        "eurostat_orders_2012_2016": orders.reindex(p.index)[eu_years].sum(axis=1).astype(int).values,
        "eurostat_returns_2012_2016": rets.reindex(p.index)[eu_years].sum(axis=1).astype(int).values,
        "returns_per_order": f.eurostat.r.round(4).values,
        "p_independent": p.independent.round(4).values,
        "p_forced": p.forced.round(4).values,
        "p_unsupervised": p.unsupervised.round(4).values,
        "p_still_present": p.still_present.round(4).values,
        "forced_share_of_aantoonbaar": p.forced_share_of_aantoonbaar.round(4).values,
        "departure_share_independent": dep_share.independent.round(4).values,
        "departure_share_forced": dep_share.forced.round(4).values,
        "departure_share_unsupervised": dep_share.unsupervised.round(4).values,
        "mean_months_to_departure": round(f.eurostat.tau, 2),
        "departure_weight_2018_2019": f.weights_2018_2019.reindex(p.index).round(4).values,
    })
    rows = [
        {"check": "national_param", "quantity": "lambda", "year": "", "observed": "", "predicted": round(f.outcome.lam, 4), "error": ""},
        {"check": "national_param", "quantity": "kappa", "year": "", "observed": "", "predicted": round(f.outcome.kappa, 4), "error": ""},
        {"check": "national_param", "quantity": "g0", "year": "", "observed": "", "predicted": round(f.outcome.g0, 4), "error": ""},
        {"check": "national_param", "quantity": "g1", "year": "", "observed": "", "predicted": round(f.outcome.g1, 4), "error": ""},
        {"check": "national_param", "quantity": "tau_months", "year": "", "observed": "", "predicted": round(f.eurostat.tau, 3), "error": ""},
        {"check": "national_param", "quantity": "count_scale", "year": "", "observed": "", "predicted": round(f.scale, 4), "error": ""},
    ]
    obs = dtv.set_index("year")
    for y in range(rf.DTV_REPORT_YEARS[0], rf.DTV_REPORT_YEARS[1] + 1):
        kind = ("dtv_holdout" if y == rf.DTV_CHECK_YEAR else
                "dtv_fit" if rf.DTV_FIT_YEARS[0] <= y <= rf.DTV_FIT_YEARS[1] else "dtv_before_fit")
        tot = obs.loc[y, ["independent", "forced", "unsupervised"]].sum()
        for k in ("independent", "forced", "unsupervised"):
            o_sh = obs.loc[y, k] / tot
            rows.append({"check": kind, "quantity": f"share_{k}", "year": y, "observed": round(o_sh, 4),
                         "predicted": round(f.shares.loc[y, k], 4), "error": round(f.shares.loc[y, k] - o_sh, 4)})
        pred_tot = f.counts.loc[y].sum()
        rows.append({"check": kind, "quantity": "departures_total", "year": y, "observed": int(tot),
                     "predicted": round(pred_tot, 1), "error": round(pred_tot / tot - 1, 4)})
    # 2018-2019 weighted reproduction of the national split
    o = obs.loc[[2018, 2019], ["independent", "forced", "unsupervised"]].sum()
    o = o / o.sum()
    w = f.weights_2018_2019
    dep_share_w = (dep_share.mul(w, axis=0)).sum()
    for k in ("independent", "forced", "unsupervised"):
        rows.append({"check": "weighted_2018_2019", "quantity": f"share_{k}", "year": "2018-2019",
                     "observed": round(o[k], 4), "predicted": round(dep_share_w[k], 4),
                     "error": round(dep_share_w[k] - o[k], 4)})
    # Eurostat: 2016 held out of the check fit; group returns and national total
    pred16 = rf.predict_eurostat(f.eurostat_check, orders.reindex(p.index).fillna(0), range(2016, 2017))[2016]
    obs16 = rets.reindex(p.index).fillna(0)[2016]
    for g in p.index:
        rows.append({"check": "eurostat_holdout", "quantity": f"returns_{g}", "year": 2016, "observed": int(obs16[g]),
                     "predicted": round(pred16[g], 1), "error": round(pred16[g] / max(obs16[g], 1) - 1, 4)})
    rows.append({"check": "eurostat_holdout", "quantity": "returns_total", "year": 2016, "observed": int(obs16.sum()),
                 "predicted": round(pred16.sum(), 1), "error": round(pred16.sum() / obs16.sum() - 1, 4)})
    # Rekenkamer anchors
    coh = f.probs.aantoonbaar
    rows.append({"check": "anchor_fit", "quantity": "aantoonbaar_maghreb_cohort_2014_2016", "year": "2014-2016",
                 "observed": rf.MAGHREB_COHORT_AANTOONBAAR, "predicted": round(coh["maghreb"], 4),
                 "error": round(coh["maghreb"] - rf.MAGHREB_COHORT_AANTOONBAAR, 4)})
    rows.append({"check": "anchor_check", "quantity": "aantoonbaar_rejected_cohort_2014_2016", "year": "2014-2016",
                 "observed": rf.COHORT_AANTOONBAAR, "predicted": round(f.cohort_verified, 4),
                 "error": round(f.cohort_verified - rf.COHORT_AANTOONBAAR, 4)})
    rows.append({"check": "anchor_fit", "quantity": "forced_share_west_balkans_vs_albania_2017", "year": 2017,
                 "observed": round(rf.ALBANIA_2017_FORCED_SHARE, 4),
                 "predicted": round(f.probs.loc["west_balkans", "forced_share_of_aantoonbaar"], 4),
                 "error": round(f.probs.loc["west_balkans", "forced_share_of_aantoonbaar"] - rf.ALBANIA_2017_FORCED_SHARE, 4)})
    return table, pd.DataFrame(rows)


def main(raw: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    app, dec, eu = slices(raw)
    app.to_csv(OUT / "unhcr_nl_asylum_applications.csv", index=False)
    dec.to_csv(OUT / "unhcr_nl_asylum_decisions.csv", index=False)
    eu.to_csv(OUT / "eurostat_nl_orders_returns_2012_2016.csv", index=False)
    safe_df = pd.read_csv(OUT / "nl_safe_countries_of_origin.csv")
    safe = set(safe_df[safe_df.listed_2016_2019 == 1].iso3)
    if "XKX" in safe:
        safe.add("SRB")  # UNHCR reports Kosovo under SRB; Serbia itself is listed too
    origins = origin_table(app, dec, eu)
    origins[["group", "iso3", "origin_name", "grant_rate_2014_2019"]].assign(
        grant_rate_2014_2019=lambda d: d.grant_rate_2014_2019.round(4)).sort_values(
        ["group", "iso3"], key=lambda s: s.map({g: i for i, g in enumerate(GROUP_ORDER)}) if s.name == "group" else s
    ).to_csv(OUT / "nl_nationality_groups.csv", index=False)
    gy = group_year(app, dec, origins, safe)
    chk = national_check(app, dec, gy)
    chk.to_csv(OUT / "nl_group_year_check.csv", index=False)
    if (chk.difference != 0).any():
        raise SystemExit(f"group totals differ from national totals:\n{chk[chk.difference != 0]}")
    summary = group_summary(gy)
    summary.to_csv(OUT / "nl_groups.csv", index=False)
    gy["safe_country_group"] = gy.group.map(summary.set_index("group").safe_country)
    gy.to_csv(OUT / "nl_group_year.csv", index=False)
    orders, rets, no_permit, cohort = group_tables_for_fit(dec, eu, origins)
    dtv = pd.read_csv(OUT / "dtv_departures_2014_2019.csv")
    f = rf.fit_returns(orders, rets, no_permit, cohort, dtv.set_index("year"))
    table, check = fit_tables(f, orders, rets, dtv)
    table.to_csv(OUT / "nl_group_return_fit.csv", index=False)
    check.to_csv(OUT / "nl_return_fit_check.csv", index=False)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]))
