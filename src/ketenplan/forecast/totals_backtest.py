"""Backtest of the forecast sample paths' h-month totals (P3.8, P0.5): at every rolling origin the
sample paths are drawn exactly as :func:`ketenplan.forecast.api.forecast` draws them, and the
p10-p90 (p5-p95) of their totals is scored against the actual totals, uncalibrated beside reconciled
(:mod:`ketenplan.forecast.totals`). Written by ``ketenplan forecast-backtest`` as
``backtest_totals.csv`` and ``backtest_totals_rows.csv``; docs/forecast.md."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketenplan._stats import wilson_interval
from ketenplan.errors import DataError
from ketenplan.forecast import api
from ketenplan.forecast import backtest as bt
from ketenplan.forecast import data as fdata
from ketenplan.forecast import models as fm
from ketenplan.forecast.totals import path_months, total_quantiles, totals_library


def totals_backtest(countries: list[str] | str = "all", horizons=(6, 12), *, n_paths: int = 1000, seed: int = 0,
                    reconcile: bool = True, first_eval: str = bt.FIRST_EVAL, calibration: str | None = None,
                    scale: str | None = None) -> pd.DataFrame:
    """Rolling-origin backtest of the sample paths' h-month totals (months 1..h summed).

    At every origin of the error library from ``first_eval`` on whose months 1..max(h, 12) are
    observed, ``n_paths`` sample paths are drawn exactly as :func:`ketenplan.forecast.api.forecast`
    draws them at that origin with ``seed`` (the point forecast recovered from the library, the
    country's calibrated trajectories, the cap, and with ``reconcile`` the calibrated totals), over
    max(h, 12) months (24 for h > 12), so the totals at h = 6 come from the same first-year paths a
    chain run uses. One row per (country, origin, h): ``actual`` and ``point`` totals, the paths'
    total quantiles ``p05, p10, p50, p90, p95``, ``prev12`` (the actual total of the 12 months up to
    the origin), ``in80`` / ``in90`` (actual inside p10-p90 / p5-p95), and ``path_cov80``: the share
    of months 1..h whose outcome lies inside the paths' own monthly p10-p90.
    """

    lib = totals_library()
    p = bt.Panel.load()
    codes = list(lib.codes) if countries in ("all", None) else [fdata.normalise_country(c) for c in
                                                                ([countries] if isinstance(countries, str) else countries)]
    horizons = sorted({int(h) for h in horizons})
    if not horizons or horizons[0] < 1 or horizons[-1] > bt.H_MAX:
        raise DataError(f"totals backtest horizons {horizons}: expected steps between 1 and {bt.H_MAX} months")
    col = {str(m): t for t, m in enumerate(p.months)}
    rows = []
    for code in codes:
        if code not in lib.codes:
            raise DataError(f"totals backtest: {code} has no forecasts in the error library")
        i = lib.codes.index(code)
        r = p.codes.index(code)
        for j, o in enumerate(lib.origins):
            if o < first_eval:
                continue
            T = col[o]
            origin = p.months[T]
            act = fm.from_log(lib.actual[i, j])
            paths_by_len: dict[int, np.ndarray] = {}
            for h in horizons:
                Hp = path_months(h)
                pt = lib.point[i, j, :Hp]
                if not (np.all(np.isfinite(pt)) and np.all(np.isfinite(act[:Hp]))):
                    continue
                sig = float(lib.sigma[i, j])
                if Hp not in paths_by_len:
                    traj, _, _ = api._trajectories(origin, code)
                    q = total_quantiles(code, origin, sig, calibration=calibration, scale=scale)[0] \
                        if reconcile else None
                    paths_by_len[Hp] = api.sample_paths(pt, sig, traj, n_paths, api._rng(seed),
                                                        api._cap(p.Y[r, :T + 1]), q)
                Y = paths_by_len[Hp][:, :h]
                tot = Y.sum(axis=1)
                qs = np.quantile(tot, (0.05, 0.10, 0.5, 0.90, 0.95))
                a = float(act[:h].sum())
                mlo, mhi = np.quantile(Y, [0.10, 0.90], axis=0)
                prev = p.Y[r, max(T - 11, 0):T + 1]
                rows.append({"geo": code, "origin": o, "h": h, "actual": a, "point": float(fm.from_log(pt[:h]).sum()),
                             "p05": qs[0], "p10": qs[1], "p50": qs[2], "p90": qs[3], "p95": qs[4],
                             "prev12": float(prev.sum()) if len(prev) == 12 and np.all(np.isfinite(prev)) else np.nan,
                             "in80": bool(qs[1] <= a <= qs[3]), "in90": bool(qs[0] <= a <= qs[4]),
                             "path_cov80": float(np.mean((act[:h] >= mlo) & (act[:h] <= mhi)))})
    return pd.DataFrame(rows)


def totals_summary(rows: pd.DataFrame, band: tuple[float, float] = (0.70, 0.90)) -> pd.DataFrame:
    """Coverage and sharpness of :func:`totals_backtest` rows, pooled (``geo = "all"``) and per country.

    Per (geo, h): ``n`` origins, ``inside80`` count, ``coverage80`` with its Wilson 90% interval
    (``wilson_lo``, ``wilson_hi``; outcomes of neighbouring origins overlap, so the interval is too
    narrow), ``coverage90`` (p5-p95), ``width80_rel`` the median (p90 - p10) / point total,
    ``p90_prev12`` the median and ``p90_prev12_max`` the largest p90 / previous 12 months' actual
    total, ``path_cov80`` the mean share of months inside the paths' monthly p10-p90. The pooled
    row also counts the countries whose coverage80 lies in ``band`` (``countries_in_band``).
    """
    out = []
    for (geo, h), d in [(("all", h), d) for h, d in rows.groupby("h")] + list(rows.groupby(["geo", "h"])):
        k, n = int(d["in80"].sum()), len(d)
        lo, hi = wilson_interval(k, n)
        rec = {"geo": geo, "h": int(h), "n": n, "inside80": k, "coverage80": k / n if n else np.nan,
               "wilson_lo": lo, "wilson_hi": hi, "coverage90": float(d["in90"].mean()),
               "width80_rel": float(((d["p90"] - d["p10"]) / d["point"]).median()),
               "p90_prev12": float((d["p90"] / d["prev12"]).median()),
               "p90_prev12_max": float((d["p90"] / d["prev12"]).max()),
               "path_cov80": float(d["path_cov80"].mean())}
        if geo == "all":
            cov = d.groupby("geo")["in80"].mean()
            rec["countries_in_band"] = int(((cov >= band[0]) & (cov <= band[1])).sum())
            rec["countries"] = int(cov.size)
        out.append(rec)
    return pd.DataFrame(out)
