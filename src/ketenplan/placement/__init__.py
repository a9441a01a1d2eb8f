"""Housing task (taakstelling) and optimal placement of permit holders (P6.1, P6.2, P3.7, P5.3).

- :func:`housing_task`: the housing task per municipality for a half-year.
- :func:`solve_placement`, :func:`greedy_placement`, :func:`evaluate_assignment` on a
  :class:`PlacementProblem` (from arrays or :func:`read_placement_inputs`).
- :class:`EmploymentModel`, :func:`default_employment_model`: employment weights.
- :func:`chain_placement`: post-processor of the chain simulation's journey table.
"""

from ketenplan.placement.chain import JOURNEY_COLUMNS, PlacementOutcome, chain_placement, status_quo_placement
from ketenplan.placement.employment import EmploymentModel, default_employment_model, load_parameters, urbanity_index
from ketenplan.placement.io import read_placement_inputs
from ketenplan.placement.solver import (PlacementProblem, PlacementResult, SolveStatus, evaluate_assignment,
                                        greedy_placement, solve_placement)
from ketenplan.placement.taakstelling import (housing_task, largest_remainder, load_municipalities, read_backlog,
                                              task_by_province)

__all__ = ["EmploymentModel", "JOURNEY_COLUMNS", "PlacementOutcome", "PlacementProblem", "PlacementResult",
           "SolveStatus", "chain_placement", "default_employment_model", "evaluate_assignment", "greedy_placement",
           "housing_task", "largest_remainder", "load_municipalities", "load_parameters", "read_backlog",
           "read_placement_inputs", "solve_placement", "status_quo_placement", "task_by_province", "urbanity_index"]
