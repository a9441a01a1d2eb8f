"""The per-case key figures of replicate_kpis (one compiled pass) against their mask formulation
with numpy (the reference): the same persons, shares and moves exactly, the mean weeks to 1e-13
relative (person-days summed exactly as whole numbers in the pass; numpy's weighted mean sums the
weeks by blocks) (P0.1, P0.3)."""

from __future__ import annotations

import numpy as np
import pytest

from ketenplan.engine.results import (STREAM_FIRST, STREAM_RESETTLEMENT, STREAM_SUBSEQUENT, TRACK_DUBLIN,
                                      TRACK_GENERAL, TRACK_SAFE, replicate_kpis)
from ketenplan.engine.run import run_replicate

EXACT = ("first_applications_per_year", "resettled_per_year", "statutory_breach_share", "moves_per_person",
         "moves_per_school_child")
WEEKS = ("decision_time_general_weeks", "decision_time_safe_weeks", "decision_time_dublin_weeks",
         "housing_wait_weeks")


def reference(out) -> dict[str, float]:
    """The figures by boolean masks over the cases and numpy's weighted mean."""
    c, r, cs = out.compiled, out.case, out.compiled.case
    si, T = c.grid.start_index, c.grid.T
    years = (T - si) / 365.25
    dec, reg, size = r["decision_day"], r["reg_day"], cs["size"]
    in_period = (dec >= si) & (reg >= 0)

    def mean_weeks(mask, a, b):
        w = size[mask]
        return float(np.average((a[mask] - b[mask]) / 7.0, weights=w)) if w.sum() > 0 else float("nan")

    def ratio(num, den):
        return float(num / den) if den > 0 else float("nan")

    asylum = (cs["stream"] == STREAM_FIRST) | (cs["stream"] == STREAM_SUBSEQUENT)
    decided = in_period & asylum
    left = (r["exit_day"] >= si) & (r["reception_days"] > 0)
    kids = cs["children"]
    housed = (r["housed_day"] >= si) & (dec >= 0) & (cs["stream"] != STREAM_RESETTLEMENT)
    arrived_in = (r["arrival_day"] >= si) & (r["arrival_day"] < T)
    return {
        "first_applications_per_year": float(size[(cs["stream"] == STREAM_FIRST) & arrived_in].sum() / years),
        "resettled_per_year": float(size[(cs["stream"] == STREAM_RESETTLEMENT) & arrived_in].sum() / years),
        "decision_time_general_weeks": mean_weeks(decided & (cs["track"] == TRACK_GENERAL), dec, reg),
        "decision_time_safe_weeks": mean_weeks(in_period & (cs["track"] == TRACK_SAFE), dec, reg),
        "decision_time_dublin_weeks": mean_weeks(in_period & (cs["track"] == TRACK_DUBLIN), dec, reg),
        "statutory_breach_share": ratio((r["breach"][decided] * size[decided]).sum(), size[decided].sum()),
        "moves_per_person": ratio((r["moves"][left] * size[left]).sum(), size[left].sum()),
        "moves_per_school_child": ratio((r["moves"][left] * kids[left]).sum(), kids[left].sum()),
        "housing_wait_weeks": mean_weeks(housed, r["housed_day"], dec),
    }


def _check(out, sc):
    want = reference(out)
    got = replicate_kpis(out, sc)
    alone = {k: replicate_kpis(out, sc, names=[k])[k] for k in want}  # a figure computed alone: the same
    for k, v in want.items():
        assert np.isfinite(v), k
        if k in EXACT:
            assert got[k] == v == alone[k], k
        else:
            assert got[k] == pytest.approx(v, rel=1e-13) and alone[k] == got[k], k


def test_case_kpis_on_a_baseline_replicate():
    from ketenplan.ensemble import replicate_seed
    from ketenplan.scenario import load_scenario

    sc = load_scenario("nl_baseline")
    _check(run_replicate(sc, 2, replicate_seed(1, 2)), sc)


def test_case_kpis_on_a_small_scenario():
    from ketenplan.testing import small_scenario

    sc = small_scenario()
    _check(run_replicate(sc, 0, np.random.SeedSequence(4)), sc)
