"""Trade-off analysis on one built model: the time-risk Pareto front and near-optimal alternatives.

The model is built once; each point changes a mutable bound (``risk_cap``, ``time_cap``), switches the
active objective, or adds a cut, and the same persistent HiGHS interface re-solves it.

The time limit bounds the whole analysis, not each point: every point (or alternative) gets an equal
share of the time that remains, so a point that finishes early leaves more to those after it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import pyomo.core as pyo

from depotsite.dispatch import site_classes
from depotsite.errors import InfeasibleError, SolverError
from depotsite.explain import explain_infeasible
from depotsite.instance import Instance
from depotsite.model import posture_of
from depotsite.posture import SolveOutcome
from depotsite.results import RunResult, collect
from depotsite.solve import StartingHighs, model_values, new_solver, solve
from depotsite.timelimit import Deadline

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FrontPoint:
    epsilon: float  # the risk bound of this point (risk units)
    result: RunResult


def _add_tradeoff_components(model: pyo.ConcreteModel) -> None:
    """Objectives for time and risk alone, and mutable caps on each (inactive until used)."""
    if hasattr(model, "risk_cap"):
        return
    model.epsilon = pyo.Param(mutable=True, initialize=1e9)
    model.time_bound = pyo.Param(mutable=True, initialize=1e9)
    model.risk_cap = pyo.Constraint(expr=model.risk <= model.epsilon)
    model.time_cap = pyo.Constraint(expr=model.time_h <= model.time_bound)
    model.time_floor = pyo.Param(mutable=True, initialize=-1e9)
    model.time_at_least = pyo.Constraint(expr=model.time_h >= model.time_floor)
    model.min_time = pyo.Objective(expr=model.time_h)
    model.min_risk = pyo.Objective(expr=model.risk)
    for component in (model.min_time, model.min_risk):
        component.deactivate()


def _use(model: pyo.ConcreteModel, objective: str) -> None:
    for name in ("objective", "min_time", "min_risk"):
        getattr(model, name).activate() if name == objective else getattr(model, name).deactivate()


def _explain_scenario(m: pyo.ConcreteModel, **options) -> list[str]:
    """Why the scenario has no posture (``explain_infeasible``), on the model with its own objective active
    instead of a trade-off one; the caps the trade-off adds (at 1e9 for the first point) change nothing."""
    _use(m, "objective")
    return explain_infeasible(m, **options)


HAIR = 1e-7  # relative slack when fixing the first objective's optimum as a bound for the second


def lexicographic_point(
    m: pyo.ConcreteModel,
    solver,
    *,
    budget: Deadline,
    risk_first: bool,
    epsilon: float,
    mip_gap: float,
    threads: int,
) -> RunResult:
    """One point of the front: minimise time with risk <= epsilon, then risk at that time (or risk first).

    Parameters
    ----------
    m, solver
        A model with the trade-off components and its persistent solver.
    budget
        The point's time; the first stage gets half of it, the second what remains.
    risk_first
        Minimise risk first (the least-risk end of the front), then time at that risk.

    Returns
    -------
    RunResult
        The posture of the second stage, with the first stage's status when that one was not proven.
    """

    def run(objective: str, stage_budget: Deadline) -> SolveOutcome:
        _use(m, objective)
        # an infeasible scenario shows at the first point's first stage: explained as solve explains it
        return solve(
            m, deadline=stage_budget, mip_gap=mip_gap, threads=threads, solver=solver, explain=_explain_scenario
        )

    m.epsilon.set_value(epsilon)
    m.time_bound.set_value(1e9)
    first = run("min_risk" if risk_first else "min_time", budget.share(2))
    if risk_first:
        m.epsilon.set_value(first.objective * (1 + HAIR) + 1e-9)
    else:
        m.time_bound.set_value(first.objective * (1 + HAIR) + 1e-9)
    if isinstance(solver, StartingHighs):  # the first stage's posture meets the second stage's bound: start there
        solver.start_from(model_values(m))
    second = run("min_time" if risk_first else "min_risk", budget)
    result = collect(m.instance, posture_of(m), second)
    if first.status != "optimal":  # the point is only as proven as its first stage
        result = replace(
            result, status=first.status, gap=max(first.gap, second.gap), warnings=(*first.warnings, *result.warnings)
        )
    return result


@dataclass(frozen=True)
class _Solved:
    """A point of the front as it was solved: its bound, which objective went first, its posture and the
    model's time term there."""

    epsilon: float
    risk_first: bool
    result: RunResult
    time_h: float  # the model's time term at the posture (what the time-first stage minimised)


def _within(result: RunResult, epsilon: float) -> bool:
    """The posture's risk, recomputed from its shares, meets ``risk <= epsilon``. The recomputed value is
    never below the model's own risk at that posture (exact for the largest share; for the Herfindahl
    index the model's tangents lie under it), so a posture that passes here meets the model's cap."""
    return result.terms["risk"] <= epsilon + 1e-9 * max(1.0, abs(epsilon))


def _repeated_point(solved: list[_Solved], epsilon: float) -> _Solved | None:
    """An earlier time-first point, proven in both stages, whose posture already meets ``risk <= epsilon``
    though it was solved under a looser bound. It is this point's answer too: its time is least over a
    set of postures that holds this point's, and it lies in this point's, so the first stage's optimum is
    the same; the second stage (least risk at that time) is then the very same problem."""
    for earlier in solved:
        if (
            not earlier.risk_first
            and earlier.epsilon >= epsilon
            and earlier.result.status == "optimal"
            and _within(earlier.result, epsilon)
        ):
            return earlier
    return None


def _time_floor(solved: list[_Solved]) -> float:
    """A lower bound on the least time of the next time-first point: the least time of the proven
    time-first points before it. The sweep's bounds only tighten (epsilon falls point by point), so each
    point's postures are a subset of every earlier one's and its least time is at least theirs. The
    posture's time term lies within the second stage's ``HAIR`` (and the solver's tolerance) above that
    least time, so the floor is taken a little below it. Minus 1e9 when no point is proven yet."""
    proven = [e.time_h for e in solved if not e.risk_first and e.result.status == "optimal"]
    return (max(proven) - 1e-6) / (1 + HAIR) - 1e-6 if proven else -1e9


def pareto_front(
    model: pyo.ConcreteModel,
    *,
    points: int,
    time_limit_s: float = 60.0,
    mip_gap: float = 0.0,
    threads: int = 2,
    progress: Callable[[int, int], None] | None = None,
    rebuild: Callable[[], pyo.ConcreteModel] | None = None,
    deadline: Deadline | None = None,
) -> list[FrontPoint]:
    """The time-vs-risk front by the epsilon-constraint method, lexicographic at every point.

    The first point is the fastest posture (least risk among the fastest), the last the least risky
    (fastest among the least risky); between them epsilon sweeps the risk evenly. At each: minimise time
    with risk <= epsilon, then minimise risk with time <= that optimum, so no reported point is dominated.
    A point whose bound an earlier proven point's posture already meets is that point, without a solve
    (``_repeated_point`` says why that is exact). Each time-first point's time is bounded below by the
    proven points before it (``_time_floor``): the bound its LP lacks (on the base, 8.4 s of solves for
    the front instead of 11.9). The first stage is not started from the fastest posture solved so far
    within its bound: on the base that made the front 1.3-2 s slower.
    ``rebuild`` (for benchmarks) builds a fresh model and solver for every point instead of reusing them.

    Parameters
    ----------
    deadline
        The budget of the whole front (a new one of ``time_limit_s`` when not given); each point gets an
        equal share of what remains, split between its two stages.
    """
    if points < 2:
        raise ValueError("a front needs at least 2 points")
    deadline = deadline or Deadline(time_limit_s)
    left = [points]  # points still to solve, each with an equal share of the remaining time
    solved: list[_Solved] = []

    def point(m: pyo.ConcreteModel, solver, *, risk_first: bool, epsilon: float = 1e9) -> RunResult:
        budget = deadline.share(left[0])
        left[0] -= 1
        if not risk_first:
            repeated = _repeated_point(solved, epsilon)
            if repeated is not None:
                log.info("pareto point at risk <= %.6g is the proven point at risk <= %.6g", epsilon, repeated.epsilon)
                return repeated.result
        m.time_floor.set_value(-1e9 if risk_first else _time_floor(solved))
        result = lexicographic_point(
            m,
            solver,
            budget=budget,
            risk_first=risk_first,
            epsilon=epsilon,
            mip_gap=mip_gap,
            threads=threads,
        )
        solved.append(_Solved(epsilon=epsilon, risk_first=risk_first, result=result, time_h=pyo.value(m.time_h)))
        return result

    def fresh() -> tuple[pyo.ConcreteModel, object]:
        m = rebuild() if rebuild is not None else model
        _add_tradeoff_components(m)
        return m, new_solver()

    started = time.perf_counter()
    m, solver = fresh()
    fastest = point(m, solver, risk_first=False)
    if progress:
        progress(1, points)
    if rebuild is not None:
        m, solver = fresh()
    safest = point(m, solver, risk_first=True)
    r_max, r_min = fastest.terms["risk"], safest.terms["risk"]
    front = [FrontPoint(epsilon=r_max, result=fastest)]
    for i in range(1, points - 1):
        if rebuild is not None:
            m, solver = fresh()
        epsilon = r_max - (r_max - r_min) * i / (points - 1)
        front.append(FrontPoint(epsilon=epsilon, result=point(m, solver, risk_first=False, epsilon=epsilon)))
        if progress:
            progress(i + 1, points)
    front.append(FrontPoint(epsilon=r_min, result=safest))
    if progress:
        progress(points, points)
    if rebuild is None:  # hand the caller's model back with its own objective and no caps
        _use(model, "objective")
        model.epsilon.set_value(1e9)
        model.time_bound.set_value(1e9)
        model.time_floor.set_value(-1e9)
    log.info("pareto_front solved %d points in %.1f s", points, time.perf_counter() - started)
    return front


def knee(front: list[FrontPoint]) -> int:
    """Index of the point farthest from the straight line between the two extremes (both axes scaled)."""
    times = [p.result.terms["time_h"] for p in front]
    risks = [p.result.terms["risk"] for p in front]
    t_span = (max(times) - min(times)) or 1.0
    r_span = (max(risks) - min(risks)) or 1.0
    x = [(t - min(times)) / t_span for t in times]
    y = [(r - min(risks)) / r_span for r in risks]
    x0, y0, x1, y1 = x[0], y[0], x[-1], y[-1]
    norm = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5 or 1.0
    distance = [abs((x1 - x0) * (y0 - yi) - (x0 - xi) * (y1 - y0)) / norm for xi, yi in zip(x, y, strict=True)]
    return max(range(len(front)), key=lambda i: distance[i])


@dataclass(frozen=True)
class Alternative:
    rank: int
    result: RunResult
    difference: str


def describe_difference(p: Instance, base: RunResult, other: RunResult) -> str:
    """One line: sites opened and closed, and the host shares that moved most."""
    opened = sorted(set(other.open_sites) - set(base.open_sites))
    closed = sorted(set(base.open_sites) - set(other.open_sites))
    parts = []
    if opened:
        parts.append("opens " + ", ".join(opened))
    if closed:
        parts.append("closes " + ", ".join(closed))
    moves = sorted(p.hosts, key=lambda h: -abs(other.host_value_shares[h] - base.host_value_shares[h]))
    shifts = [
        f"{h} {base.host_value_shares[h]:.1f}->{other.host_value_shares[h]:.1f}%"
        for h in moves[:3]
        if abs(other.host_value_shares[h] - base.host_value_shares[h]) > 0.05
    ]
    if shifts:
        parts.append("shares " + ", ".join(shifts))
    extra = 100 * (other.objective - base.objective) / abs(base.objective) if base.objective else 0.0
    return "; ".join(parts or ["same sites, same shares"]) + f" (objective +{extra:.2f}%)"


def _opened(model: pyo.ConcreteModel) -> set[str]:
    """The sites open in the model's posture (forced sites included, held or not)."""
    return {s for s, v in model.open_site.items() if (v.value or 0.0) > 0.5}


def alternatives(
    model: pyo.ConcreteModel,
    *,
    count: int,
    within_pct: float,
    time_limit_s: float = 60.0,
    threads: int = 2,
    progress: Callable[[int, int], None] | None = None,
    deadline: Deadline | None = None,
) -> tuple[RunResult, list[Alternative]]:
    """The optimum and up to ``count`` postures with other open-site sets within ``within_pct`` of it.

    Each new posture must differ from every earlier one in at least one open site (a no-good cut on the
    ``open_site`` binaries) and keep the weighted objective within the allowance. While it searches, a site
    that is open and not forced holds at least one unit (``holds_a_unit``), so a posture that differs only
    in an empty site left open is not found again as an alternative; and the model's site-dominance rows are
    left out: they keep an optimum but cut off the postures that open a dominated site instead of the site
    that dominates it, which are alternatives a host negotiation asks about.

    Parameters
    ----------
    deadline
        The budget of the whole search (a new one of ``time_limit_s`` when not given); the optimum and each
        alternative get an equal share of what remains. When it runs out, fewer alternatives are returned.
    """
    p: Instance = model.instance
    deadline = deadline or Deadline(time_limit_s)
    dominance = getattr(model, "site_dominance", None)
    if dominance is not None:
        dominance.deactivate()
    solver = new_solver()
    optimum = solve(
        model, deadline=deadline.share(count + 1), threads=threads, solver=solver, explain=explain_infeasible
    )
    best = collect(p, posture_of(model), optimum)
    model.within = pyo.Constraint(expr=model.objective.expr <= best.objective * (1 + within_pct / 100) + 1e-9)
    forced = set(p.force_open)
    held = site_classes(p)
    model.holds_a_unit = pyo.Constraint(
        [s for s in p.sites if s not in forced],
        rule=lambda m, s: m.open_site[s] <= sum(m.stock[s, w] for w in held.get(s, ())),
    )
    model.no_good = pyo.ConstraintList()
    found: list[Alternative] = []
    seen = [_opened(model)]
    for rank in range(1, count + 1):
        opened = seen[-1]
        model.no_good.add(
            sum(1 - model.open_site[s] for s in p.sites if s in opened)
            + sum(model.open_site[s] for s in p.sites if s not in opened)
            >= 1
        )
        if deadline.expired():
            log.warning("alternatives: %s ran out after %d alternative(s)", deadline.name(), rank - 1)
            break
        try:
            outcome = solve(model, deadline=deadline.share(count + 1 - rank), threads=threads, solver=solver)
        except (InfeasibleError, SolverError) as exc:  # no further posture within the allowance or the time
            log.info("alternatives: no further posture within %.2f%% (%s)", within_pct, exc)
            break
        result = collect(p, posture_of(model), outcome)
        seen.append(_opened(model))
        found.append(Alternative(rank=rank, result=result, difference=describe_difference(p, best, result)))
        if progress:
            progress(rank, count)
    for name in ("within", "holds_a_unit", "no_good"):
        model.del_component(name)
    if dominance is not None:
        dominance.activate()
    return best, found
