"""Run one replicate: compile the scenario, advance the chain period by period with its hooks,
check the invariants and hand back the raw arrays."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ketenplan.engine.compile import Compiled, compile_replicate
from ketenplan.engine.hooks import HousingTask
from ketenplan.engine.state import Run, check_conservation
from ketenplan.scenario.schema import Scenario

#: per-case results of the kernel state that the outputs keep
CASE_RESULTS = ("arrival_day", "reg_day", "decision_day", "outcome", "housed_day", "exit_day", "exit_reason",
                "moves", "breach", "loc")


@dataclass
class ReplicateOutput:
    """Raw arrays of one replicate (what the kernel wrote) with the compiled inputs."""

    replicate: int
    compiled: Compiled
    stage_stock: np.ndarray  # [T, stage] persons
    loc_stock: np.ndarray  # [T, location] persons
    flows: np.ndarray  # [T, flow] persons/day
    housing: pd.DataFrame  # period, task, backlog_in, realised, granted [persons]
    case: dict[str, np.ndarray]  # per-case results
    day_inputs: dict[str, np.ndarray]  # the per-day inputs as the run used them (after hooks)

    def slim(self) -> "ReplicateOutput":
        """The output without the compiled kernel inputs (what a worker process sends back)."""
        c = self.compiled
        kept = Compiled(grid=c.grid, half_labels=c.half_labels, inputs=None,
                        case={k: _narrow(v) for k, v in c.case.items()}, scalars=c.scalars,
                        group_names=c.group_names, housing=c.housing, policy=c.policy,
                        decision_policy=c.decision_policy)
        return replace(self, compiled=kept, case={k: _narrow(v) for k, v in self.case.items()})


def _narrow(a: np.ndarray) -> np.ndarray:
    return a.astype(np.int32) if a.dtype == np.int64 else a


def default_hooks(c: Compiled) -> list:
    """The hooks every run has: the housing task, then the scenario's capacity policy (if any)."""
    from ketenplan.engine.policies import policy_hooks

    return [HousingTask(**c.housing)] + policy_hooks(c.policy, c.grid.start_index, c.decision_policy)


def output_of(run: Run, check: bool = True) -> ReplicateOutput:
    """The finished run's arrays as a ReplicateOutput (conservation checked unless ``check`` is False)."""
    if check:
        check_conservation(run)
    st = run.state
    # the kernel's 32-bit days (engine.kernel.CASE_INT) as int64, as outputs have held them
    case = {k: getattr(st, k) for k in CASE_RESULTS} | run.case_results()
    try:
        housing = run.hook("housing_task").table()
    except KeyError:
        housing = pd.DataFrame(columns=["period", "task", "backlog_in", "realised", "granted"])
    from ketenplan.engine import kernel as K

    days = {f: np.asarray(getattr(run.inputs, f)) for f in K.DAY_FIELDS}
    return ReplicateOutput(run.replicate, run.compiled, st.stage_stock, st.loc_stock, st.flows, housing, case, days)


def run_compiled(c: Compiled, replicate: int = 0, check: bool = True, hooks: list | None = None,
                 period: str = "month") -> ReplicateOutput:
    """Run the chain on compiled inputs with the default hooks (and any ``hooks`` given)."""
    run = Run.start(c, default_hooks(c) + list(hooks or []), replicate=replicate, period=period).finish()
    return output_of(run, check)


def run_replicate(scenario: Scenario, replicate: int, seed_seq: np.random.SeedSequence,
                  first_monthly: np.ndarray | None = None, check: bool = True,
                  hooks: list | None = None) -> ReplicateOutput:
    """Compile with the replicate's own stream and run."""
    from ketenplan.engine.rng import replicate_key

    c = compile_replicate(scenario, replicate_key(seed_seq), first_monthly=first_monthly)
    return run_compiled(c, replicate, check=check, hooks=hooks)
