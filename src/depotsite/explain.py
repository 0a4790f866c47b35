"""Why no posture exists, in policy words: the rule families of ``depotsite.model``, probed by sub-solves.

``explain_infeasible`` first makes demand elastic to tell how many units of each system the rules leave
room for, then relaxes each rule family alone to find the ones whose relaxation would make the scenario
feasible. ``run_solve`` is ``depotsite.solve.solve`` with this explanation attached.
"""

from __future__ import annotations

from typing import Any

import pyomo.core as pyo

from depotsite.model import FAMILIES, Family
from depotsite.solve import SolveOutcome, probe, solve
from depotsite.timelimit import Deadline

TIMED_OUT = "timed out"  # the shortfall sub-solve ran out of time
Shortfall = dict[str, float] | str | None
RELAX_FIRST = ("rule", "capacity")  # policy rules before what a site physically holds


def relaxable_families(model: pyo.ConcreteModel) -> list[tuple[Family, list[pyo.Constraint]]]:
    """The families a user can relax, rules first, each with its active, non-empty constraint components.

    Policy rules come before capacities because a user can change a rule; a site's size is a fact.

    Parameters
    ----------
    model
        A model from ``build_model`` (its ``family_rows`` name each family's components).

    Returns
    -------
    list of (Family, list of Constraint)
        Families with words (``describe``) of kind "rule", then "capacity", in ``FAMILIES`` order; a
        family with no active, non-empty component is left out.
    """
    found = []
    for kind in RELAX_FIRST:
        for family in FAMILIES:
            if family.kind != kind or family.describe is None:
                continue
            components = [
                c
                for name in model.family_rows[family.name]
                if (c := model.component(name)) is not None and c.active and len(c) > 0
            ]
            if components:
                found.append((family, components))
    return found


def shortfall(model: pyo.ConcreteModel, *, deadline: Deadline, threads: int) -> Shortfall:
    """Most units of each system that can be placed with every rule but full demand.

    Demand is made elastic (``meet_demand`` and the objective replaced by a shortfall per destination and
    system, weighted by 1 / demand, minimised to optimality); the model is restored afterwards, even on
    an error.

    Parameters
    ----------
    model
        A model from ``build_model``, changed only for the duration of the call.
    deadline
        The budget; the sub-solve gets what remains of it.
    threads
        Solver threads.

    Returns
    -------
    dict, str or None
        Units short of the requirement per system id (summed over destinations); None when even elastic
        demand is infeasible; ``TIMED_OUT`` when the time limit ran out before it could tell.
    """
    demand = model.instance.demand
    model.meet_demand.deactivate()
    model.objective.deactivate()
    model.short = pyo.Var(list(demand), domain=pyo.NonNegativeReals)
    model.meet_demand_elastic = pyo.Constraint(
        list(demand),
        rule=lambda m, d, w: m.meet_demand[d, w].body + m.short[d, w] == demand[d, w],
    )
    model.shortfall = pyo.Objective(expr=sum(model.short[k] / demand[k] for k in demand))
    try:
        answer = probe(model, deadline=deadline, mip_gap=0.0, threads=threads, load=True)
        if answer.timed_out:
            return TIMED_OUT
        if not answer.feasible:
            return None
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


def relaxations(
    model: pyo.ConcreteModel, families: list[tuple[Family, list[pyo.Constraint]]], *, deadline: Deadline, threads: int
) -> tuple[list[str], int]:
    """The families that, relaxed alone, leave a feasible scenario (in words), and how many were checked.

    Each family's components are switched off for one feasibility sub-solve (any feasible posture will
    do) and switched on again; the checks stop when the deadline is spent.

    Parameters
    ----------
    model
        A model from ``build_model`` that is infeasible as it stands.
    families
        As ``relaxable_families`` returns them, in the order to check.
    deadline
        The budget; each sub-solve gets what remains of it.
    threads
        Solver threads.

    Returns
    -------
    tuple of (list of str, int)
        The ``describe`` words of every family whose relaxation alone gives a feasible posture, and the
        number of families whose answer is known (fewer than given when the time ran out).
    """
    fixes, checked = [], 0
    for family, components in families:
        if deadline.expired():
            break
        for c in components:
            c.deactivate()
        try:
            answer = probe(model, deadline=deadline, mip_gap=1.0, threads=threads)
        finally:
            for c in components:
                c.activate()
        if answer.timed_out and not answer.feasible:
            break  # out of time: this family's answer is unknown
        checked += 1
        if answer.feasible and family.describe is not None:
            fixes.append(family.describe(model.instance))
    return fixes, checked


def explain_infeasible(
    model: pyo.ConcreteModel, *, deadline: Deadline | None = None, time_limit_s: float = 30.0, threads: int = 2
) -> list[str]:
    """Say in domain words why no posture exists.

    First, how many units of each system the rules leave room for (demand made elastic); then which
    rule family, relaxed alone, would make the scenario feasible. Every sub-solve gets what remains of
    ``deadline`` (a new one of ``time_limit_s`` when not given); when it runs out the explanation says it
    is incomplete.

    Parameters
    ----------
    model
        A model from ``build_model`` that the solver proved infeasible.
    deadline, time_limit_s
        The budget of the explanation, or when no deadline is given, its length in seconds.
    threads
        Solver threads.

    Returns
    -------
    list of str
        One line per finding, in policy words: the shortfall per system, the families whose relaxation
        alone would do (or that several conflict together), the routes deadlines already rule out, and
        whether the explanation is incomplete.
    """
    deadline = deadline or Deadline(time_limit_s)
    inst = model.instance
    lines = []
    short = shortfall(model, deadline=deadline, threads=threads)
    if isinstance(short, dict):
        for w, units in short.items():
            if units > 1e-6:
                req = inst.requirement[w]
                lines.append(
                    f"the rules leave room for {req - units:g} of {req} {inst.inputs.systems[w].name} "
                    f"({w}): sites, kinds, deadlines and caps together hold too little"
                )
    families = relaxable_families(model)
    fixes, checked = relaxations(model, families, deadline=deadline, threads=threads)
    timed_out = short is TIMED_OUT or checked < len(families)
    if fixes:
        lines.append("relaxing any one of these alone would make it feasible: " + "; ".join(fixes))
    elif not timed_out and (lines or short is None):
        lines.append(
            "no single rule family causes it alone; several conflict together "
            "(check host and group caps, min hosts, resilience and site limits)"
        )
    if inst.dropped_by_deadline:
        lines.append(f"deadlines already rule out {len(inst.dropped_by_deadline)} site-destination routes")
    if timed_out:
        lines.append(
            f"this explanation is incomplete: {deadline.name()} ran out after "
            f"checking {checked} of {len(families)} rule families; raise [solver] time_limit_s or "
            "--time-limit for a full one"
        )
    return lines


def run_solve(
    model: pyo.ConcreteModel,
    *,
    time_limit_s: float = 60.0,
    mip_gap: float = 0.0,
    threads: int = 2,
    show_log: bool = False,
    solver: Any = None,
    deadline: Deadline | None = None,
    watcher: Any = None,
    log_file: str | None = None,
) -> SolveOutcome:
    """``depotsite.solve.solve`` that explains an infeasible scenario with ``explain_infeasible``.

    Parameters
    ----------
    model
        A model from ``build_model``.
    time_limit_s, mip_gap, threads, show_log, deadline, watcher, log_file
        As for ``depotsite.solve.solve``.
    solver
        A persistent interface from ``depotsite.solve.new_solver`` to reuse, or None for a new one.

    Returns
    -------
    SolveOutcome
        The status, objective, bound and gap; the model's variables hold the posture.

    Raises
    ------
    InfeasibleError
        With the shortfall and the rule families whose relaxation alone would make it feasible.
    """
    return solve(
        model,
        time_limit_s=time_limit_s,
        mip_gap=mip_gap,
        threads=threads,
        show_log=show_log,
        solver=solver,
        deadline=deadline,
        explain=explain_infeasible,
        watcher=watcher,
        log_file=log_file,
    )
