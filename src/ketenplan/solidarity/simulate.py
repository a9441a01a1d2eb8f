"""Replays of the real annual applications through the 2016 corrective allocation mechanism and
through the 2024 Pact's annual solidarity pool.

The replays are annual: the year's applications (A) plus resettled refugees (R) per state are set
against the state's reference number (key x EU+ total of A + R). Dublin transfers between states
and the 12-month rolling window of the 2016 proposal are not modelled (see docs/solidarity.md).
"""

from __future__ import annotations

import collections

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ketenplan.errors import DataError, InvariantError, ScenarioError
from ketenplan.solidarity import data as sdata
from ketenplan.solidarity.allocate import largest_remainder
from ketenplan.solidarity.keys import distribution_key
from ketenplan.solidarity.schemes import get_scheme, state_names

log = logging.getLogger(__name__)


#: years a replay may name at all (the data span is checked later, with its own message)
YEAR_BOUNDS = (1950, 2100)


def parse_years(text: str | Sequence[int]) -> list[int]:
    """``"2015-2024"`` or ``"2016"`` or ``"2015,2017"`` -> list of years (each year once, in order)."""
    if not isinstance(text, str):
        years = [int(y) for y in text]
    else:
        years = []
        for part in text.split(","):
            part = part.strip()
            try:
                if "-" in part:
                    a, b = (int(x) for x in part.split("-", 1))
                elif part:
                    a = b = int(part)
                else:
                    continue
            except ValueError:
                raise ScenarioError(f"years (--years) {text!r}: cannot read {part!r}; expected a year YYYY or a "
                                    f"range 'FIRST-LAST' with FIRST <= LAST, comma separated, e.g. 2015-2024 or "
                                    f"2016,2018") from None
            if b < a:
                raise ScenarioError(f"years (--years) {text!r}: the range {part!r} runs backwards; expected "
                                    f"'FIRST-LAST' with FIRST <= LAST, e.g. {b}-{a}")
            lo, hi = YEAR_BOUNDS
            if a < lo or b > hi:
                raise ScenarioError(f"years (--years) {text!r}: {part!r} reaches outside {lo}-{hi}; expected years "
                                    f"of the data, e.g. 2015-2024")
            years.extend(range(a, b + 1))
    if not years:
        raise ScenarioError(f"years (--years) {text!r}: no years; expected e.g. 2015-2024 or 2016,2018")
    counts = collections.Counter(years)
    dup = sorted(y for y, n in counts.items() if n > 1)
    if dup:
        raise ScenarioError(f"years (--years) {text!r}: year(s) {dup} given more than once; expected each year once")
    return years


def replayable_years(scheme: str) -> tuple[int, int]:
    """First and last year a replay of ``scheme`` can cover.

    Year Y is replayed with the applications of Y and a key from the population and GDP of
    Y - ``data_lag_years`` (1: the previous year), so it needs both tables."""
    lag = int(get_scheme(scheme).figure("data_lag_years"))
    plo, phi = sdata.year_span(sdata.population_gdp())
    alo, ahi = sdata.year_span(sdata.applications())
    return max(plo + lag, alo), min(phi + lag, ahi)


def _check_years(scheme: str, years: list[int], chosen: Sequence[str]) -> None:
    lag = int(get_scheme(scheme).figure("data_lag_years"))
    plo, phi = sdata.year_span(sdata.population_gdp())
    alo, ahi = sdata.year_span(sdata.applications())
    first, last = replayable_years(scheme)
    outside = [y for y in years if not first <= y <= last]
    if outside:
        raise DataError(
            f"years (--years) {outside} outside the data: the {scheme} replay of year Y uses the applications of Y "
            f"(euplus_asylum_applicants_2011_2024.csv, {alo}-{ahi}) and a key from the population and GDP of "
            f"the previous year Y-{lag} (euplus_population_gdp_2010_2023.csv, {plo}-{phi}), so the replayable "
            f"years are {first}-{last}. Fix: choose years in {first}-{last}, e.g. --years {max(first, 2015)}-{last}")
    apps = sdata.applications()
    d = apps[apps.year.isin(years)].set_index(["iso3", "year"]).asylum_applicants
    gaps = {s: [y for y in years if not np.isfinite(d.get((s, y), np.nan))] for s in chosen}
    gaps = {s: ys for s, ys in gaps.items() if ys}
    if gaps:
        which = "; ".join(f"{s} in {', '.join(map(str, ys))}" for s, ys in gaps.items())
        full = [y for y in range(first, last + 1)
                if all(np.isfinite(apps[(apps.iso3 == s) & (apps.year == y)].asylum_applicants).any() for s in chosen)]
        hint = f", or choose years from {full[0]} on" if full else ""
        raise DataError(f"euplus_asylum_applicants_2011_2024.csv: no applications for {which}; expected a figure per "
                        f"participating state and year. Fix: leave them out (command line: --exclude "
                        f"{','.join(gaps)}; Python: exclude={list(gaps)}){hint}")


def _replay_states(scheme: str, states: Sequence[str] | None, exclude: Sequence[str] | None) -> list[str]:
    from ketenplan.solidarity.keys import _select_states

    return _select_states(scheme, None, states, exclude, what="replay")


def _applications(states: Sequence[str], year: int) -> pd.DataFrame:
    apps = sdata.applications()
    lo, hi = sdata.year_span(apps)
    if not lo <= year <= hi:
        raise DataError(f"euplus_asylum_applicants_2011_2024.csv: year {year} is outside the data ({lo}-{hi}). "
                        f"Fix: choose years in {lo}-{hi}")
    d = apps[apps.year == year].set_index("iso3").reindex(list(states))
    missing = d.index[d.asylum_applicants.isna()].tolist()
    if missing:
        raise DataError(f"euplus_asylum_applicants_2011_2024.csv: no applications for {missing} in {year}; "
                        "expected a figure per participating state. Fix: leave them out (command line: "
                        f"--exclude {','.join(missing)}; Python: exclude={missing})")
    return d[["asylum_applicants", "resettled_refugees"]].astype(float)


def waterfill(pool: int, key: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Integer split of ``pool`` persons proportional to ``key`` among states with ``capacity`` > 0,
    never giving a state more than its (integer) capacity; a state that reaches it drops out and the
    rest is shared again. Persons that fit nowhere are returned unallocated (sum may be < pool)."""
    cap = np.maximum(np.floor(capacity + 1e-9), 0).astype(np.int64)
    alloc = np.zeros(len(key), dtype=np.int64)
    active = (cap > 0) & (key > 0)
    left = int(pool)
    while left > 0 and active.any():
        w = np.where(active, key, 0.0)
        trial = largest_remainder(w / w.sum(), left)
        room = cap - alloc
        over = active & (trial > room)
        if not over.any():
            alloc += trial
            left = 0
            break
        alloc[over] += room[over]
        left -= int(room[over].sum())
        active &= ~over
    return alloc


def corrective_allocation(applications: np.ndarray, key: np.ndarray, *, trigger: float = 1.5,
                          ceiling: float = 1.0, opt_out: np.ndarray | None = None
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One period of the 2016 corrective mechanism (pure).

    ``applications`` [persons] and ``key`` [1, sums to 1] per state. Reference number =
    key x total. A state above ``trigger`` x reference sends every application above that level
    (floored to whole persons); states below ``ceiling`` x reference receive by key until they
    reach it; states flagged in ``opt_out`` receive no one. Returns ``(out, in, opt_out_persons)``
    [persons]; out and in have the same sum (persons that fit nowhere stay with the sender).
    """
    x = np.asarray(applications, dtype=float)
    k = np.asarray(key, dtype=float)
    oo = np.zeros(len(x), dtype=bool) if opt_out is None else np.asarray(opt_out, dtype=bool)
    ref = k * x.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(ref > 0, x / ref, np.inf)
    out = np.where(share > trigger, np.floor(x - trigger * ref + 1e-9), 0).astype(np.int64)
    out = np.maximum(out, 0)
    pool = int(out.sum())
    room = np.where(share < ceiling, ceiling * ref - x, 0.0)
    first = waterfill(pool, k, room)  # as if nobody opted out
    opt_persons = np.where(oo, first, 0)
    alloc = waterfill(pool, k, np.where(oo, 0.0, room)) if oo.any() else first
    unplaced = pool - int(alloc.sum())
    for i in np.argsort(-out, kind="stable"):  # what fits nowhere stays with the senders
        if unplaced == 0:
            break
        give = min(unplaced, int(out[i]))
        out[i] -= give
        unplaced -= give
    return out, alloc, opt_persons


def simulate_dublin_2016(years: str | Sequence[int] = "2015-2024", *, states: Sequence[str] | None = None,
                         exclude: Sequence[str] | None = None, opt_out: Sequence[str] = ()) -> pd.DataFrame:
    """Replay of the corrective allocation mechanism of COM(2016) 270 on real annual applications.

    Per state and year: ``key`` (reference share) [1], ``applications`` (A + R) [persons],
    ``reference_number`` [persons], ``actual_share`` [% of reference, before], ``relocations_out``,
    ``relocations_in`` [persons], ``share_after`` [%], ``opt_out_persons`` [persons the state
    would have received], ``solidarity_contribution_eur`` [EUR]. A state above the trigger sends
    every application above trigger x reference; only states below 100% receive, by key, until
    they reach 100%. States in ``opt_out`` receive no one and pay the contribution per applicant
    they would have received; their persons go to the other recipients if room is left.
    ``states`` (default the participants) less ``exclude`` take part; replayable years see
    :func:`replayable_years`.
    """
    sch = get_scheme("dublin-2016")
    trig = sch.figure("trigger_share")
    ceil = sch.figure("recipient_ceiling_share")
    fee = sch.figure("solidarity_contribution_eur")
    lag = int(sch.figure("data_lag_years"))
    chosen = _replay_states("dublin-2016", states, exclude)
    opt_out = list(opt_out)
    dup = sorted({s for s in opt_out if opt_out.count(s) > 1})
    if dup:
        raise ScenarioError(f"opt-out (--opt-out) state(s) {dup} given more than once; expected each state once")
    bad = [s for s in opt_out if s not in chosen]
    if bad:
        raise ScenarioError(f"opt-out (--opt-out) state(s) {bad} do not take part; expected some of {chosen}")
    years = parse_years(years)
    _check_years("dublin-2016", years, chosen)
    frames = []
    for year in years:
        key = distribution_key(sch, year - lag, states=chosen)["share"]
        a = _applications(chosen, year)
        x = (a.asylum_applicants + a.resettled_refugees).to_numpy()
        total = x.sum()
        ref = key.to_numpy() * total
        share_before = x / ref
        k = key.to_numpy()
        oo = np.isin(np.array(chosen), list(opt_out))
        out, alloc, opt_persons = corrective_allocation(x, k, trigger=trig, ceiling=ceil, opt_out=oo)
        after = x - out + alloc
        frames.append(pd.DataFrame({
            "year": year, "iso3": chosen, "name": [state_names().get(s, s) for s in chosen],
            "key": k, "applications": x.astype(np.int64), "reference_number": ref,
            "actual_share_pct": 100 * share_before, "triggered": share_before > trig,
            "relocations_out": out, "relocations_in": alloc, "share_after_pct": 100 * after / ref,
            "opt_out": oo, "opt_out_persons": opt_persons,
            "solidarity_contribution_eur": opt_persons * fee,
        }))
        if out.sum() != alloc.sum():
            raise InvariantError(f"dublin-2016 {year}: relocations out {out.sum()} != in {alloc.sum()}")
        over = (alloc > 0) & (after > ceil * ref + 1e-6)
        if over.any():
            raise InvariantError(f"dublin-2016 {year}: relocated to states above {ceil:.0%}: "
                                 f"{list(np.array(chosen)[over])}")
    res = pd.concat(frames, ignore_index=True)
    res.attrs.update(scheme="dublin-2016", trigger_share=trig, recipient_ceiling_share=ceil,
                     solidarity_contribution_eur=fee, data_lag_years=lag, opt_out=list(opt_out))
    return res


def simulate_pact_2024(years: str | Sequence[int] = "2015-2024", *, states: Sequence[str] | None = None,
                       exclude: Sequence[str] | None = None,
                       relocation_pledge_fraction: float | None = None) -> pd.DataFrame:
    """Replay of the Annual Solidarity Pool of Regulation (EU) 2024/1351 on real annual applications.

    Each year: fair share key (50% population, 50% GDP); every state's fair share of the pool
    (``fair_share_relocations`` [persons], ``fair_share_eur`` [EUR]). States whose applications
    exceed ``pressure_trigger_share`` x their fair share of all applications count as benefitting
    (full deduction). Contributors pledge ``relocation_pledge_fraction`` of their relocation share
    as relocations and pay the rest at ``eur_per_relocation``, on top of their share of the
    financial pool. Pledged relocations leave the benefitting states in proportion to their excess
    applications. When pledged relocations fall below ``offset_threshold_share`` of the pool, the
    unpledged relocation share becomes responsibility offsets (``offsets``: applications the
    contributor takes over instead of relocating). Money goes to the benefitting states in
    proportion to their excess as well. ``states`` / ``exclude`` as in :func:`simulate_dublin_2016`.
    """
    sch = get_scheme("pact-2024")
    pool_r = int(sch.figure("pool_relocations"))
    pool_eur = sch.figure("pool_financial_eur")
    eur_per = sch.figure("eur_per_relocation")
    off_thr = sch.figure("offset_threshold_share")
    press = sch.figure("pressure_trigger_share")
    lag = int(sch.figure("data_lag_years"))
    f = sch.figure("relocation_pledge_fraction") if relocation_pledge_fraction is None else relocation_pledge_fraction
    if not 0.0 <= f <= 1.0:
        raise ScenarioError(f"relocation_pledge_fraction (--pledge-fraction) must lie in [0, 1], found {f!r}")
    chosen = _replay_states("pact-2024", states, exclude)
    years = parse_years(years)
    _check_years("pact-2024", years, chosen)
    frames = []
    for year in years:
        key = distribution_key(sch, year - lag, states=chosen)["share"].to_numpy()
        a = _applications(chosen, year)
        x = (a.asylum_applicants + a.resettled_refugees).to_numpy()
        ref = key * x.sum()
        actual = x / ref
        benefit = actual > press
        fair_r = key * pool_r
        fair_eur = key * pool_eur
        contrib = ~benefit
        exact = np.where(contrib, f * fair_r, 0.0)
        n_pledged = int(round(exact.sum()))
        pledged = (largest_remainder(exact / exact.sum(), n_pledged) if n_pledged > 0
                   else np.zeros(len(key), dtype=np.int64))
        paid_instead = np.where(contrib, (fair_r - exact) * eur_per, 0.0)
        eur = np.where(contrib, fair_eur, 0.0) + paid_instead
        offsets = np.zeros(len(key), dtype=np.int64)
        if pledged.sum() < off_thr * pool_r:
            offsets = np.where(contrib, np.floor(fair_r - exact + 1e-9), 0).astype(np.int64)
            eur = eur - offsets * eur_per  # offsets replace the payment for the unpledged part
        excess = np.where(benefit, x - ref, 0.0)
        total_moved = int(pledged.sum())
        rel_out = largest_remainder(excess / excess.sum(), total_moved) if benefit.any() else np.zeros(len(key), int)
        if not benefit.any():
            pledged = np.zeros(len(key), dtype=np.int64)
            eur = np.zeros(len(key))
            offsets = np.zeros(len(key), dtype=np.int64)
        received_eur = (excess / excess.sum() * eur.sum()) if benefit.any() else np.zeros(len(key))
        frames.append(pd.DataFrame({
            "year": year, "iso3": chosen, "name": [state_names().get(s, s) for s in chosen],
            "key": key, "applications": x.astype(np.int64), "reference_number": ref,
            "actual_share_pct": 100 * actual, "benefitting": benefit,
            "fair_share_relocations": fair_r, "fair_share_eur": fair_eur,
            "relocations_in": pledged, "relocations_out": rel_out, "offsets": offsets,
            "contribution_eur": eur, "received_eur": received_eur,
        }))
    res = pd.concat(frames, ignore_index=True)
    res.attrs.update(scheme="pact-2024", pool_relocations=pool_r, pool_financial_eur=pool_eur,
                     eur_per_relocation=eur_per, pressure_trigger_share=press, data_lag_years=lag,
                     relocation_pledge_fraction=f)
    return res


SCHEMES_WITH_REPLAY = ("dublin-2016", "pact-2024")


def simulate(scheme: str, years: str | Sequence[int] = "2015-2024", **kwargs) -> pd.DataFrame:
    """Dispatch to the replay of ``scheme`` (``dublin-2016`` or ``pact-2024``).

    An option of the other scheme (``opt_out`` is dublin-2016 only, ``relocation_pledge_fraction``
    pact-2024 only) raises ScenarioError instead of being ignored."""
    only = {"opt_out": ("dublin-2016", "--opt-out"), "relocation_pledge_fraction": ("pact-2024", "--pledge-fraction")}
    for name, (owner, option) in only.items():
        if name in kwargs and scheme in SCHEMES_WITH_REPLAY and scheme != owner:
            raise ScenarioError(f"{option} ({name}) applies to scheme {owner} only, not to {scheme}. "
                                f"Fix: leave {option} out or use --scheme {owner}")
    if scheme == "dublin-2016":
        return simulate_dublin_2016(years, **kwargs)
    if scheme == "pact-2024":
        return simulate_pact_2024(years, **kwargs)
    raise ScenarioError(f"scheme (--scheme) {scheme!r} has no replay; expected 'dublin-2016' or 'pact-2024'"
                        + (" (relocation-2015 is a one-off key: use `solidarity key` / `allocate`)"
                           if scheme == "relocation-2015" else ""))
