"""Backtest the chain against observed facts: ``date,quantity,value`` rows.

Dates are YYYY, YYYY-MM or YYYY-MM-DD. A stock is taken on that day, or on the last day of that
month or year; a flow (per year) is summed over that year or month. p10/p90 come from replicates.
Quantities the model does not know are listed as skipped; ``read_facts`` checks them before any
simulation (a file with none that is known is an error naming the known quantities).

Errors are simulated minus observed: ``error_abs`` in the quantity's own unit (every row) and
``error_pct`` relative to the observed value. A fact observed as 0 has no percentage error: its
``error_pct`` is NaN (``error_abs`` still says how far off the simulation is), and it is left out of
the quantity's median absolute percentage error; ``mdape_excluded`` counts such rows. The summary
also gives the median absolute error (``mdae``), the signed bias (``bias_pct``, median of
``error_pct``) and the 80% band coverage (``coverage_80``: share of facts within p10-p90).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ketenplan.engine.results import Results
from ketenplan.errors import DataError, data_error

log = logging.getLogger(__name__)
DUTCH_DAY_RE = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$")

DATE_RE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")

# quantity -> (kind, how): stocks from the derived stock table; flows from the flow table
STOCKS = {"coa_occupancy": "coa_occupancy", "permit_holders_in_reception": "permit_holders_in_reception",
          "ind_pending_asylum": "ind_pending", "asylum_pending_all_levels": "asylum_pending_all_levels"}
FLOWS = {"permits_granted_asylum": ("grants", "nareis_arrivals", "resettled"),
         "departures_independent": ("departures_independent",),
         "departures_forced": ("departures_forced",),
         "departures_unsupervised": ("departures_unsupervised",),
         # DT&V departures of the cases the IND handed over (facts: all departures x the IND's share of
         # DT&V intake; the three kinds above count police, KMar and other intake too)
         "departures_from_ind_intake": ("departures_independent", "departures_forced", "departures_unsupervised")}
OTHER = {"ind_avg_decision_time_weeks"}
#: first-instance decisions the decision time averages over: the national procedure's (tracks 2 and 4,
#: and Dublin claims whose responsibility lapsed to the Netherlands). Dublin transfers and absconding
#: are left out: the replay dates them at the transfer or disappearance, not at the IND's Dublin
#: decision, and the source's split (track 2 ~3 weeks, AA ~16, VA ~44: P6) names no track 1 time
#: (docs/backtest.md gives the figure with them as a bound).
DECISION_TIME_OUTCOMES = ("granted", "rejected", "granted_on_appeal")
KNOWN = set(STOCKS) | set(FLOWS) | OTHER


SUMMARY_COLUMNS = ["quantity", "rows", "mdape_pct", "mdape_excluded", "mdae", "bias_pct", "coverage_80", "band"]


@dataclass
class Backtest:
    table: pd.DataFrame  # date, quantity, observed, simulated, p10, p90, error_pct (NaN if observed 0), error_abs
    # quantity, rows, mdape_pct (rows with observed > 0), mdape_excluded (observed 0), mdae (median
    # absolute error, the quantity's unit), bias_pct (median signed % error: > 0 simulates too much),
    # coverage_80 (share of facts inside the simulated p10-p90), band (what the p10-p90 band holds)
    summary: pd.DataFrame
    skipped: pd.DataFrame  # date, quantity, reason


def read_facts(path: str | Path, *, option: str = "--facts") -> pd.DataFrame:
    """Read and check a facts CSV ``date,quantity,value``; errors name the option, file, row and column.

    The file may be written as a spreadsheet writes it (semicolons, decimal commas, Windows-1252
    text: :func:`ketenplan._io.read_csv_table`). Quantities are checked against ``KNOWN`` before
    any simulation: a file with no known quantity is an error that lists them; facts of unknown
    quantities beside known ones are logged (with the known quantities) and later skipped.
    """
    from ketenplan._io import parse_numbers, read_csv_table

    df = read_csv_table(path, what="facts table (observed values)", columns=["date", "quantity", "value"],
                        option=option)
    src = df.attrs["source"]
    if df.empty:
        raise data_error(src, "no rows", expected="at least one fact below the header date,quantity,value")
    values = parse_numbers(df, "value")
    dates = []
    for row, r in df.iterrows():
        date = r["date"]
        if (m := DUTCH_DAY_RE.match(date)) and DATE_RE.match(iso := f"{m[3]}-{int(m[2]):02d}-{int(m[1]):02d}"):
            date = iso  # 31-12-2014: a day as Dutch-locale Excel writes it
        if not DATE_RE.match(date):
            raise data_error(src, "bad date", row=row, column="date",
                             expected="YYYY, YYYY-MM or YYYY-MM-DD (or a day as D-M-YYYY)", found=r["date"],
                             fix="write the date as text; a spreadsheet may have turned 2014-01 into a date such "
                                 "as 'jan-14': format the column as text before typing the dates")
        dates.append(date)
        v = values[row]
        if not np.isfinite(v) or v < 0:
            what = "value is not a number" if v != v else "value must be a finite number >= 0"
            raise data_error(src, what, row=row, column="value", expected="a finite number >= 0", found=r["value"])
        if not r["quantity"]:
            raise data_error(src, "empty quantity", row=row, column="quantity", expected="a quantity name")
    unknown = ~df["quantity"].isin(KNOWN)
    if unknown.all():
        raise data_error(src, "no known quantity", row=df.index[0], column="quantity",
                         expected=f"facts of {', '.join(sorted(KNOWN))}", found=df["quantity"].iloc[0])
    if unknown.any():
        log.warning("%s: %d fact(s) of unknown quantities are skipped (%s); known quantities: %s", src,
                    int(unknown.sum()), ", ".join(dict.fromkeys(df["quantity"][unknown])), ", ".join(sorted(KNOWN)))
    out = pd.DataFrame({"date": np.array(dates, dtype=object), "quantity": df["quantity"].to_numpy(object),
                        "value": values.to_numpy(float)})
    dup = out.duplicated(["date", "quantity"], keep="first").to_numpy()
    if dup.any():
        i = int(dup.argmax())
        raise data_error(src, "duplicate fact", row=df.index[i], column="date,quantity",
                         expected="one value per date and quantity", found=f"{out.date[i]},{out.quantity[i]}")
    return out


def _span(date: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    if len(date) == 4:
        return pd.Timestamp(f"{date}-01-01"), pd.Timestamp(f"{date}-12-31")
    if len(date) == 7:
        p = pd.Period(date, freq="M")
        return p.start_time.normalize(), p.end_time.normalize()
    t = pd.Timestamp(date)
    return t, t


def simulated_values(res: Results, quantity: str, date: str) -> np.ndarray | None:
    """The quantity on/over ``date`` for each replicate, or None when outside the simulated span."""
    lo, hi = _span(date)
    monthly = res.metadata.get("resolution", "day") == "month"
    first = res.flows.date.min()
    last = res.flows.date.max() + (pd.offsets.MonthEnd(0) if monthly else pd.Timedelta(0))
    if hi < first or hi > last or lo < first:
        return None
    if quantity in STOCKS:
        on = hi
        if monthly:  # stocks per month: the value on the month's last day is kept, not other days
            if hi != hi + pd.offsets.MonthEnd(0):
                raise DataError(f"the fact {date} {quantity} needs the stock on {hi:%Y-%m-%d}, but the run kept "
                                "stocks per month (their last day only); simulate with resolution='day'")
            on = hi.replace(day=1)
        s = res.stocks[(res.stocks.dimension == "derived") & (res.stocks.category == STOCKS[quantity])
                       & (res.stocks.date == on)]
        return s.sort_values("replicate").persons.to_numpy(float)
    if quantity in FLOWS:
        f = res.flows[(res.flows.flow.isin(FLOWS[quantity])) & (res.flows.date >= lo) & (res.flows.date <= hi)]
        if monthly and (lo.day != 1 or hi != hi + pd.offsets.MonthEnd(0)):
            raise DataError(f"the fact {date} {quantity} sums a flow over part of a month, but the run kept flows "
                            "per month; simulate with resolution='day'")
        return f.groupby("replicate", observed=True).persons.sum().sort_index().to_numpy(float)
    if quantity == "ind_avg_decision_time_weeks":
        # the IND's lead time ("doorlooptijd"): mean weeks from the signed application (= registration) to
        # the IND's decision, over the persons decided in the month, FIRST applications only (ind.nl
        # "Doorlooptijden asielaanvraag"; NRC 2018-09-10: those decided in August 2018 waited 19 weeks on
        # average; Tweede Kamer ah-tk-20182019-349, P6). Subsequent applications are a different series;
        # a decision that a court later overturns (granted_on_appeal) was a first-instance rejection.
        j = res.journeys
        if lo == hi:  # a day: use its month
            lo, hi = _span(date[:7])
        m = (j.decision_date >= lo) & (j.decision_date <= hi) & (j.stream == "first") \
            & j.outcome.isin(DECISION_TIME_OUTCOMES)
        sel = j[m]
        if sel.empty:
            return None
        w = (sel.decision_date - sel.registration_date).dt.days / 7.0 * sel.persons
        return (w.groupby(sel.replicate).sum() / sel.persons.groupby(sel.replicate).sum()).to_numpy(float)
    return None


def model_error_sds(res: Results) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per replicate (rows, in replicate order) the model error the run's parameter sets carry (row
    ``replicate % n``): its bias and its scale per quantity [log units]; no columns when the run applied
    none."""
    from ketenplan.model_error import BIAS_COLUMN, COLUMN
    from ketenplan.scenario.parameter_sets import load_info

    name = res.scenario.simulation.parameter_sets if res.scenario is not None else ""
    n = int(res.metadata["replicates"])
    if not name:
        return pd.DataFrame(index=range(n)), pd.DataFrame(index=range(n))
    info = load_info(name)
    rows = [i % len(info) for i in range(n)]

    def part(prefix: str) -> pd.DataFrame:
        cols = [c for c in info.columns if c.startswith(prefix)]
        return info[cols].iloc[rows].reset_index(drop=True).rename(columns=lambda c: c[len(prefix):])

    return part(BIAS_COLUMN), part(COLUMN)


def band_label(res: Results, quantity: str, sds: pd.DataFrame) -> str:
    """What the p10-p90 band of ``quantity`` holds."""
    parts = ["simulation noise"]
    if res.scenario is not None and res.scenario.simulation.parameter_sets:
        parts.append("parameter sets")
    if quantity in sds.columns:
        parts.append("model error")
    return " + ".join(parts)


def backtest(facts: pd.DataFrame, res: Results, *, model_error: bool = True) -> Backtest:
    """Compare observed facts with the simulation (all replicates). With ``model_error`` (default) the
    bands include the model error the run's parameter sets carry, if any (module docstring)."""
    from ketenplan.model_error import band

    biases, sds = model_error_sds(res) if model_error else (pd.DataFrame(), pd.DataFrame())
    rows, skipped = [], []
    for r in facts.itertuples(index=False):
        if r.quantity not in KNOWN:
            skipped.append((r.date, r.quantity, "unknown quantity"))
            continue
        vals = simulated_values(res, r.quantity, r.date)
        if vals is None or len(vals) == 0:
            skipped.append((r.date, r.quantity, "outside the simulated span"))
            continue
        sim = float(np.mean(vals))
        err = (sim - r.value) / r.value * 100 if r.value > 0 else float("nan")  # no % of an observed 0
        sd = sds[r.quantity].to_numpy(float)[: len(vals)] if r.quantity in sds.columns else np.zeros(len(vals))
        b = biases[r.quantity].to_numpy(float)[: len(vals)] if r.quantity in biases.columns else np.zeros(len(vals))
        p10, p90 = band(vals, sd, 0.1, b), band(vals, sd, 0.9, b)
        rows.append((r.date, r.quantity, r.value, round(sim, 1), round(p10, 1), round(p90, 1), round(err, 1),
                     round(sim - r.value, 1)))
    table = pd.DataFrame(rows, columns=["date", "quantity", "observed", "simulated", "p10", "p90", "error_pct",
                                        "error_abs"])
    summary = (table.assign(ape=table.error_pct.abs().where(table.observed > 0), zero=table.observed <= 0,
                            ae=table.error_abs.abs(), inside=(table.observed >= table.p10) & (table.observed <= table.p90))
               .groupby("quantity", sort=False)
               .agg(rows=("ape", "size"), mdape_pct=("ape", "median"), mdape_excluded=("zero", "sum"),
                    mdae=("ae", "median"), bias_pct=("error_pct", "median"), coverage_80=("inside", "mean"))
               .reset_index()) if len(table) else pd.DataFrame(columns=SUMMARY_COLUMNS)
    if len(table):
        summary["band"] = [band_label(res, q, sds) for q in summary.quantity]
    return Backtest(table, summary, pd.DataFrame(skipped, columns=["date", "quantity", "reason"]))


def chart(bt: Backtest, title: str = "Backtest: simulated p10-p90 against the facts"):
    """Plotly figure, one panel per quantity: each fact (dot) beside the simulated mean (diamond)
    and its p10-p90 band (bar) at the fact's date."""
    from plotly.subplots import make_subplots

    qs = list(dict.fromkeys(bt.table.quantity))
    fig = make_subplots(rows=max(len(qs), 1), cols=1, subplot_titles=qs, vertical_spacing=0.08 / max(len(qs), 1) * 4)
    for k, q in enumerate(qs, start=1):
        t = bt.table[bt.table.quantity == q]
        x = [_span(d)[1] if len(d) < 10 else pd.Timestamp(d) for d in t.date]
        # the band is drawn on its own: with a model error bias it can lie beside the simulated mean
        fig.add_scatter(x=x, y=(t.p10 + t.p90) / 2, mode="markers", marker={"size": 1, "color": "#1f77b4"},
                        error_y={"type": "data", "symmetric": True, "array": (t.p90 - t.p10) / 2, "width": 6},
                        name="p10-p90 band", showlegend=k == 1, row=k, col=1)
        fig.add_scatter(x=x, y=t.simulated, mode="markers", marker={"symbol": "diamond", "color": "#1f77b4"},
                        name="simulated (mean)", showlegend=k == 1, row=k, col=1)
        fig.add_scatter(x=x, y=t.observed, mode="markers", marker={"color": "#d62728", "size": 9}, name="fact",
                        showlegend=k == 1, row=k, col=1)
    fig.update_layout(title=title, template="plotly_white", height=260 * max(len(qs), 1),
                      legend={"orientation": "h"})
    return fig
