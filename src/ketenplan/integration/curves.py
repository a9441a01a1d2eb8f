"""Closed-form curves shared by the models and their fits (P6.3, P6.4).

All functions are vectorised over NumPy arrays and have no state.

- :func:`employment_share` -- share of working-age permit holders in paid work by years since
  the permit: a log-logistic rise to a plateau,
  ``e(tau) = plateau / (1 + (tau / t50) ** (-1 / shape))``.
- :func:`cohort_t50` -- the median-rise time ``t50`` of a permit cohort and group: later
  cohorts rise faster (``exp(-speedup * (cohort - 2014))``, clipped to the fitted cohorts).
- :func:`waiting_factor` -- the multiplicative effect of waiting (Hainmueller, Hangartner &
  Lawrence 2016): ``(1 - effect) ** (extra years waited)``.
- :func:`benefit_share` -- share of working-age permit holders on benefits given the employment
  share: ``floor + (top - floor) * (1 - e / plateau) ** power``.
- :func:`lognormal_cdf` -- time-to-pass distribution of civic integration.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

__all__ = ["employment_share", "cohort_t50", "waiting_factor", "benefit_share", "lognormal_cdf",
           "lognormal_mean"]

REFERENCE_COHORT = 2014


def employment_share(tau_years, t50, shape, plateau):
    """Share employed [0..plateau] at ``tau_years`` since the permit (0 for tau <= 0).

    ``t50`` [years] is when half the plateau is reached, ``shape`` [-] the log-logistic scale
    (smaller = steeper), ``plateau`` [share] the long-run share employed.
    """
    tau = np.asarray(tau_years, dtype=float)
    t50 = np.asarray(t50, dtype=float)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        z = np.where(tau > 0, np.log(np.where(tau > 0, tau, 1.0) / t50) / shape, -np.inf)
        out = plateau / (1.0 + np.exp(-z))
    return np.where(tau > 0, out, 0.0)


def cohort_t50(cohort, t50_2014, speedup_per_year, first=2014, last=2017, group_speed=1.0):
    """Median-rise time [years] of permit cohort ``cohort`` [calendar year of the permit].

    The cohort trend is applied only inside the fitted cohorts ``first..last``; cohorts outside
    take the nearest fitted cohort's speed (no extrapolation of the trend). ``group_speed`` [-]
    multiplies ``t50`` (above 1 = slower group).
    """
    c = np.clip(np.asarray(cohort, dtype=float), first, last)
    return t50_2014 * np.exp(-speedup_per_year * (c - REFERENCE_COHORT)) * np.asarray(group_speed, dtype=float)


def waiting_factor(extra_wait_years, effect_per_year, cap=None):
    """Multiplier of later employment for ``extra_wait_years`` [years] waited beyond the reference.

    ``effect_per_year`` [share] is the relative fall per extra year (0.20 = 20 %). Shorter waits
    (negative extra) give a factor above 1, capped at ``cap`` when given.
    """
    f = np.power(1.0 - effect_per_year, np.asarray(extra_wait_years, dtype=float))
    return f if cap is None else np.minimum(f, cap)


def benefit_share(employed_share, plateau, top, floor, power):
    """Share of working-age permit holders on a benefit given the share employed.

    ``top`` [share] at no employment, ``floor`` [share] at the plateau, ``power`` [-] < 1 makes
    benefit dependency fall faster than employment rises (household means test, longer hours).
    """
    e = np.clip(np.asarray(employed_share, dtype=float) / plateau, 0.0, 1.0)
    return floor + (top - floor) * np.power(1.0 - e, power)


def lognormal_cdf(t_years, median_years, sigma):
    """P(time to pass <= t) for a lognormal time to pass [years]; 0 for t <= 0."""
    t = np.asarray(t_years, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (np.log(np.where(t > 0, t, 1.0)) - np.log(median_years)) / sigma
    return np.where(t > 0, ndtr(z), 0.0)


def lognormal_mean(median_years, sigma):
    """Mean [years] of the lognormal time to pass."""
    return float(median_years * np.exp(0.5 * sigma * sigma))
