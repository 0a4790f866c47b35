"""What the mutation run of ``terms.py`` and ``rows.py`` found untested: a queue longer than the first secants
reach, refined to exact; the makespan ladder's rows as its docstring defines them.

Every figure is derived in the test's docstring from the formulation in ``depotsite.model``'s docstring.
"""

from __future__ import annotations

import logging

import pyomo.core as pyo
import pytest
from pyomo.repn import generate_standard_repn

from depotsite.dispatch import slot_steps
from depotsite.errors import InfeasibleError
from depotsite.instance import build_instance
from depotsite.model import build_model, first_breakpoints, posture_of
from depotsite.results import collect
from depotsite.rows import _QuietWhenExplained
from depotsite.solve import solve
from instances import make_inputs, make_scenario, site, system, times


def test_a_queue_past_the_first_secants_is_refined_to_its_exact_wait():
    """60 units of x, sites a (10 h) and b (18 h), one slot an hour each, the mean time with queues.

    The k-th unit at a is available at k + 10 h, at b at k + 18 h; the cheapest 60 of these are a's first
    34 (the 34th at 44 h) and b's first 26 (the 26th at 44 h): 34 and 26 units, the next of either at 45 h.
    Total 595 + 340 + 351 + 468 = 1,754 unit-hours, mean 1754 / 60 h; mean waits (1 + 34) / 2 = 17.5 h at a
    and 13.5 h at b. The first secants of N^2 are at 0, 4, ..., 56, 59 (each through n and n + 1), so
    neither 34 nor 26 slots is exact at first (the secants below give 1,154 < 1,156 and 674 < 676): only
    the refinement (the two secants that meet at N, then a new solve) makes the queue, and so the optimum,
    exact.
    """
    inputs = make_inputs(
        hosts=["A", "B"], sites=[site("a", "A"), site("b", "B")], systems=[system("x")], demand={("d", "x"): 60}
    )
    travel = times({("a", "d", "x"): 10.0, ("b", "d", "x"): 18.0})
    model = build_model(build_instance(inputs, travel, make_scenario(objective={"queues": True})))
    assert first_breakpoints(60) == [*range(0, 57, 4), 59]
    outcome = solve(model, time_limit_s=60)
    result = collect(model.instance, posture_of(model), outcome)
    assert result.status == "optimal"
    assert result.stock == {("a", "x"): 34, ("b", "x"): 26}
    assert result.objective == pytest.approx(1754 / 60, rel=1e-9)
    assert result.terms["time_h"] == pytest.approx(1754 / 60, rel=1e-9)
    assert {x.site_id: x.queue_h for x in result.deliveries} == pytest.approx({"a": 17.5, "b": 13.5})
    for s, n in (("a", 34), ("b", 26)):
        assert (s, 0, n - 1) in model.QKN and (s, 0, n) in model.QKN  # the secants through n-1, n and n, n+1
        assert model.queue_sq[s, 0].value == pytest.approx(n * n)


def _ladder_model():
    """Sites a, b, c (hosts A, B, C) and one unit of x for each of d1 and d2; the makespan objective.

    Hours to d1: 2, 5, 9.5; to d2: 3, 6, 7. The floor T0 is the latest of the destinations' fastest
    routes, max(2, 3) = 3 h; the distinct hours above it are 5, 6, 7 and 9.5, so the ladder's steps are
    5 - 3 = 2, 1, 1 and 2.5.
    """
    inputs = make_inputs(
        hosts=["A", "B", "C"],
        sites=[site("a", "A"), site("b", "B"), site("c", "C")],
        systems=[system("x")],
        demand={("d1", "x"): 1, ("d2", "x"): 1},
    )
    travel = times(
        {
            ("a", "d1", "x"): 2.0,
            ("b", "d1", "x"): 5.0,
            ("c", "d1", "x"): 9.5,
            ("a", "d2", "x"): 3.0,
            ("b", "d2", "x"): 6.0,
            ("c", "d2", "x"): 7.0,
        }
    )
    return build_model(build_instance(inputs, travel, make_scenario(objective={"time": "makespan"})))


def _linear(row) -> tuple[float, dict[str, float]]:
    """A one-sided row as ``expression >= 0`` (pyomo may keep it as ``lower <= body`` or ``body <= upper``):
    its constant and its coefficient per variable name."""
    assert row.has_lb() != row.has_ub(), "a one-sided row"
    expression = row.body - row.lower if row.has_lb() else row.upper - row.body
    repn = generate_standard_repn(expression)
    return repn.constant, {v.name: c for v, c in zip(repn.linear_vars, repn.linear_coefs, strict=True)}


def test_the_makespan_ladder_has_a_step_per_distinct_hour_above_the_floor():
    """The ladder row is T >= 3 + 2 z0 + 1 z1 + 1 z2 + 2.5 z3 (``_ladder_model``'s docstring), each z
    binary, z_k >= z_k+1 for k = 0, 1, 2, and z_k >= use[r] for every route of t_k hours: b-d1 (5 h) at
    level 0, b-d2 (6 h) at 1, c-d2 (7 h) at 2, c-d1 (9.5 h) at 3; a's routes (2 and 3 h, not above the
    floor) climb no step. T's own lower bound is the floor."""
    m = _ladder_model()
    assert m.makespan_h.lb == pytest.approx(3.0)
    assert list(m.LADDER) == [0, 1, 2, 3]
    assert all(m.makespan_level[k].is_binary() for k in m.LADDER)
    constant, coefficients = _linear(m.makespan_ladder)
    assert constant == pytest.approx(-3.0)
    assert coefficients == pytest.approx(
        {
            "makespan_h": 1.0,
            "makespan_level[0]": -2.0,
            "makespan_level[1]": -1.0,
            "makespan_level[2]": -1.0,
            "makespan_level[3]": -2.5,
        }
    )
    order = {}
    for k in m.makespan_ladder_order:
        row = m.makespan_ladder_order[k]
        assert _linear(row)[0] == 0
        order[k] = _linear(row)[1]
    assert order == {k: {f"makespan_level[{k}]": 1.0, f"makespan_level[{k + 1}]": -1.0} for k in (0, 1, 2)}
    use = {}
    for r in m.makespan_ladder_use:
        row = m.makespan_ladder_use[r]
        assert _linear(row)[0] == 0
        use[r] = _linear(row)[1]
    level = {("b", "d1", "x"): 0, ("b", "d2", "x"): 1, ("c", "d2", "x"): 2, ("c", "d1", "x"): 3}
    assert use == {r: {f"makespan_level[{k}]": 1.0, f"use_route[{r[0]},{r[1]},{r[2]}]": -1.0} for r, k in level.items()}


def test_the_makespan_ladder_bounds_the_relaxation_and_leaves_the_optimum():
    """The optimum sends both units from a: longest journey first, d2's unit (3 h) leaves at 1 h and
    arrives at 4 h, d1's (2 h) leaves at 2 h and arrives at 4 h: T = 4 (b or c would give 6 + 1 or
    more). With the ladder's rows relaxed (every variable continuous) the bound is still valid: at most 4."""
    m = _ladder_model()
    outcome = solve(m, time_limit_s=30)
    result = collect(m.instance, posture_of(m), outcome)
    assert result.stock == {("a", "x"): 2}
    assert result.objective == pytest.approx(4.0)
    assert result.terms["time_h"] == pytest.approx(4.0)
    relaxed = _ladder_model()
    for v in relaxed.component_data_objects(pyo.Var):
        if not v.is_continuous():
            v.domain = pyo.Reals
    outcome = solve(relaxed, time_limit_s=30)
    assert 3.0 <= outcome.objective <= 4.0 + 1e-9


def test_the_makespan_average_cut_is_each_destinations_mean_hours():
    """T >= sum_s tau[s,d,w] ship[s,d,w] / dem[d,w] per demand (the last unit comes no earlier than the
    mean): for d1, 2 a + 5 b + 9.5 c ship; for d2, 3, 6 and 7 (each demand 1 unit)."""
    m = _ladder_model()
    cuts = {key: _linear(m.makespan_average_cut[key]) for key in m.makespan_average_cut}
    hours = {"d1": {"a": 2.0, "b": 5.0, "c": 9.5}, "d2": {"a": 3.0, "b": 6.0, "c": 7.0}}
    assert cuts == {
        (d, "x"): (0, {"makespan_h": 1.0, **{f"ship[{s},{d},x]": -h for s, h in by_site.items()}})
        for d, by_site in hours.items()
    }


def test_only_an_explained_row_has_pyomo_s_error_lines_dropped():
    """The filter on pyomo's log drops its ERROR lines only while an InfeasibleError is being handled (the
    explained row: ``test_model_edges``' earmark test shows none are left); any other failure keeps them."""
    record = logging.LogRecord("pyomo.core", logging.ERROR, "", 0, "Rule failed", (), None)
    try:
        raise InfeasibleError(["a row that can never hold"])
    except InfeasibleError:
        assert not _QuietWhenExplained().filter(record)
    try:
        raise ValueError("another failure")
    except ValueError:
        assert _QuietWhenExplained().filter(record)


def test_a_long_queue_between_far_apart_secants_gets_the_split_only_the_exact_queue_gives():
    """200 units of x, sites a (10 h) and b (34 h) with room for all, one slot an hour each, the mean time
    with queues. The k-th unit at a is available at k + 10 h, at b at k + 34 h: the cheapest 200 are a's
    first 112 and b's first 88 (both the last at 122 h, the next of either at 123 h), total
    6328 + 1120 + 3916 + 2992 = 14,356 unit-hours, mean 71.78 h. The first secants are 13 slots apart
    (0, 13, ..., 195, 199), so between them the queue's cost is under its true value:
    without refining, the solver's split sits where the secants meet, not at 112 and 88."""
    inputs = make_inputs(
        hosts=["A", "B"],
        sites=[site("a", "A", bays=300), site("b", "B", bays=300)],
        systems=[system("x")],
        demand={("d", "x"): 200},
    )
    travel = times({("a", "d", "x"): 10.0, ("b", "d", "x"): 34.0})
    model = build_model(build_instance(inputs, travel, make_scenario(objective={"queues": True})))
    assert first_breakpoints(200) == [*range(0, 200, 13), 199]
    outcome = solve(model, time_limit_s=60)
    result = collect(model.instance, posture_of(model), outcome)
    assert result.status == "optimal"
    assert result.stock == {("a", "x"): 112, ("b", "x"): 88}
    assert result.objective == pytest.approx(14_356 / 200, rel=1e-9)


def test_two_units_split_when_the_queue_at_one_site_costs_its_exact_wait():
    """2 units of x, a (10 h) and b (10.75 h), one slot an hour each, the mean time with queues.

    Both at a: waits 1 and 2 h, 23 unit-hours; one at each: 1 + 10 + 1 + 10.75 = 22.75; both at b: 24.5.
    The split is the optimum, mean 11.375 h, by only 0.25 unit-hours: a queue term a slot short of N^2
    (2 slots costing 3, not 4, as a secant through 1 and 2 drawn too low would give) would put both at a.
    """
    inputs = make_inputs(
        hosts=["A", "B"], sites=[site("a", "A"), site("b", "B")], systems=[system("x")], demand={("d", "x"): 2}
    )
    travel = times({("a", "d", "x"): 10.0, ("b", "d", "x"): 10.75})
    model = build_model(build_instance(inputs, travel, make_scenario(objective={"queues": True})))
    outcome = solve(model, time_limit_s=30)
    result = collect(model.instance, posture_of(model), outcome)
    assert result.stock == {("a", "x"): 1, ("b", "x"): 1}
    assert result.objective == pytest.approx(22.75 / 2, rel=1e-9)


def test_a_queue_of_many_slot_units_is_counted_in_whole_units_and_costs_its_exact_wait():
    """2 units of x, 3 dispatch slots each, sites a (10 h) and b (10.75 h), one slot an hour each.

    Both at a: the units leave after 3 and 6 h, 13 + 16 = 29 unit-hours; one at each: 13 + 13.75 = 26.75;
    both at b: 30.5. The split is the optimum, mean 13.375 h. A site's slots for x are 0, 3, 6, ...: the
    queue is counted in steps of 3 slots (``slot_steps``), so N at a site is its units and its cost
    ``24/disp (u/2c) 3^2 N^2 + u c x / 2`` (a cost without the 3^2 would be under a ninth of the true
    square, and both units would go to a)."""
    inputs = make_inputs(
        hosts=["A", "B"],
        sites=[site("a", "A"), site("b", "B")],
        systems=[system("x", slots=3)],
        demand={("d", "x"): 2},
    )
    travel = times({("a", "d", "x"): 10.0, ("b", "d", "x"): 10.75})
    inst = build_instance(inputs, travel, make_scenario(objective={"queues": True}))
    assert slot_steps(inst) == {("a", 0): 3, ("b", 0): 3}
    model = build_model(inst)
    assert model.queue_slots["a", 0].ub == 2  # two units, not six slots
    outcome = solve(model, time_limit_s=30)
    result = collect(inst, posture_of(model), outcome)
    assert result.stock == {("a", "x"): 1, ("b", "x"): 1}
    assert result.objective == pytest.approx(26.75 / 2, rel=1e-9)
    assert {x.site_id: x.queue_h for x in result.deliveries} == pytest.approx({"a": 3.0, "b": 3.0})


def test_the_queue_step_is_the_gcd_of_the_slots_of_the_systems_before_it():
    """Systems of 1, 4 and 6 slots at one site, the mean time with equal priorities: by weight per slot the
    queue is y (1 slot), then p (4), then q (6); the steps of its first 1, 2 and 3 systems are gcd(1) = 1,
    gcd(1, 4) = 1 and 1; at a site holding only p and q (a port, where y may not be stored), 4 then
    gcd(4, 6) = 2."""
    inputs = make_inputs(
        hosts=["A"],
        sites=[site("a", "A"), site("b", "A", kind="port")],
        systems=[
            system("p", slots=4, kinds="army_base;port"),
            system("q", slots=6, kinds="army_base;port"),
            system("y", slots=1),
        ],
        demand={("d", "p"): 1, ("d", "q"): 1, ("d", "y"): 1},
    )
    travel = times({(s, "d", w): 10.0 for s in "ab" for w in "pqy"})
    inst = build_instance(inputs, travel, make_scenario(objective={"queues": True}))
    assert slot_steps(inst) == {("a", 0): 1, ("a", 1): 1, ("a", 2): 1, ("b", 0): 4, ("b", 1): 2}
