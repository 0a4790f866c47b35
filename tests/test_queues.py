"""Dispatch queues on hand-solvable instances: the order rule, the time measures, deadlines with queues.

A site with ``dispatch = 24`` sends one slot an hour; a unit of ``slots`` slots leaves when its last slot
has gone. Release delays are 0 here, so a unit is available at its wait + transit. Every expected figure
is worked out in the test's docstring. The enumeration oracle (``test_oracle_rules``) checks the same
rules on hundreds of random instances.
"""

from __future__ import annotations

import pytest

from depotsite.errors import InfeasibleError
from depotsite.instance import build_instance
from depotsite.model import build_model, posture_of
from depotsite.results import collect
from depotsite.solve import solve
from instances import make_inputs, make_scenario, site, system, times


def run(inputs, travel, scenario):
    model = build_model(build_instance(inputs, travel, scenario))
    outcome = solve(model, time_limit_s=30)
    return collect(model.instance, posture_of(model), outcome)


def two_sites(units: int = 4):
    inputs = make_inputs(
        hosts=["A", "B"], sites=[site("a", "A"), site("b", "B")], systems=[system("x")], demand={("d", "x"): units}
    )
    return inputs, times({("a", "d", "x"): 10.0, ("b", "d", "x"): 11.5})


def test_the_queue_sends_a_unit_to_a_slower_site():
    """a: 10 h, b: 11.5 h, one slot an hour each, 4 units.

    Without queues all four go from a (mean 10 h). With them, n units at a wait 1..n h: all at a cost
    (1+2+3+4) + 40 = 50 unit-hours; 3 at a and 1 at b 6 + 30 + 1 + 11.5 = 48.5; 2 and 2, 3 + 20 + 3 + 23 = 49;
    1 and 3, 11 + 6 + 34.5 = 51.5; all at b 56. So 3 at a and 1 at b, mean 48.5 / 4 = 12.125 h.
    """
    inputs, travel = two_sites()
    without = run(inputs, travel, make_scenario())
    assert without.stock == {("a", "x"): 4}
    assert without.terms["time_h"] == pytest.approx(10.0)
    assert {x.queue_h for x in without.deliveries} == {0.0}

    result = run(inputs, travel, make_scenario(objective={"queues": True}))
    assert result.status == "optimal"
    assert result.stock == {("a", "x"): 3, ("b", "x"): 1}
    assert result.terms["time_h"] == pytest.approx(12.125)
    assert result.objective == pytest.approx(12.125)
    rows = {x.site_id: x for x in result.deliveries}
    assert rows["a"].queue_h == pytest.approx(2.0)  # waits 1, 2, 3
    assert rows["a"].available_h == pytest.approx(12.0)
    assert rows["a"].last_available_h == pytest.approx(13.0)
    assert rows["b"].last_available_h == pytest.approx(12.5)
    assert result.system_times["x"].worst_h == pytest.approx(13.0)


def test_a_deadline_that_the_queue_makes_bind():
    """Sites a (1 h) and b (2 h), two slots a day (12 h a slot); 3 units of t and 1 of p, t first in a
    queue (equal weights, input order). Without a deadline two go from each site: 13 + 25 + 14 + 26 = 78
    unit-hours, mean 19.5 h. p's deadline of 20 h leaves p only the first slot of a site with no t: p
    alone at a (13 h) and the three t from b (14 + 26 + 38): 91; p alone at b (14 h) and the t from a (13 +
    25 + 37): 89, the optimum, mean 22.25 h. The queue can run past the deadline at either site (48 h for
    four units), so the row's big-M is not zero: it must be exactly slack for an unused route only."""
    inputs = make_inputs(
        hosts=["A", "B"],
        sites=[site("a", "A", dispatch=2), site("b", "B", dispatch=2)],
        systems=[system("t"), system("p")],
        demand={("d", "t"): 3, ("d", "p"): 1},
    )
    travel = times({("a", "d", "t"): 1.0, ("a", "d", "p"): 1.0, ("b", "d", "t"): 2.0, ("b", "d", "p"): 2.0})
    free = run(inputs, travel, make_scenario(objective={"queues": True}))
    assert free.terms["time_h"] == pytest.approx(78 / 4)
    result = run(inputs, travel, make_scenario(objective={"queues": True}, systems={"p": {"deadline_h": 20}}))
    assert result.status == "optimal"
    assert result.stock == {("a", "t"): 3, ("b", "p"): 1}
    assert result.terms["time_h"] == pytest.approx(89 / 4)
    assert result.system_times["p"].worst_h == pytest.approx(14.0)


def test_a_run_without_queues_says_what_they_would_cost():
    """The first test's instance with a 13 h deadline, queues left out of the times: all four units go
    from a (10 h, within 13 h). Their waits at one slot an hour would be 1, 2, 3, 4 h: mean availability
    10 + 2.5 = 12.5 h, the last unit leaves after 4 h and arrives at 14 h, after the deadline."""
    inputs, travel = two_sites()
    result = run(inputs, travel, make_scenario(systems={"x": {"deadline_h": 13}}))
    assert result.stock == {("a", "x"): 4}
    assert result.warnings[-1] == (
        "dispatch queues are not in this run's times (objective.queues = false): the last unit at a waits "
        "4.0 h to leave; with every site's queue counted the mean availability is x 12.5 h, and x's last unit "
        "at 14.0 h, after its 13 h deadline; set objective.queues = true (models/queues.toml) to site against "
        "the queues"
    )
    counted = run(inputs, travel, make_scenario(systems={"x": {"deadline_h": 13}}, objective={"queues": True}))
    assert not any("dispatch queues are not" in w for w in counted.warnings)


@pytest.mark.parametrize(
    ("measure", "p_wait", "t_waits"),
    [
        # mean: a unit weighs 1 either way; per slot t (1/1) before p (1/4): t at 1..5 h, p ends at 9 h
        ("mean", 9.0, [1, 2, 3, 4, 5]),
        # system_mean: p's one unit weighs 1, each t unit 1/5; per slot p 1/4 > t 1/5: p ends at 4 h, t at 5..9 h
        ("system_mean", 4.0, [5, 6, 7, 8, 9]),
        # value: p is worth 10, t 1; per slot p 10/4 > t 1: p first, as under system_mean
        ("value", 4.0, [5, 6, 7, 8, 9]),
    ],
)
def test_the_order_rule_and_each_time_measure(measure, p_wait, t_waits):
    """One site, one slot an hour, transit 0: p (1 unit of 4 slots, value 10) and t (5 units, value 1).

    The time term is each measure's weighted mean of the waits: mean (p + sum t) / 6; system_mean (p +
    mean t) / 2; value (10 p + sum t) / 15.
    """
    inputs = make_inputs(
        hosts=["A"],
        sites=[site("a", "A")],
        systems=[system("p", slots=4, value=10.0), system("t", value=1.0)],
        demand={("d", "p"): 1, ("d", "t"): 5},
    )
    travel = times({("a", "d", "p"): 0.0, ("a", "d", "t"): 0.0})
    result = run(inputs, travel, make_scenario(objective={"queues": True, "time": measure}))
    rows = {x.system_id: x for x in result.deliveries}
    assert rows["p"].last_available_h == pytest.approx(p_wait)
    assert rows["t"].queue_h == pytest.approx(sum(t_waits) / 5)
    assert rows["t"].last_available_h == pytest.approx(t_waits[-1])
    expected = {
        "mean": (p_wait + sum(t_waits)) / 6,
        "system_mean": (p_wait + sum(t_waits) / 5) / 2,
        "value": (10 * p_wait + sum(t_waits)) / 15,
    }[measure]
    assert result.terms["time_h"] == pytest.approx(expected)
    assert result.objective == pytest.approx(expected)


@pytest.mark.parametrize(("deadline_h", "feasible"), [(4.0, True), (3.99, False)])
def test_a_deadline_counts_the_wait_in_the_queue(deadline_h, feasible):
    """One site, 1 h transit, one slot an hour, 3 units: they are available at 2, 3 and 4 h.

    A 4 h deadline is met exactly (equality holds); at 3.99 h the last unit is late, so no posture exists,
    though every unit's release + transit (1 h) is within it.
    """
    inputs = make_inputs(hosts=["A"], sites=[site("a", "A")], systems=[system("x")], demand={("d", "x"): 3})
    travel = times({("a", "d", "x"): 1.0})
    scenario = make_scenario(objective={"queues": True}, systems={"x": {"deadline_h": deadline_h}})
    if feasible:
        result = run(inputs, travel, scenario)
        assert result.system_times["x"].worst_h == pytest.approx(4.0)
    else:
        with pytest.raises(InfeasibleError):
            run(inputs, travel, scenario)
    assert run(inputs, travel, make_scenario(systems={"x": {"deadline_h": deadline_h}})).stock == {("a", "x"): 3}


def test_the_makespan_sends_the_longest_journeys_first():
    """One site, one slot an hour, units for d1 (5 h) and d2 (1 h), 2 each.

    Longest first: d1's units leave at 1 and 2 h (arrive 6, 7), d2's at 3 and 4 h (arrive 4, 5): makespan
    7 h. (Shortest first would give 2, 3 then 8, 9.) Only one site, so the posture is forced.
    """
    inputs = make_inputs(
        hosts=["A"], sites=[site("a", "A")], systems=[system("x")], demand={("d1", "x"): 2, ("d2", "x"): 2}
    )
    travel = times({("a", "d1", "x"): 5.0, ("a", "d2", "x"): 1.0})
    result = run(inputs, travel, make_scenario(objective={"time": "makespan"}))
    rows = {x.destination_id: x for x in result.deliveries}
    assert rows["d1"].last_available_h == pytest.approx(7.0)
    assert rows["d2"].last_available_h == pytest.approx(5.0)
    assert result.terms["time_h"] == pytest.approx(7.0)
