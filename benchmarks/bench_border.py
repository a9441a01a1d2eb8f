"""Border-queue benchmark (P1.2): the numba kernel against the SimPy reference on identical inputs.

Run: python benchmarks/bench_border.py [--replications 5] [--seed 1]

Both engines get the same drawn travellers (arrival times, routing, service times) of the default
Schiphol entry day (40,000 travellers a day, 30 desks, 39 eGates, the morning wave overloads the
desks); they must give the same waits (max difference printed, tolerance 1e-9 s). Times are for
the queue only (drawing excluded, the same for both). The ratio, not the absolute time, is the
figure to compare across machines. Also timed: one whole ``run_day`` of 100 days and the
stationary Erlang C check of ``ketenplan border --arrivals-per-hour 1200 --desks 20``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from ketenplan.border import day_from_params, draw_travellers, run_day, simulate_waits, stationary_day
from ketenplan.border.queue import erlang_c_wait
from ketenplan.testing_border import simpy_day_waits


def timed(f, *a, **k):
    t = time.perf_counter()
    r = f(*a, **k)
    return r, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replications", type=int, default=5, help="days given to both engines")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    day = day_from_params()
    simulate_waits(day, draw_travellers(day, 1, 0))  # compile / load the numba cache outside the timing
    trav, t_draw = timed(draw_travellers, day, args.replications, args.seed)
    ours = [timed(simulate_waits, day, trav) for _ in range(3)]
    w_ours, t_ours = ours[0][0], min(t for _, t in ours)
    w_ref, t_ref = timed(simpy_day_waits, day, trav)
    diff = float(np.max(np.abs(w_ours - w_ref)))
    n = len(trav)
    print(f"default Schiphol day x {args.replications} (seed {args.seed}): {n:,} travellers "
          f"(draw {t_draw:.2f} s, the same for both)")
    print(f"  numba kernel  {t_ours:8.3f} s  ({n / t_ours:12,.0f} travellers/s)")
    print(f"  SimPy         {t_ref:8.3f} s  ({n / t_ref:12,.0f} travellers/s)")
    print(f"  SimPy / numba {t_ref / t_ours:8.0f}x   max |wait difference| {diff:.2e} s "
          f"-> {'identical' if diff <= 1e-9 else 'DIFFERENT'}")
    print(f"  longest wait {w_ours.max() / 60:.1f} min; p90 over the day {np.quantile(w_ours, 0.9) / 60:.2f} min")

    run, t_run = timed(run_day, day, 100, args.seed)
    _, t_tab = timed(run.waits_table)
    print(f"run_day, default day x 100 ({len(run.travellers):,} travellers): {t_run:.2f} s, table {t_tab:.2f} s")

    st, t_st = timed(run_day, stationary_day(1200, 20, 0, service_seconds=45), 348, args.seed)
    s = st.summary()
    ec = erlang_c_wait(1200, 20, 45)
    print(f"stationary check (1200/h, 20 desks, 45 s, 348 days, {int(s['travellers']):,} travellers): {t_st:.2f} s; "
          f"mean wait {s['mean_wait_s']:.4f} s vs Erlang C {ec['mean_wait_s']:.4f} s "
          f"({s['mean_wait_s'] / ec['mean_wait_s'] - 1:+.2%}); P(wait>0) {s['p_wait']:.5f} vs {ec['p_wait']:.5f} "
          f"({s['p_wait'] / ec['p_wait'] - 1:+.2%})")
    if diff > 1e-9:
        raise SystemExit("numba and SimPy waits differ")


if __name__ == "__main__":
    main()
