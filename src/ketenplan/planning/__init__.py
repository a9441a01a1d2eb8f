"""Capacity planning under uncertainty (P3.5, P3.4): capacity policies side by side on common random
numbers, beds needed at assurance levels, costs over time per chain partner (``ketenplan plan-capacity``).

See :mod:`ketenplan.planning.plan` (the ensembles and tables), :mod:`ketenplan.planning.costs` (the
cost arithmetic) and :mod:`ketenplan.planning.report` (the page).
"""

from __future__ import annotations

from ketenplan.planning.plan import (ASSURANCE, Plan, Policy, apply_policy, beds_at_assurance, builtin_policies,
                                     pareto_front, plan_capacity, read_policy, resolve_policies)

__all__ = ["ASSURANCE", "Plan", "Policy", "apply_policy", "beds_at_assurance", "builtin_policies", "pareto_front",
           "plan_capacity", "read_policy", "resolve_policies"]
