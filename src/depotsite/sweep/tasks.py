"""What a worker runs for one case of a sweep: build, solve and summarise one scenario into a compact result.

A task gets the case's scenario, the tables and travel times its case shares with others (scattered once to
the workers, never recomputed per task) and, for the fixed-posture question, the stock of a run. It returns
a plain dict (JSON-ready, a few kilobytes): the status, the terms, host shares, per-system times, the stock
(for the site frequencies), and the fixed posture's time, shortfall and regret. Every failure of the case
itself (infeasible, no posture within the time limit, numerical trouble, a bug) is caught and returned as
the case's status, so one case never stops a sweep.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from dataclasses import dataclass
from typing import Any

from depotsite.errors import InfeasibleError, InputError, NumericsError, SolverError
from depotsite.inputs import Inputs
from depotsite.instance import Instance, build_instance
from depotsite.results import RunResult, risk_value, value_shares
from depotsite.scenario import Scenario
from depotsite.sweep.spec import SiteChange, apply_site_changes
from depotsite.timelimit import Deadline
from depotsite.traveltimes import Leg, TravelTimes

RESULT_FORMAT = 1
"""Bump when what a task returns changes: results stored by an older format are solved again."""
FAILED = ("infeasible", "no_posture", "input_error", "numerics", "error", "worker_lost")
"""Statuses of a case without a posture of its own (``optimal`` and ``time_limit`` have one)."""
RETRIED = ("error", "worker_lost")
"""Statuses a resumed sweep solves again (a bug or a lost worker may not recur; an infeasible case would)."""
THREADS_PER_TASK = 1
"""HiGHS threads per task: a sweep gets its parallelism from the workers, one case each."""


def plain_inputs(inputs: Inputs) -> Inputs:
    """The tables in plain dicts (picklable: read-only mapping proxies are not), to send to workers."""
    return Inputs(
        hosts=dict(inputs.hosts),
        sites=dict(inputs.sites),
        systems=dict(inputs.systems),
        destinations=dict(inputs.destinations),
        demand=dict(inputs.demand),
        files=dict(inputs.files),
    )


def compact_travel(travel: TravelTimes) -> TravelTimes:
    """Travel times without their route geometry, in plain dicts: what a case's solve reads, small to send."""
    legs = {
        pair: Leg(leg.hours, leg.profile, leg.road_km, leg.borders_crossed, leg.snap_km)
        for pair, leg in travel.legs.items()
    }
    return TravelTimes(legs=legs, unreachable=dict(travel.unreachable), source=travel.source, warnings=travel.warnings)


@dataclass(frozen=True)
class CaseTask:
    """One case as a worker receives it (the shared tables, travel times and posture are passed alongside)."""

    case_id: str
    fingerprint: str
    scenario: Scenario
    site_changes: tuple[SiteChange, ...]
    time_limit_s: float


def weighted(p: Instance, time_h: float, risk: float, cost_musd: float) -> float:
    """The scenario's weighted objective of three terms."""
    o = p.scenario.objective
    return o.time_weight * time_h + o.risk_weight * risk + o.cost_weight * cost_musd


def _terms(result: RunResult) -> dict[str, Any]:
    return {
        "objective": result.objective,
        "gap": result.gap,
        "time_h": result.terms["time_h"],
        "risk": result.terms["risk"],
        "cost_musd": result.terms["cost_musd"],
        "open_sites": list(result.open_sites),
        "host_value_shares": {h: round(v, 6) for h, v in result.host_value_shares.items()},
        "system_times_h": {w: {"mean": t.mean_h, "worst": t.worst_h} for w, t in result.system_times.items()},
        "stock": [[s, w, n] for (s, w), n in result.stock.items()],
        "warnings": list(result.warnings),
    }


def _reoptimise(p: Instance, deadline: Deadline) -> RunResult:
    from depotsite.explain import run_solve
    from depotsite.model import build_model, posture_of
    from depotsite.results import collect

    model = build_model(p, deadline=deadline)
    outcome = run_solve(model, deadline=deadline, mip_gap=p.scenario.solver.mip_gap, threads=THREADS_PER_TASK)
    return collect(p, posture_of(model), outcome)


def fixed_posture(p: Instance, stock: dict[tuple[str, str], int], deadline: Deadline) -> dict[str, Any]:
    """A run's stock kept where it is and re-routed in this case: time, shortfall, and the posture's terms.

    Parameters
    ----------
    p
        The case's instance (its routes, deadlines, release delays, threats and costs apply).
    stock
        Units per (site, system) of the fixed posture.
    deadline
        The budget of the re-route.

    Returns
    -------
    dict
        ``time_h`` (the case's time measure over the units that arrive: priority-weighted mean, or the last
        arrival), ``short_units`` and ``short`` per system, ``short_value_pct``, per-system mean and worst
        hours, the posture's ``risk`` and ``cost_musd``, and ``objective`` (weighted, None when units are
        short: a posture that cannot deliver has no comparable objective).
    """
    from depotsite.analysis.stress import reroute_stock

    case = reroute_stock(p, stock, threads=THREADS_PER_TASK, deadline=deadline)
    delivered = {w: n for w, n in case.delivered.items() if n}
    if p.time_measure == "makespan":
        time_h = max((h for h in case.worst_h.values() if h is not None), default=None)
    else:
        weight = sum(p.priority[w] * n for w, n in delivered.items())
        time_h = (
            sum(p.priority[w] * (case.mean_h[w] or 0.0) * n for w, n in delivered.items()) / weight if weight else None
        )
    kept = {(s, w): n for (s, w), n in stock.items() if w in p.value}
    risk = risk_value(p, value_shares(p, kept))
    cost = sum(p.fixed_cost_musd.get(s, 0.0) for s in {s for s, _ in kept})
    short_units = case.total_short
    return {
        "time_h": time_h,
        "short_units": short_units,
        "short": case.systems_short,
        "short_value_pct": case.value_short_pct,
        "system_times_h": {w: {"mean": case.mean_h[w], "worst": case.worst_h[w]} for w in p.systems},
        "risk": risk,
        "cost_musd": cost,
        "objective": weighted(p, time_h, risk, cost) if short_units == 0 and time_h is not None else None,
    }


def _failure(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, InfeasibleError):
        return "infeasible", "; ".join(exc.explanation)
    if isinstance(exc, NumericsError):
        return "numerics", "; ".join(exc.violations)
    if isinstance(exc, SolverError):
        return "no_posture", str(exc)
    if isinstance(exc, InputError):
        return "input_error", "; ".join(exc.problems)
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" (at {last[0].filename}:{last[0].lineno})" if last else ""
    return "error", f"{type(exc).__name__}: {exc}{where}"


def solve_case(
    task: CaseTask,
    inputs: Inputs,
    travel: TravelTimes,
    posture: dict[tuple[str, str], int] | None = None,
) -> dict[str, Any]:
    """Solve one case (and re-route the fixed posture, when given); never raises for a failure of the case.

    Parameters
    ----------
    task
        The case: its id, fingerprint, scenario, changes to the sites table and time limit.
    inputs, travel
        The tables and travel times of the case's group (shared by the tasks of a worker).
    posture
        The fixed posture's stock, or None for the re-optimised question alone.

    Returns
    -------
    dict
        ``case_id``, ``fingerprint``, ``status`` (``optimal``, ``time_limit`` or one of ``FAILED``),
        ``message``, the terms, shares, times and stock of the re-optimised posture (when there is one),
        ``posture`` (the fixed posture's answer) with ``regret_h`` and ``regret_objective`` against the
        re-optimised posture, ``task_s`` and ``worker``.
    """
    started = time.perf_counter()
    out: dict[str, Any] = {
        "format": RESULT_FORMAT,
        "case_id": task.case_id,
        "fingerprint": task.fingerprint,
        "status": "error",
        "message": "",
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }
    p: Instance | None = None
    try:
        case_inputs = apply_site_changes(inputs, task.site_changes)
        p = build_instance(case_inputs, travel, task.scenario)
        budget = Deadline(task.time_limit_s)
        result = _reoptimise(p, budget.share(2) if posture is not None else budget)
        out |= {"status": result.status, **_terms(result)}
    except Exception as exc:
        out["status"], out["message"] = _failure(exc)
    if posture is not None and p is not None:
        try:
            fixed = fixed_posture(p, posture, Deadline(max(1.0, task.time_limit_s / 2)))
            fixed["status"] = "ok"
        except Exception as exc:
            fixed = {"status": _failure(exc)[0], "message": _failure(exc)[1]}
        out["posture"] = fixed
        best = out.get("time_h")
        if fixed.get("time_h") is not None and best is not None and fixed.get("short_units") == 0:
            out["regret_h"] = fixed["time_h"] - best
            out["regret_objective"] = fixed["objective"] - weighted(p, best, out["risk"], out["cost_musd"])
    out["task_s"] = time.perf_counter() - started
    return out
