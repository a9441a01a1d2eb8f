"""Erlang C written independently of ketenplan.border.queue, for the border tests."""

from __future__ import annotations

import math

from scipy.stats import poisson


def erlang_c_independent(servers: int, arrivals_per_hour: float, service_seconds: float) -> dict[str, float]:
    """M/M/c figures written from the textbook formula with Poisson terms (scipy), independent of
    ``ketenplan.border.queue`` (which uses the Erlang B recursion):
    C = [a^c/c! * c/(c-a)] / [sum_{k<c} a^k/k! + a^c/c! * c/(c-a)], with the e^-a factors of the
    Poisson pmf/cdf cancelling; E[W] = C / (c mu - lambda)."""
    lam = arrivals_per_hour / 3600.0
    a = lam * service_seconds
    top = poisson.pmf(servers, a) * servers / (servers - a)
    c = top / (poisson.cdf(servers - 1, a) + top)
    rate = servers / service_seconds - lam
    p90 = 0.0 if c <= 0.1 else math.log(c / 0.1) / rate
    return {"p_wait": c, "mean_wait_s": c / rate, "p90_wait_s": p90}
