"""Return outcomes by group checked on years the fit did not see (2019 and 2020-2021, P4.1).

The fit (:mod:`ketenplan.returns.fit`, run by ``tools/derive_groups_returns.py``) used DT&V figures
up to 2018. Here the shipped fit (``nl_group_return_fit.csv``: per-group outcome probabilities and
the delay) predicts the departures of a later year from the cases entering the return process
that year, built exactly as in the fit (:func:`ketenplan.returns.fit.entries_proxy`: UNHCR
decisions without a permit by group, first instance and repeat, scaled with the DT&V intake of
2018, plus the non-asylum orders to leave of 2012-2016). Nothing of 2020 or later is tuned: the
only later inputs are the UNHCR decisions by group of those years; the observed departures
(``dtv_departures_heldout_2020_2021.csv``) are only compared with.

Published 2020-2021 figures are national (the verified departures of 2020 and the share without
supervision over 2020-2021) plus the two largest nationalities among the 2021 departures; no
return rates by nationality after 2019 were found (return_legal_integration.md, 'not found').
"""

from __future__ import annotations

import pandas as pd

from ketenplan.data import data_path
from ketenplan.returns import data as rd
from ketenplan.returns import fit as rf
from ketenplan.returns.groups import GROUP_ORDER

TYPES = ("independent", "forced", "unsupervised")
#: groups that pool many nationalities; a ranking check compares only the named groups
POOLED = ("other_high", "other_low")


def no_permit_by_group() -> pd.DataFrame:
    """UNHCR decisions without a permit (rejected + otherwise closed; first instance and repeat)
    by group x year [cases/year], from the shipped UNHCR NL rows."""
    dec = pd.read_csv(data_path("returns", "unhcr_nl_asylum_decisions.csv"))
    grp = rd.nationality_groups().drop_duplicates("iso3").set_index("iso3").group
    d = dec[dec.dec_level.isin(["FI", "RA"])].assign(group=lambda x: x.coo_iso.map(grp),
                                                      no_permit=lambda x: x.dec_rejected + x.dec_closed)
    d["year"] = d.year.astype(int)
    t = d.pivot_table(index="group", columns="year", values="no_permit", aggfunc="sum").fillna(0)
    return t.reindex(GROUP_ORDER).fillna(0)


def orders_by_group() -> pd.DataFrame:
    """Eurostat orders to leave by group x year 2012-2016 [persons/year] (shipped NL rows)."""
    eu = rd.eurostat_orders_returns()
    grp = rd.nationality_groups().drop_duplicates("iso3").set_index("iso3").group
    e = eu[eu.iso3 != "TOTAL"].assign(group=lambda d: d.iso3.map(grp))
    t = e.pivot_table(index="group", columns="year", values="ordered_to_leave", aggfunc="sum").fillna(0)
    return t.reindex(GROUP_ORDER).fillna(0)


def predict(years: range) -> dict[str, pd.DataFrame]:
    """Predicted departures by type [persons/year], group x year, scaled like the fit (count_scale)."""
    fit = rd.return_fit().set_index("group").reindex(GROUP_ORDER)
    probs = fit.rename(columns={f"p_{t}": t for t in TYPES})[list(TYPES)]
    tau = float(fit.mean_months_to_departure.iloc[0])
    dtv = rd.dtv_departures().set_index("year")
    np_ = no_permit_by_group()
    entries = rf.entries_proxy(np_, orders_by_group(), range(2010, max(years) + 1), dtv.loc[rf.INTAKE_SCALE_YEAR])
    check = rd.return_fit_check()
    scale = float(check.loc[(check.check == "national_param") & (check.quantity == "count_scale"), "predicted"].iloc[0])
    deps = rf.departures(entries, probs, tau, years)
    return {k: v * scale for k, v in deps.items()}


def observed() -> pd.DataFrame:
    """The held-out DT&V figures (year, quantity, value, source_url)."""
    return rd._read("dtv_departures_heldout_2020_2021.csv", {"year": "str", "quantity": "str", "value": "float",
                                                             "source_url": "str"})


def check_table() -> pd.DataFrame:
    """Observed vs predicted on the held-out years: quantity, year, observed, predicted, error
    (relative for counts, absolute for shares)."""
    obs = observed()
    deps = predict(range(2019, 2022))
    tot = pd.DataFrame({k: v.sum(axis=0) for k, v in deps.items()})
    rows = []
    for _, o in obs.iterrows():
        q, y = o.quantity, str(o.year)
        yrs = [int(x) for x in y.split("-")]
        yrs = list(range(yrs[0], yrs[-1] + 1))
        t = tot.loc[yrs].sum()
        if q == "verified_departures":
            p = float(t.independent + t.forced)
            err = (p - o.value) / o.value
        elif q == "share_unsupervised":
            p = float(t.unsupervised / t.sum())
            err = p - o.value
        elif q == "largest_group_rank":  # value: 1 = the named group with the most departures
            by = sum(v[yrs].sum(axis=1) for v in deps.values()).drop(list(POOLED))
            p = float(by.rank(ascending=False)[str(o.group_name)])
            err = p - o.value
        else:
            continue
        rows.append({"quantity": q, "year": y, "observed": float(o.value), "predicted": p, "error": err,
                     "source_url": o.source_url})
    return pd.DataFrame(rows)
