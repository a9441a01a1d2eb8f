"""The border day: travellers drawn per hour, routed to the eGate or desk queue, waits simulated.

Routing (decided once, documented in docs/border.md): every traveller draws ``u ~ U(0, 1)``;
``u < egate_share`` goes to the eGates when any is open in that hour (otherwise to a desk, with
the plain desk check); ``u >= 1 - ees_share`` is a third-country national making an EES first
registration and goes to a desk (first registrations are taken at desks, eGates are not enabled
for them, G5); everybody else goes to a desk. Each pool is its own FCFS queue
(``ketenplan.border.queue``). Travellers do not switch queues.

Arrivals are a Poisson process with a rate that is constant within each hour; service times are
gamma with the pool's mean and coefficient of variation (cv 1 = exponential).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ketenplan.scenario.border import HOURS, BorderParams
from ketenplan.border.queue import HOUR_SECONDS, erlang_c_wait, simulate_pool
from ketenplan.errors import ScenarioError

log = logging.getLogger(__name__)

#: Largest number of travellers one run may simulate (all replicates): ~40 bytes each in memory.
MAX_TRAVELLERS = 20_000_000
#: Largest number of servers in one pool and hour.
MAX_SERVERS = 5000

WAIT_COLUMNS = ("hour", "arrivals", "desks", "egates", "p50_wait_min", "p90_wait_min", "utilisation")
POOL_COLUMNS = ("hour", "pool", "arrivals", "servers", "mean_wait_min", "p_wait", "p50_wait_min",
                "p90_wait_min", "utilisation")
STAFFING_COLUMNS = ("hour", "arrivals", "desks", "desks_needed", "desk_p90_wait_min", "egates", "egates_needed",
                    "egate_p90_wait_min", "target_p90_min")

DESK, EGATE = 0, 1
POOLS = ("desks", "egates")


@dataclass(frozen=True)
class BorderDay:
    """One day's inputs, hour by hour: what the simulation consumes.

    ``arrivals`` [persons/hour], ``desks`` and ``egates`` [servers] have 24 values.
    ``egate_share`` / ``ees_share`` [share of all travellers]: see the module docstring.
    Service means in [s/person]; ``*_cv`` are coefficients of variation [-].
    """

    arrivals: tuple[float, ...]
    desks: tuple[int, ...]
    egates: tuple[int, ...]
    egate_share: float
    ees_share: float
    desk_service_seconds: float
    desk_service_cv: float
    egate_service_seconds: float
    egate_service_cv: float
    ees_extra_seconds: float
    label: str = field(default="day", compare=False)

    def servers(self, pool: int) -> np.ndarray:
        """Servers per hour of ``pool`` (DESK or EGATE)."""
        return np.asarray(self.desks if pool == DESK else self.egates, dtype=np.int64)

    def is_stationary_mmc(self) -> bool:
        """True when the day is one stationary M/M/c queue (the Erlang C case)."""
        egates_used = self.egate_share > 0 and any(self.egates)
        return (len(set(self.arrivals)) == 1 and len(set(self.desks)) == 1 and not egates_used
                and (self.ees_share == 0 or self.ees_extra_seconds == 0) and self.desk_service_cv == 1.0
                and self.desks[0] > 0)


def day_from_params(params: BorderParams | None = None) -> BorderDay:
    """The default Schiphol entry day of ``params`` (flat roster of desks and eGates)."""
    p = params or BorderParams()
    return BorderDay(arrivals=p.arrivals_per_hour(), desks=(p.desks,) * HOURS, egates=(p.egates,) * HOURS,
                     egate_share=p.egate_share, ees_share=p.ees_share, desk_service_seconds=p.desk_service_seconds,
                     desk_service_cv=p.desk_service_cv, egate_service_seconds=p.egate_service_seconds,
                     egate_service_cv=p.egate_service_cv, ees_extra_seconds=p.ees_extra_seconds, label="schiphol")


def stationary_day(arrivals_per_hour: float, desks: int, egates: int = 0, *, params: BorderParams | None = None,
                   service_seconds: float | None = None, ees_share: float = 0.0) -> BorderDay:
    """A stationary day: the same arrival rate and servers in every hour, one traveller class
    (no EES first registrations unless ``ees_share`` > 0; eGates used only if ``egates`` > 0)."""
    p = params or BorderParams()
    return BorderDay(arrivals=(float(arrivals_per_hour),) * HOURS, desks=(int(desks),) * HOURS,
                     egates=(int(egates),) * HOURS, egate_share=p.egate_share if egates else 0.0,
                     ees_share=ees_share, desk_service_seconds=service_seconds or p.desk_service_seconds,
                     desk_service_cv=p.desk_service_cv, egate_service_seconds=p.egate_service_seconds,
                     egate_service_cv=p.egate_service_cv, ees_extra_seconds=p.ees_extra_seconds, label="stationary")


def check_day(day: BorderDay, replications: int) -> None:
    """Refuse inputs that are out of range or too large to simulate, with a message naming the input."""
    for name in ("arrivals", "desks", "egates"):
        v = getattr(day, name)
        if len(v) != HOURS:
            raise ScenarioError(f"{name}: expected {HOURS} hourly values, found {len(v)}")
    for h, a in enumerate(day.arrivals):
        if not (a >= 0 and math.isfinite(a)):
            raise ScenarioError(f"arrivals in hour {h}: expected a finite number >= 0 [persons/hour], found {a!r}")
    for name in ("desks", "egates"):
        for h, c in enumerate(getattr(day, name)):
            if not 0 <= c <= MAX_SERVERS:
                raise ScenarioError(f"{name} in hour {h}: expected 0..{MAX_SERVERS}, found {c}")
    for name in ("egate_share", "ees_share"):
        v = getattr(day, name)
        if not 0 <= v <= 1:
            raise ScenarioError(f"{name}: expected a share in [0, 1], found {v!r}")
    if day.egate_share + day.ees_share > 1 + 1e-12:
        raise ScenarioError(f"egate_share {day.egate_share:g} + ees_share {day.ees_share:g}: expected a sum <= 1")
    for name in ("desk_service_seconds", "egate_service_seconds", "desk_service_cv", "egate_service_cv"):
        v = getattr(day, name)
        if not (v > 0 and math.isfinite(v)):
            raise ScenarioError(f"{name}: expected a finite number > 0, found {v!r}")
    if not (day.ees_extra_seconds >= 0 and math.isfinite(day.ees_extra_seconds)):
        raise ScenarioError(f"ees_extra_seconds: expected a finite number >= 0, found {day.ees_extra_seconds!r}")
    if not 1 <= replications <= 100_000:
        raise ScenarioError(f"replications: expected 1..100000, found {replications}")
    total = sum(day.arrivals) * replications
    if total > MAX_TRAVELLERS:
        raise ScenarioError(
            f"{sum(day.arrivals):.4g} travellers/day x {replications} replications = {total:.3g} travellers to "
            f"simulate; the limit is {MAX_TRAVELLERS:.0e} per run (about 40 bytes each). Lower the arrivals "
            "(--arrivals-per-hour, --profile) or --replications")
    egate_open = np.asarray(day.egates) > 0
    desk_hours = [h for h in range(HOURS) if day.arrivals[h] > 0 and day.desks[h] == 0
                  and (day.egate_share < 1 or not egate_open[h])]
    if desk_hours:
        h = desk_hours[0]
        raise ScenarioError(f"desks in hour {h}: 0 desks but {day.arrivals[h]:g} travellers expected, some of whom "
                            "can only use a desk (EES registrations, no eGate open or not eligible); expected >= 1 "
                            "desk in every hour with arrivals")


@dataclass(frozen=True)
class Travellers:
    """The drawn travellers of all replicates, in arrival order within each replicate."""

    arrival: np.ndarray   # [s from 00:00]
    hour: np.ndarray      # hour of arrival 0..23
    pool: np.ndarray      # DESK or EGATE
    service: np.ndarray   # [s]
    ees: np.ndarray       # bool: EES first registration
    replicate: np.ndarray
    rep_start: np.ndarray  # replicate r = [rep_start[r], rep_start[r + 1])

    def __len__(self) -> int:
        return int(self.arrival.shape[0])

    def select(self, pool: int, before: float = math.inf) -> tuple[np.ndarray, "Travellers"]:
        """Indices and travellers of one pool arriving before ``before`` [s], with their own rep_start."""
        idx = np.flatnonzero((self.pool == pool) & (self.arrival < before))
        rep = self.replicate[idx]
        n_rep = self.rep_start.shape[0] - 1
        start = np.zeros(n_rep + 1, dtype=np.int64)
        start[1:] = np.cumsum(np.bincount(rep, minlength=n_rep))
        return idx, Travellers(self.arrival[idx], self.hour[idx], self.pool[idx], self.service[idx],
                               self.ees[idx], rep, start)


def _gamma(rng: np.random.Generator, mean: float, cv: float, n: int) -> np.ndarray:
    if cv == 1.0:
        return rng.exponential(mean, n)
    k = 1.0 / (cv * cv)
    return rng.gamma(k, mean / k, n)


def _sorted_uniforms(rng: np.random.Generator, counts: np.ndarray) -> np.ndarray:
    """For each group of ``counts[g]`` travellers, that many sorted U(0, 1) values, in group order,
    without sorting: the normalised partial sums of ``counts[g] + 1`` exponential spacings."""
    counts = np.asarray(counts, dtype=np.int64)
    n, g = int(counts.sum()), counts.shape[0]
    cs = np.cumsum(rng.exponential(1.0, n + g))
    last = np.cumsum(counts + 1) - 1                     # position of each group's closing spacing
    base = np.concatenate(([0.0], cs[last[:-1]]))        # partial sum before each group
    total = cs[last] - base
    pos = np.arange(n, dtype=np.int64) + np.repeat(np.arange(g, dtype=np.int64), counts)
    u = (cs[pos] - np.repeat(base, counts)) / np.repeat(total, counts)
    return np.minimum(u, np.nextafter(1.0, 0.0))


def draw_travellers(day: BorderDay, replications: int, rng: np.random.Generator | int) -> Travellers:
    """Draw arrivals (Poisson per hour, uniform within the hour), routing and service times.

    Deterministic given ``rng`` (a Generator or a seed). Memory ~40 bytes per traveller.
    """
    check_day(day, replications)
    rng = np.random.default_rng(rng)
    rates = np.asarray(day.arrivals, dtype=np.float64)
    counts = rng.poisson(np.broadcast_to(rates, (replications, HOURS)))  # [rep, hour]
    n = int(counts.sum())
    log.debug("drawing %d travellers over %d replicate day(s)", n, replications)
    hour = np.repeat(np.tile(np.arange(HOURS, dtype=np.int16), replications), counts.ravel())
    replicate = np.repeat(np.arange(replications, dtype=np.int64), counts.sum(axis=1))
    arrival = (hour + _sorted_uniforms(rng, counts.ravel())) * HOUR_SECONDS
    u = rng.random(n)
    open_gate = np.asarray(day.egates, dtype=np.int64)[hour] > 0
    to_gate = (u < day.egate_share) & open_gate
    ees = u >= 1.0 - day.ees_share if day.ees_share > 0 else np.zeros(n, dtype=bool)
    pool = np.where(to_gate, EGATE, DESK).astype(np.int8)
    service = np.empty(n, dtype=np.float64)
    desk_plain = ~to_gate & ~ees
    service[to_gate] = _gamma(rng, day.egate_service_seconds, day.egate_service_cv, int(to_gate.sum()))
    service[desk_plain] = _gamma(rng, day.desk_service_seconds, day.desk_service_cv, int(desk_plain.sum()))
    service[ees] = _gamma(rng, day.desk_service_seconds + day.ees_extra_seconds, day.desk_service_cv,
                          int(ees.sum()))
    rep_start = np.zeros(replications + 1, dtype=np.int64)
    rep_start[1:] = np.cumsum(counts.sum(axis=1))
    return Travellers(arrival, hour, pool, service, ees, replicate, rep_start)


def simulate_waits(day: BorderDay, travellers: Travellers) -> np.ndarray:
    """Wait [s] of every traveller (both pools), in the order of ``travellers``."""
    wait = np.empty(len(travellers), dtype=np.float64)
    for pool in (DESK, EGATE):
        idx, sub = travellers.select(pool)
        wait[idx] = simulate_pool(sub.arrival, sub.service, sub.rep_start, day.servers(pool))
    return wait


@dataclass(frozen=True)
class BorderRun:
    """Result of :func:`run_day`: inputs, the drawn travellers and their waits [s]."""

    day: BorderDay
    replications: int
    seed: int | None
    travellers: Travellers
    wait: np.ndarray

    def waits_table(self) -> pd.DataFrame:
        """``border_waits``: one row per hour (see :data:`WAIT_COLUMNS`)."""
        return waits_table(self.day, self.travellers, self.wait, self.replications)

    def pools_table(self) -> pd.DataFrame:
        """Per hour and pool: arrivals, servers, mean wait, P(wait > 0), p50, p90, utilisation."""
        return pools_table(self.day, self.travellers, self.wait, self.replications)

    def summary(self) -> dict[str, float]:
        """Whole-day figures of the desk pool (the Erlang C comparison when the day is stationary)."""
        desk = self.travellers.pool == DESK
        w = self.wait[desk]
        out = {"travellers": float(len(self.travellers)), "desk_travellers": float(desk.sum()),
               "mean_wait_s": float(w.mean()) if w.size else 0.0,
               "p_wait": float((w > 0).mean()) if w.size else 0.0,
               "p50_wait_s": float(np.quantile(w, 0.5)) if w.size else 0.0,
               "p90_wait_s": float(np.quantile(w, 0.9)) if w.size else 0.0}
        if self.day.is_stationary_mmc():
            load = self.day.arrivals[0] * self.day.desk_service_seconds / HOUR_SECONDS
            if load < self.day.desks[0]:
                ec = erlang_c_wait(self.day.arrivals[0], self.day.desks[0], self.day.desk_service_seconds)
                out.update({f"erlang_{k}": v for k, v in ec.items()})
        return out


def run_day(day: BorderDay, replications: int = 100, seed: int | None = 1) -> BorderRun:
    """Simulate ``replications`` independent days of ``day`` (each starts with empty queues)."""
    travellers = draw_travellers(day, replications, seed)
    wait = simulate_waits(day, travellers)
    return BorderRun(day, replications, seed, travellers, wait)


# ----------------------------------------------------------------------------------------------
# tables
# ----------------------------------------------------------------------------------------------
def _hour_quantiles(hour: np.ndarray, wait: np.ndarray, qs: tuple[float, ...]) -> np.ndarray:
    """Quantiles of ``wait`` per hour 0..23 (NaN where an hour has no travellers) -> [hour, q]."""
    out = np.full((HOURS, len(qs)), np.nan)
    order = np.argsort(hour, kind="stable")
    bounds = np.searchsorted(hour[order], np.arange(HOURS + 1))
    for h in range(HOURS):
        w = wait[order[bounds[h]:bounds[h + 1]]]
        if w.size:
            out[h] = np.quantile(w, qs)
    return out


def _offered(day: BorderDay, trav: Travellers, pool: int, replications: int) -> np.ndarray:
    """Offered utilisation per hour: service work arriving in the hour / server time on duty [-]."""
    sel = trav.pool == pool
    work = np.bincount(trav.hour[sel], weights=trav.service[sel], minlength=HOURS) / replications
    cap = day.servers(pool) * HOUR_SECONDS
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(cap > 0, work / np.where(cap > 0, cap, 1), np.where(work > 0, np.inf, 0.0))


def waits_table(day: BorderDay, trav: Travellers, wait: np.ndarray, replications: int) -> pd.DataFrame:
    """Per hour: expected arrivals, desks, eGates, p50 and p90 of the wait over all travellers
    arriving in that hour (both pools, all replicates) [min], and the utilisation of the busier
    pool (offered work / server time on duty; above 1 the queue grows during the hour)."""
    q = _hour_quantiles(trav.hour, wait, (0.5, 0.9)) / 60.0
    util = np.fmax(_offered(day, trav, DESK, replications), _offered(day, trav, EGATE, replications))
    return pd.DataFrame({"hour": np.arange(HOURS), "arrivals": np.round(day.arrivals, 1),
                         "desks": np.asarray(day.desks, dtype=int), "egates": np.asarray(day.egates, dtype=int),
                         "p50_wait_min": np.round(np.nan_to_num(q[:, 0]), 2),
                         "p90_wait_min": np.round(np.nan_to_num(q[:, 1]), 2),
                         "utilisation": np.round(util, 3)})[list(WAIT_COLUMNS)]


def pools_table(day: BorderDay, trav: Travellers, wait: np.ndarray, replications: int) -> pd.DataFrame:
    """Per hour and pool (desks, egates): arrivals [persons/hour, mean over replicates], servers,
    mean wait [min], P(wait > 0), p50 and p90 [min], offered utilisation."""
    frames = []
    for pool in (DESK, EGATE):
        sel = trav.pool == pool
        h, w = trav.hour[sel], wait[sel]
        n = np.bincount(h, minlength=HOURS)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.bincount(h, weights=w, minlength=HOURS) / n / 60.0
            pw = np.bincount(h, weights=(w > 0).astype(float), minlength=HOURS) / n
        q = _hour_quantiles(h, w, (0.5, 0.9)) / 60.0
        frames.append(pd.DataFrame({
            "hour": np.arange(HOURS), "pool": POOLS[pool], "arrivals": np.round(n / replications, 1),
            "servers": day.servers(pool), "mean_wait_min": np.round(np.nan_to_num(mean), 3),
            "p_wait": np.round(np.nan_to_num(pw), 4), "p50_wait_min": np.round(np.nan_to_num(q[:, 0]), 2),
            "p90_wait_min": np.round(np.nan_to_num(q[:, 1]), 2),
            "utilisation": np.round(_offered(day, trav, pool, replications), 3)}))
    return pd.concat(frames, ignore_index=True)[list(POOL_COLUMNS)]


# ----------------------------------------------------------------------------------------------
# staffing
# ----------------------------------------------------------------------------------------------
def _needed(trav: Travellers, target_s: float, upper: int) -> tuple[np.ndarray, np.ndarray]:
    """Fewest servers per hour, chosen hour by hour from 00:00, such that the p90 wait of the
    travellers of that hour and of every earlier hour stays at or below ``target_s`` [s] (or at
    what an earlier hour reached if it cannot meet the target within ``upper`` servers). A trial
    for hour ``h`` keeps ``c`` servers from ``h`` on; travellers arriving after ``h`` are left out
    (under FCFS they cannot change an earlier traveller's wait). Common random numbers: the same
    travellers in every trial (with the same service sequence FCFS waits do not grow with ``c``).
    Returns (servers per hour, p90 [s] per hour with them)."""
    servers = np.zeros(HOURS, dtype=np.int64)
    limit = np.full(HOURS, target_s)
    p90 = np.zeros(HOURS)
    n_rep = trav.rep_start.shape[0] - 1
    for h in range(HOURS):
        if not (trav.hour == h).any():
            continue  # no traveller in this hour: nobody needs a server (queue left over is checked below)
        sub = _subset(trav, np.flatnonzero(trav.hour <= h))

        def p90s(c: int) -> np.ndarray:
            trial = servers.copy()
            trial[h:] = c
            w = simulate_pool(sub.arrival, sub.service, sub.rep_start, trial)
            return _hour_quantiles(sub.hour, w, (0.9,))[: h + 1, 0]

        def ok(c: int) -> bool:
            q = p90s(c)
            return bool(np.all(np.nan_to_num(q) <= limit[: h + 1] + 1e-9))

        work = float(sub.service[sub.hour == h].sum()) / n_rep
        guess = min(upper, max(1, int(math.ceil(work / HOUR_SECONDS))))  # the offered load [servers]
        if ok(guess):  # search down: a queue may absorb a short overload within the target
            hi, step = guess, 1
            lo = guess - step
            while lo >= 1 and ok(lo):
                hi, step = lo, step * 2
                lo = hi - step
            lo = max(lo + 1, 1)
        else:  # search up
            lo, hi, step = guess + 1, min(upper, guess + 1), 1
            while not ok(hi) and hi < upper:
                lo, step = hi + 1, step * 2
                hi = min(upper, hi + step)
        a, b = min(lo, hi), hi  # ok(hi) (or hi == upper); every c < lo fails (or lo == 1)
        while a < b:
            m = (a + b) // 2
            if ok(m):
                b = m
            else:
                a = m + 1
        servers[h:] = a
        q = np.nan_to_num(p90s(a))
        limit[: h + 1] = np.maximum(limit[: h + 1], q)
        p90[: h + 1] = q
    return servers, p90


def _subset(trav: Travellers, idx: np.ndarray) -> Travellers:
    rep = trav.replicate[idx]
    n_rep = trav.rep_start.shape[0] - 1
    start = np.zeros(n_rep + 1, dtype=np.int64)
    start[1:] = np.cumsum(np.bincount(rep, minlength=n_rep))
    return Travellers(trav.arrival[idx], trav.hour[idx], trav.pool[idx], trav.service[idx], trav.ees[idx], rep, start)


def staffing_table(run: BorderRun, target_p90_min: float, max_replications: int = 30) -> pd.DataFrame:
    """Desks (and eGates) needed per hour to keep the p90 wait of each hour's travellers at or
    below ``target_p90_min`` [min], with the routing of ``run.day`` (eGates open where the day
    has them). Uses the first ``max_replications`` replicates of ``run`` (common random numbers).
    """
    if not (target_p90_min > 0 and math.isfinite(target_p90_min)):
        raise ScenarioError(f"target_p90_min: expected a number of minutes > 0, found {target_p90_min!r}")
    reps = min(run.replications, max_replications)
    trav = run.travellers
    if reps < run.replications:
        trav = _subset(trav, np.flatnonzero(trav.replicate < reps))
    out = {"hour": np.arange(HOURS), "arrivals": np.round(run.day.arrivals, 1)}
    for pool, name in ((DESK, "desks"), (EGATE, "egates")):
        _, sub = trav.select(pool)
        base = run.day.servers(pool)
        if len(sub) == 0:
            need, p90 = np.zeros(HOURS, dtype=np.int64), np.zeros(HOURS)
        else:
            need, p90 = _needed(sub, target_p90_min * 60.0, MAX_SERVERS)
        out[name] = base
        out[f"{name}_needed"] = need
        out[f"{'desk' if pool == DESK else 'egate'}_p90_wait_min"] = np.round(p90 / 60.0, 2)
    out["target_p90_min"] = target_p90_min
    return pd.DataFrame(out)[list(STAFFING_COLUMNS)]


def with_servers(day: BorderDay, desks: np.ndarray | None = None, egates: np.ndarray | None = None) -> BorderDay:
    """``day`` with another roster of desks and/or eGates per hour."""
    return replace(day, desks=tuple(int(x) for x in desks) if desks is not None else day.desks,
                   egates=tuple(int(x) for x in egates) if egates is not None else day.egates)
