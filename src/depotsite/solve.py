"""Solve a built model with HiGHS (the only module that names it) and map the outcome to domain terms.

Outcomes: ``optimal``; ``time_limit`` (a feasible posture with its gap, and a warning); infeasible
(``InfeasibleError``, with the reasons an ``explain`` callback finds, see ``depotsite.explain``); anything
else is a ``SolverError``. This module knows no rule of the formulation.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pyomo.core as pyo
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs

from depotsite.errors import InfeasibleError, SolverError
from depotsite.posture import SolveOutcome
from depotsite.timelimit import Deadline

log = logging.getLogger(__name__)

SOLVER_NAME = "HiGHS"
Explainer = Callable[..., list[str]]  # explain(model, *, deadline, threads) -> reasons in policy words


def solver_version() -> str:
    return ".".join(str(x) for x in Highs().version())


class StartingHighs(Highs):
    """pyomo's persistent HiGHS interface that can hand HiGHS a starting posture before a run.

    ``start_from(values)`` keeps variable values (a posture known to satisfy the model's rows, or one that
    may not: HiGHS checks it and ignores what it cannot use); the next run gives them to HiGHS as its first
    incumbent; ``start_at_columns(values)`` does the same with one value per column of the loaded model. A
    start only prunes the search: HiGHS still proves the optimum, so it never changes it.
    """

    def __init__(self, **kwargs) -> None:
        start = getattr(self, "_start", {})  # loading a model re-runs __init__: a start given before survives
        start_columns = getattr(self, "_start_columns", None)
        super().__init__(**kwargs)
        self._start: dict[int, float] = start
        self._start_columns = start_columns
        self.start_accepted: bool | None = None  # whether HiGHS took the last start (None: no start given)

    def start_from(self, values: Iterable[tuple[Any, float]] | None) -> None:
        """Use these (variable, value) pairs as the next run's starting posture (None or empty: no start)."""
        self._start = {id(v): float(x) for v, x in (values or ())}
        self._start_columns = None

    def start_at_columns(self, values) -> None:
        """Use one value per column of the loaded model (in the solver's column order, as a ``Relaxation``
        or ``best_in_support`` gives them) as the next run's starting posture."""
        self._start = {}
        self._start_columns = values

    def _solve(self):
        import highspy
        import numpy as np

        self.start_accepted = None
        if self._start_columns is not None:
            values = np.asarray(self._start_columns, dtype=np.float64)
            columns = np.arange(len(values), dtype=np.int32)
        else:
            mapped = self._pyomo_var_to_solver_var_map
            pairs = [(mapped[i], x) for i, x in self._start.items() if i in mapped]
            columns = np.array([c for c, _ in pairs], dtype=np.int32)
            values = np.array([x for _, x in pairs], dtype=np.float64)
        self._start, self._start_columns = {}, None
        if len(columns):
            status = self._solver_model.setSolution(len(columns), columns, values)
            self.start_accepted = status != highspy.HighsStatus.kError
        return super()._solve()


def new_solver() -> StartingHighs:
    """A persistent HiGHS interface: solving the same model again after changing a mutable parameter,
    a bound or the active objective updates the solver's copy instead of rebuilding it; it can take a
    starting posture (``StartingHighs.start_from``)."""
    return StartingHighs()


def model_values(model: pyo.ConcreteModel) -> list[tuple[Any, float]]:
    """(variable, value) for every variable of the model that has a value: a start for the next run."""
    return [(v, v.value) for v in model.component_data_objects(pyo.Var, active=True) if v.value is not None]


def carried_posture(old: pyo.ConcreteModel, new: pyo.ConcreteModel) -> list[tuple[Any, float]]:
    """The posture of ``old`` (a restricted model of ``depotsite.reduction``, solved) as a start for ``new``
    (the same instance over more sites): each variable of ``new`` at the value of the variable of the same
    name in ``old``, the added sites' variables at 0. The added sites stay closed, so the posture keeps every
    rule of ``new``: the formulations the reduction applies to index no variable by anything but sites,
    systems, destinations and hosts (no makespan ladder, no queue)."""
    values = {v.name: v.value for v in old.component_data_objects(pyo.Var, active=True) if v.value is not None}
    return [(v, values.get(v.name, 0.0)) for v in new.component_data_objects(pyo.Var, active=True)]


_scheduler_threads: list[int] = []  # the thread count HiGHS's process-wide task scheduler was started with


def _use_threads(threads: int) -> None:
    """HiGHS starts one task scheduler per process with the first run's thread count and refuses a run
    that asks for another ("global scheduler has already been initialized"); restart it when the count
    changes, so a second solve with other settings in the same process works."""
    if _scheduler_threads and _scheduler_threads[0] != threads:
        import highspy

        highspy.Highs.resetGlobalScheduler(True)
    _scheduler_threads[:] = [threads]


@dataclass(frozen=True)
class SolverProgress:
    """Where a branch-and-bound run stands: the best posture's objective (None before one is found), the best
    bound, their relative gap, the seconds HiGHS has run and the nodes it has explored."""

    incumbent: float | None
    bound: float
    gap: float
    elapsed_s: float
    nodes: int


Watcher = Callable[[SolverProgress], None]


class _Reporter:
    """HiGHS's MIP callback, passed on to a watcher at most every ``every_s`` seconds (and at each new posture)."""

    def __init__(self, watcher: Watcher, every_s: float, improving: int) -> None:
        self.watcher, self.every_s, self.improving, self.last = watcher, every_s, improving, -math.inf

    def __call__(self, event) -> None:
        data = event.data_out
        if int(event.callback_type) != self.improving and data.running_time - self.last < self.every_s:
            return
        self.last = data.running_time
        incumbent = data.mip_primal_bound if math.isfinite(data.mip_primal_bound) else None
        self.watcher(
            SolverProgress(
                incumbent=incumbent,
                bound=data.mip_dual_bound,
                gap=data.mip_gap,
                elapsed_s=data.running_time,
                nodes=int(data.mip_node_count),
            )
        )


@contextmanager
def _watching(solver: Highs, watcher: Watcher | None) -> Iterator[None]:
    """Pass HiGHS's MIP progress to ``watcher`` during one run (nothing without a watcher)."""
    # pyomo's interface keeps the highspy object it built as _solver_model: the only way to its callbacks
    highs = getattr(solver, "_solver_model", None)
    if watcher is None or highs is None:
        yield
        return
    import highspy

    reporter = _Reporter(watcher, 0.5, int(highspy.cb.HighsCallbackType.kCallbackMipImprovingSolution))
    events = (highs.cbMipInterrupt, highs.cbMipImprovingSolution)
    for event in events:
        event.subscribe(reporter)
    try:
        yield
    finally:
        for event in events:
            event.unsubscribe(reporter)


def run_highs(
    model: pyo.ConcreteModel,
    *,
    deadline: Deadline,
    mip_gap: float,
    threads: int,
    show_log: bool,
    solver: Highs | None = None,
    stage: str = "solving",
    watcher: Watcher | None = None,
    log_file: str | None = None,
):
    """One HiGHS run that gets what remains of ``deadline`` once the model is loaded into the solver.

    ``watcher`` is called with the incumbent, bound and gap while branch and bound runs (about every half
    second, and at every better posture); ``log_file`` receives HiGHS's own log.
    """
    solver = solver or new_solver()
    if not solver.available():
        raise SolverError("HiGHS is not available; reinstall the 'highspy' package")
    deadline.check(f"{stage} (before handing the model to HiGHS)")
    if getattr(solver, "_model", None) is not model:  # loading a large model takes time of its own
        solver.set_instance(model)
    deadline.check(f"{stage} (after handing the model to HiGHS)")
    _use_threads(threads)
    with _watching(solver, watcher):
        return solver.solve(
            model,
            time_limit=highs_time_limit_s(deadline),
            rel_gap=mip_gap,
            threads=threads,
            tee=show_log,
            load_solutions=False,
            raise_exception_on_nonoptimal_result=False,
            solver_options={"log_file": log_file} if log_file else {},
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
    explain: Explainer | None = None,
    solver: Highs | None = None,
    deadline: Deadline | None = None,
    watcher: Watcher | None = None,
    log_file: str | None = None,
) -> SolveOutcome:
    """Solve ``model`` in place (its variables hold the posture afterwards).

    Parameters
    ----------
    model
        A model from ``build_model``.
    time_limit_s
        The budget of this solve and its explanation when no ``deadline`` is given.
    explain
        Called as ``explain(model, deadline=..., threads=...)`` when HiGHS proves the model infeasible;
        its lines become the ``InfeasibleError`` (``depotsite.explain.explain_infeasible``).
    deadline
        The solve stage's budget, already running since the model build: HiGHS gets what remains, and the
        explanation of an infeasible scenario what remains after that.
    watcher, log_file
        Live progress (``SolverProgress``: incumbent, bound, gap, seconds) and a file for HiGHS's own log.

    Returns
    -------
    SolveOutcome
        The status, objective, bound and gap.

    Raises
    ------
    InfeasibleError
        With the rule families that conflict, in domain words (when given ``explain``).
    SolverError
        When HiGHS fails, the time limit ran out before it could start, or it stopped at the time limit
        without any feasible posture.
    """
    deadline = deadline or Deadline(time_limit_s)
    started = time.perf_counter()
    refine = getattr(model, "refine", None)  # a model may need rows its solution shows (exact queues)
    solver = solver or new_solver()
    rounds = 0
    while True:
        rounds += 1
        results = run_highs(
            model,
            deadline=deadline,
            mip_gap=mip_gap,
            threads=threads,
            show_log=show_log,
            solver=solver,
            watcher=watcher,
            log_file=log_file,
        )
        _raise_without_posture(results, model, deadline=deadline, explain=explain, threads=threads)
        results.solution_loader.load_vars()
        added = refine(model) if refine is not None else 0
        if not added or deadline.expired():
            break
        if isinstance(solver, StartingHighs):  # the refined posture still satisfies every row: start there
            solver.start_from(model_values(model))
        log.info("solve: round %d added %d rows the posture needed; solving again", rounds, added)
    elapsed = time.perf_counter() - started
    outcome = outcome_of(
        results,
        deadline=deadline,
        solve_s=elapsed,
        objective=float(pyo.value(next(model.component_data_objects(pyo.Objective, active=True)))),
        settled=not added,
    )
    log.info("solve: %s, objective %.6g, gap %.3g, %.2f s", outcome.status, outcome.objective, outcome.gap, elapsed)
    return outcome


def _raise_without_posture(results, model, *, deadline: Deadline, explain: Explainer | None, threads: int) -> None:
    """Raise the domain error of a HiGHS run that found no posture: infeasible, out of time, or failed."""
    term = results.termination_condition
    if term in (TerminationCondition.provenInfeasible, TerminationCondition.infeasibleOrUnbounded):
        reasons = explain(model, deadline=deadline, threads=threads) if explain is not None else []
        raise InfeasibleError(reasons or ["HiGHS proved that no posture satisfies every rule of the scenario"])
    if not _feasible(results):
        if term == TerminationCondition.maxTimeLimit:
            raise SolverError(
                f"no feasible posture found within {deadline.name()}; raise [solver] time_limit_s or --time-limit"
            )
        raise SolverError(f"HiGHS stopped without a posture ({term.name})")


def outcome_of(
    results, *, deadline: Deadline, solve_s: float, objective: float | None = None, settled: bool = True
) -> SolveOutcome:
    """The domain outcome of a HiGHS run that found a posture: optimal, or stopped at the limit with its gap.

    Parameters
    ----------
    results
        pyomo's results of the run (a feasible or optimal solution status).
    deadline
        The budget the run had, named in the time-limit warning.
    solve_s
        Seconds the run took.
    objective
        The posture's true objective when it differs from HiGHS's (rows added after the run), else HiGHS's.
    settled
        False when the run's posture needed rows it did not have: not proven optimal, whatever HiGHS says.

    Returns
    -------
    SolveOutcome
        ``optimal`` only when HiGHS proved it; the gap is 0 below round-off between objective and bound.
    """
    objective = float(results.incumbent_objective) if objective is None else objective
    bound = None if results.objective_bound is None else float(results.objective_bound)
    term = results.termination_condition
    if not settled:
        status = "time_limit"
    elif (
        results.solution_status == SolutionStatus.optimal and term == TerminationCondition.convergenceCriteriaSatisfied
    ):
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
        warnings = (
            f"stopped at {deadline.name()} with a feasible posture; "
            f"it is within {100 * gap:.2f}% of the best bound, not proven optimal",
        )
        log.warning(warnings[0])
    return SolveOutcome(status=status, objective=objective, bound=bound, gap=gap, solve_s=solve_s, warnings=warnings)


@dataclass(frozen=True)
class Probe:
    """The answer of a feasibility sub-solve: whether a posture exists, and whether time ran out first."""

    feasible: bool
    timed_out: bool


def probe(
    model: pyo.ConcreteModel,
    *,
    deadline: Deadline,
    mip_gap: float,
    threads: int,
    load: bool = False,
    stage: str = "explaining the infeasibility",
) -> Probe:
    """One sub-solve with what remains of ``deadline`` (timed out at once when nothing remains).

    Parameters
    ----------
    model
        The model as it stands (the caller may have relaxed or added components).
    deadline, mip_gap, threads
        The budget, the relative gap that counts as done (1.0: any feasible posture) and HiGHS threads.
    load
        Load the posture found into the variables, if one was found before the time ran out.
    stage
        Named in the message when the time runs out while HiGHS loads the model.

    Returns
    -------
    Probe
        Whether a posture exists and whether the time limit stopped HiGHS.
    """
    if deadline.expired():
        return Probe(feasible=False, timed_out=True)
    try:
        results = run_highs(model, deadline=deadline, mip_gap=mip_gap, threads=threads, show_log=False, stage=stage)
    except SolverError:
        if deadline.expired():  # ran out while loading the model into HiGHS
            return Probe(feasible=False, timed_out=True)
        raise
    answer = Probe(
        feasible=_feasible(results), timed_out=results.termination_condition == TerminationCondition.maxTimeLimit
    )
    if load and answer.feasible and not answer.timed_out:
        results.solution_loader.load_vars()
    return answer


def _run_plain(lp, *, time_limit_s: float, threads: int, **options):
    """A quiet highspy run of ``lp`` (a ``HighsLp`` copy of a loaded model), outside pyomo's interface, with
    these HiGHS ``options``; the ``Highs`` object, run."""
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", max(1e-3, time_limit_s))
    h.setOptionValue("threads", threads)
    for name, value in options.items():
        h.setOptionValue(name, value)
    h.passModel(lp)
    h.run()
    return h


IPM_FROM_COLUMNS = 10_000  # a relaxation of this many columns or more is solved by the interior point method


@dataclass(frozen=True)
class Relaxation:
    """The linear relaxation of a model at its optimum, as the reduction's proof reads it.

    ``row_dual`` and ``cost`` follow HiGHS's convention for a minimisation: every column's reduced cost is
    ``cost - A^T row_dual``, and a dual is non-negative on a binding ``>=`` row, non-positive on a binding
    ``<=`` row. ``column`` maps each pyomo variable (by ``id``) to its column, ``row`` each constraint to
    its row; ``matrix`` is the constraint matrix (scipy CSC, rows x columns). ``solver`` holds the model
    itself (integer columns still integer), so a MIP solve of the same model need not load it again;
    ``method`` says which LP algorithm gave the optimum (``simplex`` or ``ipm``); ``col_value`` is the LP
    optimum itself, one value per column.
    """

    objective: float
    col_value: Any
    row_dual: Any
    cost: Any
    matrix: Any
    column: dict[int, int]
    row: dict[Any, int]
    solve_s: float
    method: str
    solver: Any = field(repr=False, compare=False)


def relaxation(model: pyo.ConcreteModel, *, deadline: Deadline, threads: int, method: str = "auto") -> Relaxation:
    """Solve the linear relaxation of ``model`` (every integer variable continuous within its bounds).

    Parameters
    ----------
    model
        A built model; it is not changed.
    deadline, threads
        The budget (the LP gets what remains) and HiGHS threads.
    method
        ``simplex`` (HiGHS's dual simplex), ``ipm`` (its interior point method, with crossover to a basic
        optimum, so the row duals are those of a vertex as with the simplex), or ``auto``: ``ipm`` from
        ``IPM_FROM_COLUMNS`` columns, where it was three times faster on the pricing relaxations of 2,000
        candidate sites (``benchmarks/README.md``), else ``simplex``. An ``ipm`` run that ends without an
        optimum is run again by the simplex.

    Returns
    -------
    Relaxation
        The LP optimum, its row duals, the column costs and the matrix, with pyomo's variable and constraint
        maps and the solver that holds the model.

    Raises
    ------
    SolverError
        When the LP is not solved to optimality within the budget (infeasible, or out of time).
    """
    import highspy
    import numpy as np
    from scipy.sparse import csc_matrix, csr_matrix

    if method not in ("auto", "simplex", "ipm"):
        raise ValueError(f"unknown LP method {method!r}: use 'auto', 'simplex' or 'ipm'")
    started = time.perf_counter()
    loader = new_solver()
    deadline.check("solving the linear relaxation (before loading it)")
    loader.set_instance(model)
    lp = loader._solver_model.getLp()  # pyomo's interface keeps the highspy object as _solver_model
    lp.integrality_ = []  # continuous
    if method == "auto":
        method = "ipm" if lp.num_col_ >= IPM_FROM_COLUMNS else "simplex"
    _use_threads(threads)

    def run(algorithm: str):
        return _run_plain(lp, time_limit_s=highs_time_limit_s(deadline), threads=threads, solver=algorithm)

    h = run(method)
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal and method == "ipm" and not deadline.expired():
        log.info("relaxation: the interior point method ended %s; solving by the simplex", h.getModelStatus())
        method = "simplex"
        h = run(method)
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise SolverError(f"the linear relaxation ended {h.modelStatusToString(h.getModelStatus())}")

    a = lp.a_matrix_
    parts = (np.asarray(a.value_), np.asarray(a.index_), np.asarray(a.start_))
    shape = (lp.num_row_, lp.num_col_)
    rowwise = a.format_ == highspy.MatrixFormat.kRowwise
    matrix = csr_matrix(parts, shape=shape).tocsc() if rowwise else csc_matrix(parts, shape=shape)
    solution = h.getSolution()  # a copy of every value: taken once
    return Relaxation(
        objective=float(h.getInfo().objective_function_value),
        col_value=np.asarray(solution.col_value),
        row_dual=np.asarray(solution.row_dual),
        cost=np.asarray(lp.col_cost_),
        matrix=matrix,
        column=dict(loader._pyomo_var_to_solver_var_map),
        row=dict(loader._pyomo_con_to_solver_con_map),
        solve_s=time.perf_counter() - started,
        method=method,
        solver=loader,
    )


@dataclass(frozen=True)
class SupportBest:
    """The best posture a MIP over part of a model found (``best_in_support``): its objective, one value per
    column of the model, whether it is proven the best of that part, and the seconds it took."""

    objective: float
    col_value: Any
    proven: bool
    solve_s: float


def best_in_support(
    rel: Relaxation, *, closed: Iterable[int], time_limit_s: float, threads: int, mip_gap: float = 0.0
) -> SupportBest | None:
    """Solve the MIP of the model ``rel.solver`` holds with the columns ``closed`` held at zero (a neighbourhood
    of the LP optimum: the columns it leaves at zero stay there), within ``time_limit_s``.

    Every posture it finds satisfies every row of the whole model (the part only adds bounds), so it is a
    start for the whole model's MIP. Returns None when it finds no posture in time, or none exists.
    """
    import highspy
    import numpy as np

    started = time.perf_counter()
    lp = rel.solver._solver_model.getLp()  # a copy, integer columns still integer
    closed = np.fromiter(closed, dtype=np.int64)
    upper = np.asarray(lp.col_upper_, dtype=np.float64)
    upper[closed] = 0.0
    lp.col_upper_ = upper
    _use_threads(threads)
    h = _run_plain(lp, time_limit_s=time_limit_s, threads=threads, mip_rel_gap=mip_gap)
    status = h.getModelStatus()
    found = h.getInfo().primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    if not found:
        log.info("support MIP: %s without a posture", h.modelStatusToString(status))
        return None
    return SupportBest(
        objective=float(h.getInfo().objective_function_value),
        col_value=np.asarray(h.getSolution().col_value),
        proven=status == highspy.HighsModelStatus.kOptimal,
        solve_s=time.perf_counter() - started,
    )
