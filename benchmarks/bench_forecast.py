"""Speed of the inflow backtest, measured against statsmodels' ETS on the same series.

Prints (never asserts):
* the wall time of the full rolling-origin backtest (all shipped countries, all models, 2 workers);
* the time a single ETS(A,N,A) fit takes in statsforecast and in statsmodels on the same
  training windows (log scale, every origin of every country, in one process);
* the ratios: statsmodels ETS over statsforecast ETS per fit, and the statsmodels time for the
  ETS fits alone over the whole ketenplan backtest;
* the bars of docs/forecast.md from that run: the combination's MASE ratio at step h and over the
  path 1..h, pooled 80% coverage, the Dutch 80% coverage and the number of countries whose 80%
  interval covers 70-90% at h = 6 and 12, and the time of the per-country calibration against the
  pooled one on the same errors.
"""

from __future__ import annotations

import time
import warnings

import numpy as np


def main() -> None:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    from ketenplan.forecast import models as fm
    from ketenplan.forecast.backtest import Panel, origins, run_backtest

    run_backtest(["NL"], horizons=(1,), n_jobs=1)  # warm-up (imports, first calls)
    t0 = time.perf_counter()
    res = run_backtest("all", horizons=(1, 3, 6, 12, 24), n_jobs=2)
    full = time.perf_counter() - t0

    p = Panel.load()
    rows = list(range(len(p.codes)))
    windows = []
    for T in origins(p, rows):
        for r in rows:
            x = p.X[r, :T + 1]
            x = x[~np.isnan(x)]
            if len(x) >= 36:
                windows.append(x)
    t0 = time.perf_counter()
    for x in windows:
        fm.single("ets", x, 24)
    t_sf = time.perf_counter() - t0
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for x in windows:
            ExponentialSmoothing(x, trend=None, seasonal="add", seasonal_periods=12).fit().forecast(24)
    t_sm = time.perf_counter() - t0
    n = len(windows)
    print(f"full backtest: {len(res.settings['countries'])} countries, {len(res.settings['origins'])} origins, "
          f"{len(res.settings['models'])} models, 2 workers: {full:.1f} s")
    print(f"ETS fits on the same {n} training windows (one process): statsforecast {t_sf:.2f} s "
          f"({1000 * t_sf / n:.1f} ms/fit), statsmodels {t_sm:.2f} s ({1000 * t_sm / n:.1f} ms/fit)")
    print(f"ratio statsmodels ETS / statsforecast ETS per fit: {t_sm / t_sf:.2f}")
    print(f"ratio statsmodels ETS fits alone / full ketenplan backtest (all models): {t_sm / full:.2f}")
    from ketenplan.forecast import backtest as bt

    m = res.metrics.set_index(["model", "h"])
    b = res.metrics_by_country[res.metrics_by_country["model"] == "combo"]
    cov = b.pivot(index="geo", columns="h", values="coverage80")
    for h in (6, 12):
        within = int(((cov[h] >= 0.70) & (cov[h] <= 0.90)).sum())
        print(f"h={h}: {within} of {len(cov)} countries' 80% intervals cover 70-90%; Netherlands "
              f"{cov.loc['NL', h]:.3f} (bar 0.75-0.85)")
    fc = res.forecasts[res.forecasts["model"] == "combo"]
    codes, origins = sorted(fc["geo"].unique()), sorted(fc["origin"].unique())
    U = np.full((len(codes), len(origins), 24), np.nan)
    U[fc["geo"].map({c: i for i, c in enumerate(codes)}), fc["origin"].map({o: i for i, o in enumerate(origins)}),
      fc["h"] - 1] = fc["u"]
    ot = np.asarray([np.datetime64(o, "M").astype(int) for o in origins])
    times = {}
    for method in ("pooled", bt.CALIBRATION):
        t0 = time.perf_counter()
        bt._interval_quantiles(U, ot, method)
        times[method] = time.perf_counter() - t0
    print(f"interval calibration of one model's errors: pooled {times['pooled']:.2f} s, {bt.CALIBRATION} "
          f"{times[bt.CALIBRATION]:.2f} s (ratio {times[bt.CALIBRATION] / times['pooled']:.1f})")
    for h in (6, 12, 24):
        print(f"h={h}: MASE combo / snaive = {m.loc[('combo', h), 'mase_ratio_snaive']:.3f} at step h, "
              f"{m.loc[('combo', h), 'mase_path_ratio_snaive']:.3f} over the path 1..h, "
              f"coverage80 = {m.loc[('combo', h), 'coverage80']:.3f}, coverage95 = {m.loc[('combo', h), 'coverage95']:.3f}")


if __name__ == "__main__":
    main()
