"""One time limit bounds the whole solve stage. Every fact here holds on any machine: budgets that
are already spent, and the arithmetic of what remains, never how fast a solve runs."""

from __future__ import annotations

import re
import time

import pytest

from depotsite.analysis.stress import stress_test
from depotsite.analysis.tradeoffs import alternatives
from depotsite.errors import InfeasibleError, SolverError
from depotsite.explain import explain_infeasible, run_solve
from depotsite.instance import build_instance
from depotsite.model import build_model
from depotsite.solve import highs_time_limit_s, new_solver, solve
from depotsite.timelimit import Deadline
from instances import make_inputs, make_scenario, site, system, times

RAISE_IT = r"; raise \[solver\] time_limit_s or --time-limit"


def spent(limit_s: float = 5.0) -> Deadline:
    """A budget that ran out 10 s before the test looked at it."""
    return Deadline(limit_s=limit_s, started=time.monotonic() - limit_s - 10.0)


def two_hosts(**scenario):
    inputs = make_inputs(
        hosts=["A", "B"], sites=[site("a1", "A"), site("b1", "B")], systems=[system("x")], demand={("d1", "x"): 5}
    )
    return inputs, times({("a1", "d1", "x"): 1, ("b1", "d1", "x"): 2}), make_scenario(**scenario)


def test_remaining_time_is_the_limit_less_what_was_used():
    started = time.monotonic() - 4.0
    deadline = Deadline(limit_s=10.0, started=started)
    assert 0.0 <= deadline.remaining_s() <= 6.0
    assert deadline.elapsed_s() >= 4.0
    assert 0.0 < highs_time_limit_s(deadline) <= 6.0
    assert not Deadline(limit_s=1e9).expired()


def test_a_spent_budget_has_nothing_left_and_hands_highs_a_millisecond():
    deadline = spent()
    assert deadline.remaining_s() == 0.0 and deadline.expired()
    assert highs_time_limit_s(deadline) == 1e-3


def test_a_share_never_outlasts_its_budget():
    deadline = Deadline(limit_s=10.0, started=time.monotonic() - 4.0)
    for parts in (1, 3, 7):
        share = deadline.share(parts)
        assert share.limit_s <= 6.0 / parts
        assert share.started + share.limit_s <= deadline.started + deadline.limit_s + 1e-9
    assert spent().share(3).limit_s == 0.0 and spent().share(3).expired()
    assert deadline.share(0).limit_s <= 6.0  # fewer than one part counts as one


def test_spent_deadline_stops_the_build_before_any_family():
    inputs, travel, scenario = two_hosts()
    with pytest.raises(SolverError) as caught:
        build_model(build_instance(inputs, travel, scenario), deadline=spent())
    assert re.fullmatch(
        r"time limit reached while building the model \(before sets\): \d+\.\d s of the time limit of "
        r"5 s used" + RAISE_IT,
        str(caught.value),
    ), str(caught.value)


def test_spent_deadline_stops_the_solve_before_highs():
    inputs, travel, scenario = two_hosts()
    model = build_model(build_instance(inputs, travel, scenario), deadline=Deadline(limit_s=1e9))
    solver = new_solver()
    with pytest.raises(SolverError) as caught:
        solve(model, deadline=spent(), solver=solver)
    assert re.fullmatch(
        r"time limit reached while solving \(before handing the model to HiGHS\): \d+\.\d s of the "
        r"time limit of 5 s used" + RAISE_IT,
        str(caught.value),
    ), str(caught.value)
    assert getattr(solver, "_model", None) is None  # HiGHS never received the model


def test_highs_gets_at_most_what_remains():
    inputs, travel, scenario = two_hosts()
    model = build_model(build_instance(inputs, travel, scenario))
    solver = new_solver()
    outcome = solve(model, deadline=Deadline(limit_s=1000.0, started=time.monotonic() - 400.0), solver=solver)
    assert outcome.status == "optimal"
    _, given = solver._solver_model.getOptionValue("time_limit")
    assert 0.0 < given <= 600.0


def test_infeasible_explanation_with_a_spent_deadline_says_it_is_incomplete():
    inputs, travel, scenario = two_hosts(hosts={"A": {"max_value_share": 0.1}, "B": {"max_value_share": 0.5}})
    model = build_model(build_instance(inputs, travel, scenario))
    lines = explain_infeasible(model, deadline=spent(20.0))
    assert lines == [
        "this explanation is incomplete: the time limit of 20 s ran out after checking 0 of 2 rule "
        "families; raise [solver] time_limit_s or --time-limit for a full one"
    ]
    with pytest.raises(InfeasibleError) as caught:  # the same model with time to spare is explained in full
        run_solve(model, deadline=Deadline(limit_s=1e9))
    assert "incomplete" not in str(caught.value)
    assert "relaxing any one of these alone would make it feasible: host caps" in str(caught.value)


def test_alternatives_and_stress_share_one_spent_budget():
    inputs, travel, scenario = two_hosts()
    model = build_model(build_instance(inputs, travel, scenario))
    with pytest.raises(SolverError, match=r"^time limit reached while solving \(before handing the model to HiGHS\)"):
        alternatives(model, count=3, within_pct=50, deadline=spent())
    p = model.instance
    with pytest.raises(SolverError, match=r"^time limit reached while solving \(before handing the model to HiGHS\)"):
        stress_test(p, {("a1", "x"): 3, ("b1", "x"): 2}, lose=1, deadline=spent())
    cases = stress_test(p, {("a1", "x"): 3, ("b1", "x"): 2}, lose=1, deadline=Deadline(limit_s=1e9))
    assert [(c.lost, c.short["x"]) for c in cases] == [(("A",), 3), (("B",), 2)]


def test_a_share_is_named_as_part_of_the_command_limit():
    assert Deadline(limit_s=20.0).name() == "the time limit of 20 s"
    share = Deadline(limit_s=9.0).share(3).share(2)
    assert re.fullmatch(r"its share \([0-9.e-]+ s\) of the time limit of 9 s", share.name()), share.name()
    model = build_model(build_instance(*two_hosts(systems={"x": {"min_hosts": 3}})))
    lines = explain_infeasible(model, deadline=spent(20.0).share(4))
    assert lines[-1] == (
        "this explanation is incomplete: its share (0 s) of the time limit of 20 s ran out after "
        "checking 0 of 2 rule families; raise [solver] time_limit_s or --time-limit for a full one"
    )


def test_spinner_text_shows_the_seconds_used_and_left():
    from depotsite.cli.common import _Progress

    text = _Progress("solving with HiGHS", Deadline(limit_s=20.0, started=time.monotonic() - 3.0)).__rich__().plain
    used, left = re.fullmatch(r"solving with HiGHS \((\d+) s used, (\d+) s of the 20 s limit left\)", text).groups()
    assert int(used) >= 3 and int(left) <= 17
    assert _Progress("writing outputs", None).__rich__().plain == "writing outputs"


def test_the_solver_watch_writes_a_line_per_interval_to_stderr(capfd):
    """Lines go to the stderr descriptor (pyomo captures sys.stderr while HiGHS runs), one per interval."""
    from depotsite.cli.common import SolverWatch
    from depotsite.solve import SolverProgress

    with SolverWatch(every_s=2.0) as watch:
        for t, best in ((0.5, None), (2.5, 12.5), (3.0, 11.0), (4.6, 10.0)):
            watch(
                SolverProgress(
                    incumbent=best,
                    bound=9.0,
                    gap=float("inf") if best is None else (best - 9) / best,
                    elapsed_s=t,
                    nodes=int(10 * t),
                )
            )
    lines = capfd.readouterr().err.splitlines()
    assert lines == [
        "HiGHS: best 12.5, bound 9, gap 28.00%, 25 nodes, 2 s",
        "HiGHS: best 10, bound 9, gap 10.00%, 46 nodes, 5 s",
    ]
    assert watch.describe() == "best 10, bound 9, gap 10.00%, 46 nodes, 5 s"


def test_the_reporter_passes_every_better_posture_and_otherwise_one_event_per_interval():
    from types import SimpleNamespace

    from depotsite.solve import _Reporter

    seen = []
    reporter = _Reporter(seen.append, 0.5, improving=7)

    def event(kind, t, best):
        data = SimpleNamespace(running_time=t, mip_primal_bound=best, mip_dual_bound=1.0, mip_gap=0.5, mip_node_count=3)
        return SimpleNamespace(callback_type=kind, data_out=data)

    for kind, t, best in ((1, 0.0, float("inf")), (1, 0.2, float("inf")), (7, 0.3, 4.0), (1, 0.6, 4.0), (1, 0.9, 4.0)):
        reporter(event(kind, t, best))
    # 0.2 is within half a second of 0.0; 0.3 is a better posture; 0.6 is within 0.5 s of 0.3, 0.9 is not
    assert [(p.elapsed_s, p.incumbent) for p in seen] == [(0.0, None), (0.3, 4.0), (0.9, 4.0)]


def highs_results(termination, solution, *, incumbent: float, bound: float | None):
    """pyomo's results of a HiGHS run as its interface fills them (the fields ``outcome_of`` reads)."""
    from pyomo.contrib.solver.common.results import Results

    results = Results()
    results.termination_condition = termination
    results.solution_status = solution
    results.incumbent_objective = incumbent
    results.objective_bound = bound
    return results


def test_a_posture_stopped_at_the_limit_is_reported_with_its_gap_and_a_warning():
    """HiGHS stopped at its time limit holding a posture of 110 with a bound of 100: not optimal, gap
    (110 - 100) / 110 = 9.09%, and the warning that says so names the limit. This is the path a loaded
    machine takes; it is tested here on the results themselves, so no machine has to be slow for it."""
    from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

    from depotsite.solve import outcome_of

    stopped = highs_results(TerminationCondition.maxTimeLimit, SolutionStatus.feasible, incumbent=110.0, bound=100.0)
    outcome = outcome_of(stopped, deadline=Deadline(limit_s=5.0), solve_s=5.0)
    assert (outcome.status, outcome.objective, outcome.bound) == ("time_limit", 110.0, 100.0)
    assert outcome.gap == pytest.approx(10 / 110)
    assert outcome.warnings == (
        "stopped at the time limit of 5 s with a feasible posture; it is within 9.09% of the best bound, "
        "not proven optimal",
    )
    share = outcome_of(stopped, deadline=Deadline(limit_s=9.0).share(3), solve_s=3.0)
    assert re.fullmatch(
        r"stopped at its share \([0-9.]+ s\) of the time limit of 9 s with a feasible .*",
        share.warnings[0],
    )
    # proven optimal: gap 0 below round-off between objective and bound, and no warning
    proven = highs_results(
        TerminationCondition.convergenceCriteriaSatisfied, SolutionStatus.optimal, incumbent=100.0, bound=100.0 - 1e-12
    )
    optimal = outcome_of(proven, deadline=Deadline(limit_s=5.0), solve_s=1.0)
    assert (optimal.status, optimal.objective, optimal.gap, optimal.warnings) == ("optimal", 100.0, 0.0, ())
    # a posture that still needed rows (queues) is not proven optimal, whatever HiGHS said of the model it had
    unsettled = outcome_of(proven, deadline=Deadline(limit_s=5.0), solve_s=1.0, objective=104.0, settled=False)
    assert unsettled.status == "time_limit" and unsettled.gap == pytest.approx(4 / 104)


def test_a_stopped_posture_is_collected_with_its_warning_first():
    """The stopped outcome's warning leads the run's warnings (summary.json and the console print them)."""
    from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

    from depotsite.model import posture_of
    from depotsite.results import collect
    from depotsite.solve import outcome_of

    inputs, travel, scenario = two_hosts()
    model = build_model(build_instance(inputs, travel, scenario))
    solve(model, time_limit_s=30)
    stopped = highs_results(TerminationCondition.maxTimeLimit, SolutionStatus.feasible, incumbent=1.0, bound=0.5)
    outcome = outcome_of(stopped, deadline=Deadline(limit_s=5.0), solve_s=5.0)
    result = collect(model.instance, posture_of(model), outcome, warnings=("a later warning",))
    assert (result.status, result.gap) == ("time_limit", 0.5)
    assert result.warnings[0].startswith(
        "stopped at the time limit of 5 s with a feasible posture; it is within 50.00%"
    )
    # then the caller's, then what the run's times leave out (queues are off here)
    assert result.warnings[1] == "a later warning"
    assert result.warnings[2].startswith("dispatch queues are not in this run's times")
