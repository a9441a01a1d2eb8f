"""Properties of the engine on real (shortened) scenarios: conservation, non-negativity, hard
capacities, reproducibility. run_compiled checks conservation on every day and raises otherwise."""

from __future__ import annotations

import datetime as dt
import platform
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketenplan.testing import small_scenario as small
from ketenplan.engine import registry as R
from ketenplan.simulation import simulate
from ketenplan.engine.run import run_replicate

D = dt.date(2025, 1, 1)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=st.integers(0, 60000), reg=st.integers(5, 400), cap=st.integers(100, 60000),
       gen=st.integers(1, 900), seed=st.integers(0, 2**32 - 1), triage=st.booleans(), routing=st.booleans())
def test_invariants_hold(first, reg, cap, gen, seed, triage, routing):
    sc = small(**{"inflow.first.per_year": [{"start": D, "value": first}],
                  "registration.capacity_per_day": [{"start": D, "value": reg}],
                  "reception.capacity_regular": [{"start": D, "value": cap}],
                  "reception.capacity_small": [{"start": D, "value": cap // 4}],
                  "decision_capacity.total": [{"start": D, "value": gen}],
                  "levers.triage": triage, "levers.routing_small_scale": routing})
    out = run_replicate(sc, 0, np.random.SeedSequence(seed))  # raises InvariantError on a breach
    assert (out.stage_stock >= 0).all()
    assert (out.loc_stock >= 0).all()
    assert (out.loc_stock[:, R.LOC["regular"]] <= cap).all()
    assert (out.loc_stock[:, R.LOC["small_scale"]] <= cap // 4).all()
    F = R.FLOW
    arrived = out.flows[:, F["arrivals"]].sum() + out.flows[:, F["regular_applications"]].sum()
    assert arrived == out.stage_stock[-1, 1:].sum()  # everyone is in exactly one stage
    # everyone who left the asylum chain is in a settled or a gone stage
    left = out.case["exit_day"] >= 0
    size = out.compiled.case["size"]
    regular = out.compiled.case["stream"] >= R.STREAM["labour"]
    assert size[left & ~regular].sum() + size[regular].sum() - out.stage_stock[-1, R.stages_in("regular_pending")
                                                                             + R.stages_in("circular")].sum() == \
        out.stage_stock[-1, R.stages_in("settled") + R.stages_in("gone")].sum()


def test_same_seed_same_numbers_different_seed_differs():
    sc = small()
    a = simulate(sc, seed=7, replicates=2, backend="serial")
    b = simulate(sc, seed=7, replicates=2, backend="serial")
    c = simulate(sc, seed=8, replicates=2, backend="serial")
    assert a.kpis.value.equals(b.kpis.value)
    assert a.stocks.persons.equals(b.stocks.persons)
    assert not a.stocks.persons.equals(c.stocks.persons)
    assert a.metadata["seed"] == 7 and a.metadata["scenario_hash"] == sc.digest()


@pytest.mark.parametrize("backend", ["threads", "processes", "dask"])
def test_backends_give_identical_numbers(backend):
    sc = small()
    ref = simulate(sc, seed=3, replicates=3, backend="serial")
    other = simulate(sc, seed=3, replicates=3, backend=backend, workers=2)
    assert ref.stocks.persons.equals(other.stocks.persons)
    assert ref.flows.persons.equals(other.flows.persons)
    assert np.array_equal(ref.kpis.value.to_numpy(), other.kpis.value.to_numpy(), equal_nan=True)
    assert len(ref.journeys) > 0
    assert ref.journeys.equals(other.journeys)  # workers send back slimmed outputs: same journeys


def test_capacity_binds_and_emergency_takes_the_overflow():
    sc = small(**{"reception.capacity_regular": [{"start": D, "value": 2000}]})
    out = run_replicate(sc, 0, np.random.SeedSequence(1))
    assert out.loc_stock[:, R.LOC["regular"]].max() == pytest.approx(2000, abs=10)
    assert out.loc_stock[:, R.LOC["emergency"]].max() > 0


def test_more_decision_capacity_shortens_decision_times():
    lo = simulate(small(**{"decision_capacity.total": [{"start": D, "value": 300}]}), seed=1, replicates=1)
    hi = simulate(small(**{"decision_capacity.total": [{"start": D, "value": 900}]}), seed=1, replicates=1)
    k = lambda r, n: float(r.kpis.set_index("kpi").value[n])  # noqa: E731
    assert k(hi, "decision_time_general_weeks") < k(lo, "decision_time_general_weeks")
    assert k(hi, "ind_pending_end") < k(lo, "ind_pending_end")


def test_routing_reduces_moves_of_likely_grants():
    d = {"reception.capacity_small": [{"start": D, "value": 40000}]}
    off = simulate(small(**d), seed=2, replicates=1, keep_journeys="first")
    on = simulate(small(**d, **{"levers.routing_small_scale": True}), seed=2, replicates=1, keep_journeys="first")
    j_off, j_on = off.journeys, on.journeys
    sel = lambda j: j[(j.group == "syria") & (j.exit_reason == "housed") & (j.stream == "first")]  # noqa: E731
    assert sel(j_on).moves.mean() < sel(j_off).moves.mean()


def test_nareis_follows_grants():
    sc = small(**{"simulation.end": dt.date(2027, 12, 31)})
    none = sc.replace(**{"inflow.nareis.ratio": 0.0})
    r1 = simulate(sc, seed=4, replicates=1)
    r0 = simulate(none, seed=4, replicates=1)
    n1 = r1.flows[r1.flows.flow == "nareis_arrivals"].persons.sum()
    n0 = r0.flows[r0.flows.flow == "nareis_arrivals"].persons.sum()
    grants = r1.flows[r1.flows.flow == "grants"].persons.sum()
    assert n0 == 0
    assert 0.1 * grants < n1 < 0.45 * grants  # ratio 0.32 with a lag of ~8 months: most arrive in time


def test_forecast_paths_beyond_their_horizon_repeat_their_last_forecast_year():
    from ketenplan.simulation import forecast_paths

    sc = small(**{"inflow.source": "forecast", "simulation.end": dt.date(2028, 12, 31),
                  "forecast.horizon_months": 12, "forecast.after_horizon": "hold"})
    paths = forecast_paths(sc, 3, 4)
    # grid from 2025-01, origin 2024-12: months 1..12 forecast, then the 2025 months again, every year
    for p in paths:
        assert len(p) == 48
        assert np.allclose(p[12:24], p[:12]) and np.allclose(p[36:48], p[:12])
    assert len({round(float(p[:12].sum())) for p in paths}) == 4  # each path its own level
    # the default after the horizon: the scenario's given first applications, the same in every path
    given = forecast_paths(sc.replace(**{"forecast.after_horizon": "given"}), 3, 4)
    from ketenplan.engine.compile import monthly_persons, time_grid

    expected = monthly_persons(sc.inflow.first.per_year, sc.inflow.first.monthly, time_grid(sc),
                               np.array(sc.inflow.monthly_profile))
    for p, h in zip(given, paths):
        assert np.allclose(p[:12], h[:12]) and np.allclose(p[12:], expected[12:])


def test_inflow_from_forecast_gives_one_replicate_per_sample_path():
    sc = small(**{"inflow.source": "forecast", "simulation.end": dt.date(2025, 12, 31)})
    r = simulate(sc, seed=5, replicates=3)
    first = r.kpis[r.kpis.kpi == "first_applications_per_year"].value
    assert first.nunique() == 3 and (first > 0).all()  # each replicate follows its own path
    again = simulate(sc, seed=5, replicates=3)
    assert r.kpis.value.equals(again.kpis.value)


def test_forecast_inflow_replays_the_data_in_the_warm_up_and_forecasts_after_it():
    """With a warm-up, the months up to the last data month (2024-12) carry the data in every
    replicate; the forecast starts after them, not at the start of the warm-up."""
    from ketenplan.simulation import forecast_paths as _forecast_paths
    from ketenplan.forecast import data as fdata

    sc = small(**{"inflow.source": "forecast", "simulation.warmup_years": 2, "simulation.end": dt.date(2025, 12, 31)})
    paths = np.vstack(_forecast_paths(sc, seed=3, n=4))
    assert paths.shape == (4, 36)  # 2023-01 .. 2025-12, of which 24 warm-up months
    np.testing.assert_array_equal(paths[:, :24], np.broadcast_to(paths[0, :24], (4, 24)))
    assert len({tuple(p) for p in paths[:, 24:]}) == 4
    data = fdata.bridged_series("NL")
    y2024 = data[data["month"].astype(str).str.startswith("2024")]["applicants"].sum()
    assert paths[0, 12:24].sum() < y2024  # the data less the subsequent applications
    assert paths[0, 12:24].sum() > 0.6 * y2024


def test_zero_day_desk_stays_still_end():
    """Stays that start at a desk (registration, an IND slot) with a drawn length of 0 days must
    still end: the desks work after the day's timed events, so such a stay lasts one day."""
    zero = {"name": "fixed", "mean": 0.0}
    sc = small(**{"registration.col_stay": zero, "procedure.rvt": zero, "procedure.aa": zero,
                  "procedure.safe_track": zero, "procedure.va_share": 0.0, "dublin.duration": zero,
                  "simulation.end": dt.date(2025, 12, 31)})
    out = run_replicate(sc, 0, np.random.SeedSequence(5))
    assert out.flows[:, R.FLOW["registrations"]].sum() > 0
    # at the end of each day central reception holds exactly the persons registered that day
    np.testing.assert_array_equal(out.stage_stock[:, R.STAGE["central_reception"]], out.flows[:, R.FLOW["registrations"]])
    # and the procedure holds no more than one day of decisions' worth of persons
    assert out.stage_stock[:, R.STAGE["in_procedure"]].max() <= out.flows[:, R.FLOW["decisions"]].max()


def test_report_of_a_forecast_driven_run_shows_the_inflow_spread(tmp_path):
    from ketenplan.report import figures, render_report

    sc = small(**{"inflow.source": "forecast", "simulation.end": dt.date(2025, 12, 31)})
    res = simulate(sc, seed=2, replicates=3)
    p1 = [f for f in figures(res)["P1"] if "Passport control" not in f.layout.title.text]  # the border day aside
    assert len(p1) == 2 and "forecast sample paths" in p1[0].layout.title.text
    lo, hi = p1[0].data[1].y, p1[0].data[0].y  # p10 and p90 of monthly arrivals differ between paths
    assert (np.asarray(hi) > np.asarray(lo)).all()
    html = render_report(res, tmp_path / "report.html").read_text()
    assert "Every month of the run (2025-01 on) is forecast, from the last data month of NL (2024-12)" in html
    assert "Capacities stay as the scenario" in html
    warm = simulate(small(**{"inflow.source": "forecast", "simulation.warmup_years": 1,
                             "simulation.end": dt.date(2025, 6, 30)}), seed=2, replicates=2)
    assert "Months up to 2024-12 replay the data" in render_report(warm, tmp_path / "w.html").read_text()
    past = simulate(small(**{"inflow.source": "forecast", "simulation.start": dt.date(2022, 1, 1),
                             "simulation.end": dt.date(2022, 12, 31)}), seed=2, replicates=2)
    assert "lies within the data" in render_report(past, tmp_path / "p.html").read_text()
    given = simulate(small(**{"simulation.end": dt.date(2025, 12, 31)}), seed=2, replicates=1)
    assert len([f for f in figures(given)["P1"] if "Passport control" not in f.layout.title.text]) == 1


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the worker's malloc settings are glibc's")
def test_a_process_worker_keeps_freed_memory_for_its_next_replicate():
    """A process worker sets glibc's mmap and trim thresholds (ensemble.WORKER_MALLOPT); checked in a
    fresh interpreter, since the settings are the whole process's. Numbers do not change:
    test_backends_give_identical_numbers runs the process backend."""
    code = "from ketenplan.ensemble import _keep_freed_memory; print(_keep_freed_memory())"
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert got == "True"


def test_the_kernel_keeps_case_numbers_in_32_bits_and_hands_back_int64_days():
    """The kernel's per-case days and links are 32-bit (engine.kernel.CASE_INT: half the memory traffic);
    the outputs keep their int64 days, and a run whose case numbers would not fit is refused."""
    from ketenplan.engine import kernel as K
    from ketenplan.engine.state import WIDE_RESULTS

    sc = small()
    out = run_replicate(sc, 0, np.random.SeedSequence(2))
    for k in WIDE_RESULTS:
        assert out.case[k].dtype == np.int64, k
    assert out.case["reception_days"].dtype == np.int64
    assert np.dtype(out.compiled.inputs.size.dtype) == np.dtype(K.CASE_INT)
    big = np.zeros(2**30, np.int8)  # only its length is read: 2 x 2^30 waits would not fit
    with pytest.raises(ValueError, match="does not fit"):
        K.new_state(out.compiled.inputs, np.broadcast_to(big, big.shape), 10)
