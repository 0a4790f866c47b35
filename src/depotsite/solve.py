"""Solve a built model with HiGHS (the only module that names it) and map the outcome to domain terms.

Outcomes: ``optimal``; ``time_limit`` (a feasible posture with its gap, and a warning); infeasible
(``InfeasibleError`` explaining which rules conflict); anything else is a ``SolverError``.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import pyomo.environ as pyo
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs

from depotsite.errors import InfeasibleError, SolverError
from depotsite.model import Parameters
from depotsite.timelimit import Deadline

log = logging.getLogger(__name__)

SOLVER_NAME = "HiGHS"
TIMED_OUT = "timed out"  # the shortfall sub-solve ran out of time
Shortfall = dict[str, float] | str | None


def solver_version() -> str:
    return ".".join(str(x) for x in Highs().version())


@dataclass(frozen=True)
class SolveOutcome:
    status: str  # "optimal" or "time_limit"
    objective: float
    bound: float | None
    gap: float  # relative gap between the posture and the best bound (0 when proven optimal)
    solve_s: float
    warnings: tuple[str, ...] = ()


def new_solver() -> Highs:
    """A persistent HiGHS interface: solving the same model again after changing a mutable parameter,
    a bound or the active objective updates the solver's copy instead of rebuilding it."""
    return Highs()


def _run(model: pyo.ConcreteModel, *, deadline: Deadline, mip_gap: float, threads: int, show_log: bool,
         solver: Highs | None = None, stage: str = "solving"):
    """One HiGHS run that gets what remains of ``deadline`` once the model is loaded into the solver."""
    solver = solver or Highs()
    if not solver.available():
        raise SolverError("HiGHS is not available; reinstall the 'highspy' package")
    deadline.check(f"{stage} (before handing the model to HiGHS)")
    if getattr(solver, "_model", None) is not model:  # loading a large model takes time of its own
        solver.set_instance(model)
    deadline.check(f"{stage} (after handing the model to HiGHS)")
    return solver.solve(
        model, time_limit=highs_time_limit_s(deadline), rel_gap=mip_gap, threads=threads, tee=show_log,
        load_solutions=False, raise_exception_on_nonoptimal_result=False,
    )


def highs_time_limit_s(deadline: Deadline) -> float:
    """The time limit HiGHS gets: what remains of the deadline (at least a millisecond, which HiGHS needs)."""
    return max(1e-3, deadline.remaining_s())


def _feasible(results) -> bool:
    return results.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible)


def solve(
    model: pyo.ConcreteModel,
    *,
    time_limit_s: float = 60.0,
    mip_gap: float = 0.0,
    threads: int = 2,
    show_log: bool = False,
    explain: bool = True,
    solver: Highs | None = None,
    deadline: Deadline | None = None,
) -> SolveOutcome:
    """Solve ``model`` in place (its variables hold the posture afterwards).

    Parameters
    ----------
    model
        A model from ``build_model``.
    time_limit_s
        The budget of this solve and its explanation when no ``deadline`` is given.
    deadline
        The solve stage's budget, already running since the model build: HiGHS gets what remains, and the
        explanation of an infeasible scenario what remains after that.

    Raises
    ------
    InfeasibleError
        With the rule families that conflict, in domain words (when ``explain``).
    SolverError
        When HiGHS fails, the time limit ran out before it could start, or it stopped at the time limit
        without any feasible posture.
    """
    deadline = deadline or Deadline(time_limit_s)
    started = time.perf_counter()
    results = _run(model, deadline=deadline, mip_gap=mip_gap, threads=threads, show_log=show_log, solver=solver)
    elapsed = time.perf_counter() - started
    term = results.termination_condition
    if term in (TerminationCondition.provenInfeasible, TerminationCondition.infeasibleOrUnbounded):
        reasons = explain_infeasible(model, deadline=deadline, threads=threads) if explain else []
        raise InfeasibleError(reasons or ["HiGHS proved that no posture satisfies every rule of the scenario"])
    if not _feasible(results):
        if term == TerminationCondition.maxTimeLimit:
            raise SolverError(f"no feasible posture found within {deadline.name()}; "
                              "raise [solver] time_limit_s or --time-limit")
        raise SolverError(f"HiGHS stopped without a posture ({term.name})")
    results.solution_loader.load_vars()
    objective = float(results.incumbent_objective)
    bound = None if results.objective_bound is None else float(results.objective_bound)
    if results.solution_status == SolutionStatus.optimal and term == TerminationCondition.convergenceCriteriaSatisfied:
        status = "optimal"
    elif term in (TerminationCondition.maxTimeLimit, TerminationCondition.iterationLimit):
        status = "time_limit"
    else:
        status = "optimal" if results.solution_status == SolutionStatus.optimal else "time_limit"
    gap = 0.0
    if bound is not None and math.isfinite(bound):
        gap = abs(objective - bound) / max(abs(objective), 1e-9)
    if gap < 1e-9:  # round-off between HiGHS's objective and bound
        gap = 0.0
    warnings: tuple[str, ...] = ()
    if status == "time_limit":
        warnings = (f"stopped at {deadline.name()} with a feasible posture; "
                    f"it is within {100 * gap:.2f}% of the best bound, not proven optimal",)
        log.warning(warnings[0])
    log.info("solve: %s, objective %.6g, gap %.3g, %.2f s", status, objective, gap, elapsed)
    return SolveOutcome(status=status, objective=objective, bound=bound, gap=gap, solve_s=elapsed, warnings=warnings)


def _describe(family: str, p: Parameters) -> str:
    """A rule family named in policy words, with the scenario's numbers."""
    sc = p.scenario
    if family == "host_share_cap":
        parts = [f"{h} value {100 * r.max_value_share:g}%" for h, r in sc.hosts.items()
                 if r.max_value_share is not None]
        parts += [f"{h} {w} {100 * f:g}%" for h, r in sc.hosts.items() for w, f in r.max_unit_share.items()]
        parts += [f"{w} at most {100 * r.max_host_share:g}% per host" for w, r in sc.systems.items()
                  if r.max_host_share is not None]
        return f"host caps ({', '.join(parts)})"
    if family == "group_share_cap":
        parts = [f"{g} value {100 * r.max_value_share:g}%" for g, r in sc.groups.items()
                 if r.max_value_share is not None]
        parts += [f"{g} {w} {100 * f:g}%" for g, r in sc.groups.items() for w, f in r.max_unit_share.items()]
        return f"group caps ({', '.join(parts)})"
    if family == "min_hosts":
        return "minimum hosts per system (" + ", ".join(
            f"{w} in at least {r.min_hosts}" for w, r in sc.systems.items() if r.min_hosts) + ")"
    if family == "min_lot":
        return "minimum lots per site (" + ", ".join(
            f"{w} {p.inputs.systems[w].min_lot}" for w in p.systems if p.inputs.systems[w].min_lot > 1) + ")"
    if family == "host_loss_resilience":
        return "host-loss resilience (" + ", ".join(
            f"{w}: keep {100 * r.resilience.keep_fraction:g}% after losing any {r.resilience.lose_hosts} host(s)"
            for w, r in sc.systems.items() if r.resilience) + ")"
    if family == "max_sites":
        return f"at most {sc.constraints.max_sites} open sites"
    if family == "budget":
        return f"the budget of {sc.constraints.budget_musd:g} M USD"
    if family == "force_open":
        return f"sites forced open ({', '.join(sc.constraints.force_open)})"
    return "site capacities (vehicle bays and aircraft shelters)"


def _components(model: pyo.ConcreteModel, family: str) -> list[pyo.Constraint]:
    return [c for c in model.component_objects(pyo.Constraint, active=True)
            if (c.name == family or c.name.startswith(family + "_")) and len(c) > 0]


def _shortfall(model: pyo.ConcreteModel, p: Parameters, *, deadline: Deadline, threads: int) -> Shortfall:
    """Most units of each system that can be placed with every rule but full demand.

    None when even that fails; ``TIMED_OUT`` when the time limit ran out before it could tell.
    """
    model.meet_demand.deactivate()
    model.objective.deactivate()
    model.short = pyo.Var(list(p.demand), domain=pyo.NonNegativeReals)
    model.meet_demand_elastic = pyo.Constraint(
        list(p.demand),
        rule=lambda m, d, w: m.meet_demand[d, w].body + m.short[d, w] == p.demand[d, w],
    )
    model.shortfall = pyo.Objective(expr=sum(model.short[k] / p.demand[k] for k in p.demand))
    try:
        results = _sub_solve(model, deadline=deadline, mip_gap=0.0, threads=threads)
        if results is None or results.termination_condition == TerminationCondition.maxTimeLimit:
            return TIMED_OUT
        if not _feasible(results):
            return None
        results.solution_loader.load_vars()
        short: dict[str, float] = {}
        for (_d, w), var in model.short.items():
            short[w] = short.get(w, 0.0) + (var.value or 0.0)
        return short
    finally:
        model.del_component(model.shortfall)
        model.del_component(model.meet_demand_elastic)
        model.del_component(model.short)
        model.meet_demand.activate()
        model.objective.activate()


def _sub_solve(model: pyo.ConcreteModel, *, deadline: Deadline, mip_gap: float, threads: int):
    """One explanation sub-solve with what remains of the deadline; None when nothing remains."""
    if deadline.expired():
        return None
    try:
        return _run(model, deadline=deadline, mip_gap=mip_gap, threads=threads, show_log=False,
                    stage="explaining the infeasibility")
    except SolverError:
        if deadline.expired():  # ran out while loading the model into HiGHS
            return None
        raise


FAMILIES = ("host_share_cap", "group_share_cap", "min_hosts", "min_lot", "host_loss_resilience",
            "max_sites", "budget", "force_open", "site_capacity")


def _relaxable(
    model: pyo.ConcreteModel, families: list[tuple[str, list]], *, deadline: Deadline, threads: int
) -> tuple[list[str], int]:
    """The families that, relaxed alone, leave a feasible scenario, and how many were checked in time."""
    fixes, checked = [], 0
    for family, components in families:
        if deadline.expired():
            break
        for c in components:
            c.deactivate()
        try:
            results = _sub_solve(model, deadline=deadline, mip_gap=1.0, threads=threads)
        finally:
            for c in components:
                c.activate()
        if results is None or (not _feasible(results)
                               and results.termination_condition == TerminationCondition.maxTimeLimit):
            break  # out of time: this family's answer is unknown
        checked += 1
        if _feasible(results):
            fixes.append(_describe(family, model.params))
    return fixes, checked


def explain_infeasible(
    model: pyo.ConcreteModel, *, deadline: Deadline | None = None, time_limit_s: float = 30.0, threads: int = 2
) -> list[str]:
    """Say in domain words why no posture exists.

    First, how many units of each system the rules leave room for (demand made elastic); then which
    rule family, relaxed alone, would make the scenario feasible. Every sub-solve gets what remains of
    ``deadline`` (a new one of ``time_limit_s`` when not given); when it runs out the explanation says it
    is incomplete.

    Returns
    -------
    list of str
        One line per finding, in policy words.
    """
    deadline = deadline or Deadline(time_limit_s)
    p: Parameters = model.params
    lines = []
    short = _shortfall(model, p, deadline=deadline, threads=threads)
    if isinstance(short, dict):
        for w, units in short.items():
            if units > 1e-6:
                req = p.requirement[w]
                lines.append(f"the rules leave room for {req - units:g} of {req} {p.inputs.systems[w].name} "
                             f"({w}): sites, kinds, deadlines and caps together hold too little")
    families = [(family, c) for family in FAMILIES if (c := _components(model, family))]
    fixes, checked = _relaxable(model, families, deadline=deadline, threads=threads)
    timed_out = short is TIMED_OUT or checked < len(families)
    if fixes:
        lines.append("relaxing any one of these alone would make it feasible: " + "; ".join(fixes))
    elif not timed_out and (lines or short is None):
        lines.append("no single rule family causes it alone; several conflict together "
                     "(check host and group caps, min hosts, resilience and site limits)")
    if p.dropped_by_deadline:
        lines.append(f"deadlines already rule out {len(p.dropped_by_deadline)} site-destination routes")
    if timed_out:
        lines.append(f"this explanation is incomplete: {deadline.name()} ran out after "
                     f"checking {checked} of {len(families)} rule families; raise [solver] time_limit_s or "
                     "--time-limit for a full one")
    return lines
