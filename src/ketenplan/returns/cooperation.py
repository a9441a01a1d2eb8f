"""Country-cooperation lever (P4.2): how a change in readmission cooperation moves the
verified (independent + forced) departure of a group, after a lag and a ramp.

The effect size is a named assumption (no source quantifies it, domain note C8): a change
``c`` in [-1, 1] moves the group's verified-departure probability ``rho`` and its forced share
``phi`` toward the reference group's values (``c > 0``) or scales them down (``c < 0``):

* ``c > 0``: ``rho' = rho + e * max(rho_ref - rho, 0)``, ``phi' = phi + e * max(phi_ref - phi, 0)``
* ``c < 0``: ``rho' = rho * (1 + e)``, ``phi' = phi * (1 + e)``

with ``e = c * ramp(t)`` and ``ramp`` 0 before the lag, rising linearly to 1 over the ramp.
Cases that no longer depart verified keep the group's split between departure without
supervision and staying, so the four probabilities still sum to 1.
"""

from __future__ import annotations

from ketenplan.scenario.pillar4 import CountryCooperation, GroupReturn


def ramp(months_since_start: float, lag_months: float, ramp_months: float) -> float:
    """Share of the full effect reached [-] at ``months_since_start`` after the measure."""
    t = months_since_start - lag_months
    if t <= 0:
        return 0.0
    if ramp_months <= 0:
        return 1.0
    return min(t / ramp_months, 1.0)


def apply_change(base: GroupReturn, reference: GroupReturn, effect: float) -> GroupReturn:
    """Outcome probabilities of ``base`` after a cooperation effect ``effect`` in [-1, 1] [-]."""
    if not -1.0 <= effect <= 1.0:
        raise ValueError(f"cooperation effect must lie in [-1, 1], found {effect}")
    if effect == 0:
        return base
    rho = base.p_verified
    phi = base.p_forced / rho if rho > 0 else 0.0
    rho_ref = reference.p_verified
    phi_ref = reference.p_forced / rho_ref if rho_ref > 0 else 0.0
    if effect >= 0:
        rho_new = rho + effect * max(rho_ref - rho, 0.0)
        phi_new = phi + effect * max(phi_ref - phi, 0.0)
    else:
        rho_new = rho * (1 + effect)
        phi_new = phi * (1 + effect)
    rest = 1.0 - rho
    u_share = base.p_unsupervised / rest if rest > 0 else 0.0
    rest_new = 1.0 - rho_new
    return base.model_copy(update={
        "p_independent": rho_new * (1 - phi_new),
        "p_forced": rho_new * phi_new,
        "p_unsupervised": rest_new * u_share,
        "p_still_present": rest_new * (1 - u_share),
    })


def outcomes_at(groups: dict[str, GroupReturn], lever: CountryCooperation, year: int, month: int = 1) -> dict[str, GroupReturn]:
    """Per-group outcome probabilities for cases entering the return process in ``year``-``month``
    under the lever; groups without a change keep their base values."""
    months = (year - lever.start_year) * 12 + (month - 1)
    share = ramp(months, lever.lag_months, lever.ramp_months)
    out = dict(groups)
    ref = groups[lever.reference_group]
    for c in lever.changes:
        out[c.group] = apply_change(groups[c.group], ref, c.change * share)
    return out
