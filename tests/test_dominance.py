"""Which sites dominate which (``depotsite.dominance``), and the rows the model makes of them."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pyomo.core import value as pyo_value

from depotsite.dominance import dominated_pairs
from depotsite.instance import build_instance
from depotsite.model import build_model, posture_of
from depotsite.solve import solve
from instances import make_inputs, make_scenario, site, system, times

HOURS = {("big", "d", "x"): 5.0, ("small", "d", "x"): 7.0, ("twin", "d", "x"): 5.0, ("far", "d", "x"): 4.0}


def resolved(*, sites=None, hours=None, demand=None, **sections):
    sites = sites or [
        site("big", "A", bays=10, cost=2.0),
        site("small", "A", bays=6, cost=3.0),
        site("twin", "A", bays=10, cost=2.0),
        site("far", "B", bays=1, cost=9.0),  # faster, but in another host: compared with no one
    ]
    inputs = make_inputs(hosts=["A", "B"], sites=sites, systems=[system("x")], demand=demand or {("d", "x"): 8})
    return build_instance(inputs, times(hours or HOURS), make_scenario(**sections))


def test_a_slower_smaller_dearer_site_is_dominated_and_twins_are_ordered_by_the_table():
    assert sorted(dominated_pairs(resolved())) == [("small", "big"), ("small", "twin"), ("twin", "big")]


@pytest.mark.parametrize(
    ("change", "gone"),
    [
        ({"small": {"bays": 11}}, {("small", "big"), ("small", "twin")}),  # bigger than both
        ({"small": {"cost": 1.0}}, {("small", "big"), ("small", "twin")}),  # cheaper than both
        ({"small": {"dispatch": 48.0}}, {("small", "big"), ("small", "twin")}),  # dispatches faster
        ({"twin": {"bays": 5}}, {("small", "twin")}),  # smaller than small now, though cheaper: no order
    ],
)
def test_every_figure_counts(change, gone):
    base = {"bays": {"big": 10, "small": 6, "twin": 10, "far": 1}, "cost": {"big": 2.0, "small": 3.0}}
    sites = []
    for s, host in (("big", "A"), ("small", "A"), ("twin", "A"), ("far", "B")):
        figures = {"bays": base["bays"][s], "cost": base["cost"].get(s, 2.0 if s == "twin" else 9.0)}
        figures |= change.get(s, {})
        sites.append(site(s, host, **figures))
    pairs = set(dominated_pairs(resolved(sites=sites)))
    assert pairs == {("small", "big"), ("small", "twin"), ("twin", "big")} - gone


def test_a_site_faster_somewhere_or_forced_open_is_not_dominated():
    two = {("d", "x"): 7, ("e", "x"): 1}
    faster = dict(HOURS) | {("small", "e", "x"): 1.0, ("big", "e", "x"): 2.0, ("twin", "e", "x"): 2.0}
    assert sorted(dominated_pairs(resolved(hours=faster, demand=two))) == [("twin", "big")]
    lacking = dict(HOURS) | {("small", "e", "x"): 9.0, ("far", "e", "x"): 9.0}  # a route big and twin lack
    assert sorted(dominated_pairs(resolved(hours=lacking, demand=two))) == [("twin", "big")]
    others = dict(HOURS) | {("big", "e", "x"): 3.0, ("twin", "e", "x"): 3.0, ("far", "e", "x"): 9.0}
    assert sorted(dominated_pairs(resolved(hours=others, demand=two))) == [  # routes small lacks ask nothing
        ("small", "big"),
        ("small", "twin"),
        ("twin", "big"),
    ]
    forced = resolved(constraints={"force_open": ["small"]})
    assert sorted(dominated_pairs(forced)) == [("twin", "big")]


def test_the_rows_hold_the_dominated_site_closed_while_its_better_is_closed():
    inst = resolved(objective={"cost_weight": 1.0})
    model = build_model(inst)
    assert sorted(model.site_dominance) == [("small", "big"), ("small", "twin"), ("twin", "big")]
    assert solve(model, time_limit_s=30).status == "optimal"
    assert posture_of(model).open_sites == ("big",)  # not its twin, as fast and as cheap: the table's order
    assert len(build_model(replace(inst, site_dominance=False)).site_dominance) == 0


def test_a_site_of_the_skips_dominates_no_one_but_may_still_be_dominated():
    """``dominance_skips`` (the sites the reduction adds back) leaves out the pairs those sites dominate in,
    not the pairs where they are the dominated one."""
    inst = resolved()
    assert sorted(dominated_pairs(replace(inst, dominance_skips=frozenset({"big"})))) == [("small", "twin")]
    assert sorted(dominated_pairs(replace(inst, dominance_skips=frozenset({"twin"})))) == [
        ("small", "big"),
        ("twin", "big"),
    ]


def test_alternatives_still_offer_a_dominated_site_in_place_of_the_one_that_dominates_it():
    """The rows keep an optimum, but the next best posture may open the dominated site instead: with 4 units
    on one route of 5 h, big (2.0 M USD) gives 5 + 2 = 7, small (6 bays, 2.1) gives 7.1, both 9.1 and c in
    host B (5.0) 10. The model is built with the rows (small after big); the alternatives still list small,
    then both, each holding units (not big again with small left open and empty, also 9.1)."""
    from depotsite.analysis.tradeoffs import alternatives

    sites = [
        site("big", "A", bays=10, cost=2.0),
        site("small", "A", bays=6, cost=2.1),
        site("c", "B", bays=10, cost=5.0),
    ]
    hours = {(s, "d", "x"): 5.0 for s in ("big", "small", "c")}
    inst = resolved(sites=sites, hours=hours, demand={("d", "x"): 4}, objective={"cost_weight": 1.0})
    model = build_model(inst)
    assert list(model.site_dominance) == [("small", "big")]
    best, found = alternatives(model, count=2, within_pct=100, threads=1, time_limit_s=30)
    assert best.open_sites == ("big",) and best.objective == pytest.approx(7.0)
    assert [(a.result.open_sites, round(a.result.objective, 6)) for a in found] == [
        (("small",), 7.1),
        (("big", "small"), 9.1),
    ]
    assert model.site_dominance.active  # the model keeps its rows for what comes after


def test_queue_deadlines_leave_the_order_out_because_a_faster_site_can_queue_worse():
    """Why there are no pairs with queue deadlines. Under the makespan b sends its longest journeys first:
    Leopards (``y``, 10 slots each) before the Patriot (``x``, due in 7 h), where a sends the Patriot first.
    From a the Patriot arrives at 1 + 6 = 7 h; from b it would wait for the Leopard, 11 + 3 = 14 h, late. So
    b, faster on both routes and as big, must not hold a closed: with one site allowed, a alone is the
    optimum (makespan 11 + 5 = 16 h)."""
    inputs = make_inputs(
        hosts=["A"],
        sites=[site("a", "A", bays=20), site("b", "A", bays=20)],
        systems=[system("x"), system("y", slots=10)],
        demand={("d", "x"): 1, ("d", "y"): 1},
    )
    hours = {("a", "d", "x"): 6.0, ("a", "d", "y"): 5.0, ("b", "d", "x"): 3.0, ("b", "d", "y"): 4.0}
    scenario = make_scenario(
        objective={"time": "makespan"}, systems={"x": {"deadline_h": 7.0}}, constraints={"max_sites": 1}
    )
    inst = build_instance(inputs, times(hours), scenario)
    assert dominated_pairs(inst) == []
    model = build_model(inst)
    assert solve(model, time_limit_s=30).status == "optimal"
    assert posture_of(model).open_sites == ("a",)
    assert pyo_value(model.makespan_h) == pytest.approx(16.0)


def test_queue_deadlines_leave_the_order_out_because_a_faster_site_can_arrive_later():
    """The second reason: the time term counts exposure (2 h per hour exposed), the deadline does not. b's
    6.5 h unexposed drive beats a's 5 h with one hour exposed (7 h), but arrives later: with the hour's wait
    for the dispatch slot, a's unit is in at 6 h, b's at 7.5 h, after the 7 h deadline."""
    from types import MappingProxyType

    from depotsite.traveltimes import Leg, TravelTimes

    inputs = make_inputs(
        hosts=["A"], sites=[site("a", "A"), site("b", "A")], systems=[system("x")], demand={("d", "x"): 1}
    )
    legs = {("a", "d", "x"): Leg(hours=5.0, exposure_h=1.0), ("b", "d", "x"): Leg(hours=6.5)}
    travel = TravelTimes(legs=MappingProxyType(legs), source="inline")
    scenario = make_scenario(
        objective={"queues": True, "exposure_weight": 2.0},
        systems={"x": {"deadline_h": 7.0}},
        constraints={"max_sites": 1},
    )
    inst = build_instance(inputs, travel, scenario)
    assert inst.tau_h["a", "d", "x"] == 7.0 and inst.tau_h["b", "d", "x"] == 6.5
    assert dominated_pairs(inst) == []
    model = build_model(inst)
    assert solve(model, time_limit_s=30).status == "optimal"
    assert posture_of(model).open_sites == ("a",)
