"""Housing task (taakstelling) and optimal placement of permit holders (P6.1, P6.2, P3.7, P5.3)."""

from ketenplan.placement.solver import (PlacementProblem, PlacementResult, SolveStatus, evaluate_assignment,
                                        greedy_placement, solve_placement)

__all__ = ["PlacementProblem", "PlacementResult", "SolveStatus", "evaluate_assignment", "greedy_placement",
           "solve_placement"]
