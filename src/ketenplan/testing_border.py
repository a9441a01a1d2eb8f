"""SimPy reference implementation of the border queue: the test oracle for ``ketenplan.border``.

Written the way a SimPy user would model passport control, not as a port of the kernel loop:

* one ``simpy.PriorityResource`` per server pool with capacity = the most servers in any hour;
* one process per traveller: arrive (``env.timeout``), request a server (priority 0, first come
  first served), wait, hold it for the service time, release it;
* a staffing process changes the number of servers at each whole hour by *blocking* servers:
  a blocker is a request with priority -1 that takes the next free server ahead of waiting
  travellers and holds it while the server is off duty (a busy server finishes its traveller
  first). When servers come back, the most recent blocker is released (or withdrawn if it had
  not got its server yet).

It consumes the same drawn travellers (arrival and service times) as the numba kernel, so the
waits agree to floating-point rounding (the kernel computes ``max(arrival, free-from)``, SimPy
``now + delay``). Test and benchmark material only; the library never imports SimPy.
"""

from __future__ import annotations

import numpy as np
import simpy

HOUR_SECONDS = 3600.0


def simpy_pool_waits(arrival: np.ndarray, service: np.ndarray, rep_start: np.ndarray, servers: np.ndarray,
                     hour_seconds: float = HOUR_SECONDS) -> np.ndarray:
    """Waits [s] of one pool, replicate by replicate (each a fresh SimPy environment)."""
    wait = np.full(len(arrival), np.inf)
    for r in range(len(rep_start) - 1):
        lo, hi = int(rep_start[r]), int(rep_start[r + 1])
        wait[lo:hi] = _one_day(arrival[lo:hi], service[lo:hi], servers, hour_seconds)
    return wait


def _one_day(arrival: np.ndarray, service: np.ndarray, servers: np.ndarray, hour_seconds: float) -> np.ndarray:
    env = simpy.Environment()
    cmax = int(max(servers)) if len(servers) else 0
    desks = simpy.PriorityResource(env, capacity=max(cmax, 1))
    wait = np.full(len(arrival), np.inf)
    blockers: list[simpy.resources.resource.PriorityRequest] = []

    def set_servers(n: int) -> None:
        on_duty = max(cmax, 1) - len(blockers)
        for _ in range(on_duty - n):  # fewer servers: block the next ones to come free
            blockers.append(desks.request(priority=-1))
        for _ in range(n - on_duty):  # more servers: the most recent blocker goes
            req = blockers.pop()
            if req.triggered:
                desks.release(req)
            else:
                req.cancel()

    def staffing():
        set_servers(int(servers[0]))
        for h in range(1, len(servers)):
            yield env.timeout(h * hour_seconds - env.now)
            set_servers(int(servers[h]))

    def traveller(i: int):
        with desks.request(priority=0) as req:
            yield req
            wait[i] = env.now - arrival[i]
            yield env.timeout(service[i])

    def source():
        for i in range(len(arrival)):
            yield env.timeout(arrival[i] - env.now)
            env.process(traveller(i))

    env.process(staffing())
    env.process(source())
    env.run()
    return wait


def simpy_day_waits(day, travellers) -> np.ndarray:
    """Waits [s] of all travellers of a ``ketenplan.border.model.Travellers`` draw for ``day``
    (a ``BorderDay``), pool by pool, in the order of ``travellers``."""
    from ketenplan.border.model import DESK, EGATE

    wait = np.empty(len(travellers))
    for pool in (DESK, EGATE):
        idx, sub = travellers.select(pool)
        wait[idx] = simpy_pool_waits(sub.arrival, sub.service, sub.rep_start, day.servers(pool))
    return wait
