"""A first-come-first-served multi-server queue with an hourly number of servers (numba kernel),
and the Erlang C formulas for the stationary M/M/c queue.

Queue discipline (the same as the SimPy reference in ``ketenplan.testing_border``):

* one queue per server pool, served first come first served by identical servers;
* the number of servers on duty changes at whole hours (``servers[h]`` from ``h * 3600`` s);
* when it drops by ``d`` at time ``T``, the ``d`` servers that are (or become) free first after
  ``T`` leave; a server busy at ``T`` finishes its traveller first (no pre-emption), and the
  leaving servers take precedence over travellers already waiting;
* when it rises at ``T``, the most recently removed servers come back (last out, first in): a
  server whose removal had not yet taken effect (still busy with a traveller) simply stays;
* after the last hour the last hour's servers stay until the queue is empty.

The kernel keeps the free-from time of every server on duty and a stack of removed servers; a
traveller starts at ``max(arrival, earliest free-from)``. Start times never decrease, so an hour
boundary is applied as soon as a traveller would start at or after it. Cost: O(n x servers).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

HOUR_SECONDS = 3600.0


@njit(cache=True, nogil=True)
def _pool_kernel(arrival, service, rep_start, servers, wait, hour_seconds):  # pragma: no cover - numba
    n_hours = servers.shape[0]
    cmax = 0
    for h in range(n_hours):
        if servers[h] > cmax:
            cmax = servers[h]
    free = np.empty(max(cmax, 1), dtype=np.float64)
    stack = np.empty(max(cmax, 1), dtype=np.float64)
    n_rep = rep_start.shape[0] - 1
    for r in range(n_rep):
        active = servers[0]
        for k in range(active):
            free[k] = 0.0
        top = 0
        for k in range(cmax - active):
            stack[top] = 0.0
            top += 1
        b = 1  # next hour boundary to apply
        for i in range(rep_start[r], rep_start[r + 1]):
            a = arrival[i]
            while True:
                idx = -1
                fmin = math.inf
                for k in range(active):
                    if free[k] < fmin:
                        fmin = free[k]
                        idx = k
                s = a if a > fmin else fmin
                if b < n_hours and b * hour_seconds <= s:
                    t = b * hour_seconds
                    target = servers[b]
                    while active > target:  # the server free first (from t on) leaves
                        j = 0
                        for k in range(1, active):
                            if free[k] < free[j]:
                                j = k
                        stack[top] = free[j] if free[j] > t else t
                        top += 1
                        active -= 1
                        free[j] = free[active]
                    while active < target:  # the last removed server comes back
                        top -= 1
                        f = stack[top]
                        free[active] = f if f > t else t
                        active += 1
                    b += 1
                    continue
                break
            if idx < 0:  # no server on duty and no later hour: cannot be served
                wait[i] = math.inf
                continue
            wait[i] = s - a
            free[idx] = s + service[i]


def simulate_pool(arrival: np.ndarray, service: np.ndarray, rep_start: np.ndarray,
                  servers: np.ndarray, hour_seconds: float = HOUR_SECONDS) -> np.ndarray:
    """Waiting times [s] of travellers at one server pool.

    ``arrival`` [s from the start of the day] must be sorted within each replicate; replicate
    ``r`` is ``arrival[rep_start[r]:rep_start[r + 1]]`` and starts with an empty queue.
    ``service`` [s] is each traveller's service time, ``servers[h]`` the servers on duty in hour
    ``h``. A traveller who can never be served (no servers from some hour on) gets ``inf``.
    """
    arrival = np.ascontiguousarray(arrival, dtype=np.float64)
    service = np.ascontiguousarray(service, dtype=np.float64)
    rep_start = np.ascontiguousarray(rep_start, dtype=np.int64)
    servers = np.ascontiguousarray(servers, dtype=np.int64)
    wait = np.empty(arrival.shape[0], dtype=np.float64)
    if arrival.shape[0]:
        _pool_kernel(arrival, service, rep_start, servers, wait, float(hour_seconds))
    return wait


# ----------------------------------------------------------------------------------------------
# Erlang C (stationary M/M/c)
# ----------------------------------------------------------------------------------------------
def erlang_b(servers: int, load: float) -> float:
    """Erlang B blocking probability for ``servers`` servers and offered ``load`` [Erlang]
    (stable recursion B_k = a B_{k-1} / (k + a B_{k-1}))."""
    b = 1.0
    for k in range(1, int(servers) + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arriving customer waits, M/M/c with ``load`` = lambda/mu [Erlang] < servers."""
    if not 0 <= load < servers:
        raise ValueError(f"Erlang C needs 0 <= load < servers, found load {load:g} and {servers} servers")
    b = erlang_b(servers, load)
    return servers * b / (servers - load * (1.0 - b))


def erlang_c_wait(arrivals_per_hour: float, servers: int, service_seconds: float) -> dict[str, float]:
    """Stationary M/M/c waiting-time figures.

    Returns ``p_wait`` (P(wait > 0)), ``mean_wait_s`` [s], ``p50_wait_s`` and ``p90_wait_s`` [s]
    (from P(W > t) = C exp(-(c mu - lambda) t)) and ``utilisation`` (lambda / (c mu)).
    """
    lam = arrivals_per_hour / HOUR_SECONDS
    mu = 1.0 / service_seconds
    load = lam / mu
    c = erlang_c(servers, load)
    rate = servers * mu - lam

    def quantile(q: float) -> float:
        return 0.0 if c <= 1.0 - q else math.log(c / (1.0 - q)) / rate

    return {"p_wait": c, "mean_wait_s": c / rate, "p50_wait_s": quantile(0.5), "p90_wait_s": quantile(0.9),
            "utilisation": load / servers}
