"""Every rule with a threshold, tested exactly at its edge.

Each instance puts the optimum on the threshold itself (a route exactly at its deadline, a site holding
exactly a lot, a host exactly at its cap, a resilience fraction that rounds, a budget exactly spent, the
site limit exactly reached), so an off-by-one in the rule (``>`` for ``>=``, floor for ceil, a lost
tolerance) changes the optimum or makes the instance infeasible. Every optimum is derived in the docstring.
"""

from __future__ import annotations

import pytest

from depotsite.errors import InfeasibleError
from depotsite.explain import run_solve
from depotsite.instance import build_instance
from depotsite.model import build_model, posture_of
from depotsite.results import collect
from depotsite.solve import solve
from instances import make_inputs, make_scenario, site, system, times


def run(inputs, travel, scenario):
    model = build_model(build_instance(inputs, travel, scenario))
    outcome = solve(model, time_limit_s=30)
    return collect(model.instance, posture_of(model), outcome)


def test_a_route_exactly_at_its_deadline_is_allowed():
    """Release 2 h everywhere. a1: 3 h transit, available at 5 h = the deadline; b1: 1 h but room for 1.
    Both must be used: b1 1 unit (3 h), a1 1 unit (5 h); mean (3 + 5) / 2 = 4 h. Were a route at its
    deadline rejected, a1 would be dropped and no posture would exist."""
    inputs = make_inputs(
        hosts=["A", "B"],
        sites=[site("a1", "A"), site("b1", "B", bays=1)],
        systems=[system("x")],
        demand={("d1", "x"): 2},
    )
    scenario = make_scenario(
        hosts={h: {"release_delay_h": 2.0} for h in ("A", "B")}, systems={"x": {"deadline_h": 5.0}}
    )
    result = run(inputs, times({("a1", "d1", "x"): 3.0, ("b1", "d1", "x"): 1.0}), scenario)
    assert result.stock == {("a1", "x"): 1, ("b1", "x"): 1}
    assert result.terms["time_h"] == pytest.approx(4.0)
    assert result.system_times["x"].worst_h == 5.0


def test_a_route_a_moment_after_its_deadline_is_dropped():
    """The same instance with a1 at 3.001 h: available at 5.001 h > 5 h, so only b1 (room for 1) is left
    for a demand of 2."""
    inputs = make_inputs(
        hosts=["A", "B"],
        sites=[site("a1", "A"), site("b1", "B", bays=1)],
        systems=[system("x")],
        demand={("d1", "x"): 2},
    )
    scenario = make_scenario(
        hosts={h: {"release_delay_h": 2.0} for h in ("A", "B")}, systems={"x": {"deadline_h": 5.0}}
    )
    model = build_model(build_instance(inputs, times({("a1", "d1", "x"): 3.001, ("b1", "d1", "x"): 1.0}), scenario))
    assert model.instance.dropped_by_deadline == {("a1", "d1", "x"): pytest.approx(5.001)}
    with pytest.raises(InfeasibleError, match="deadlines already rule out 1 site-destination routes"):
        run_solve(model, time_limit_s=30)


def test_a_site_may_hold_exactly_one_lot():
    """Lot 3. a1 (1 h) has room for exactly 3, b1 (2 h) for 10; demand 6. Best: a1 3, b1 3 = (3 + 6) / 6
    = 1.5 h, both exactly at the lot. Were the lot a strict bound, a1 could hold nothing: b1 6, 2 h."""
    inputs = make_inputs(
        hosts=["A", "B"],
        sites=[site("a1", "A", bays=3), site("b1", "B", bays=10)],
        systems=[system("x", min_lot=3)],
        demand={("d1", "x"): 6},
    )
    result = run(inputs, times({("a1", "d1", "x"): 1.0, ("b1", "d1", "x"): 2.0}), make_scenario())
    assert result.stock == {("a1", "x"): 3, ("b1", "x"): 3}
    assert result.terms["time_h"] == pytest.approx(1.5)


def test_below_a_lot_is_never_held():
    """Lot 3, demand 4, a1 (1 h) room for 3, b1 (2 h) room for 10. a1 3 + b1 1 would break b1's lot and
    a1 3 + b1 3 ships 6 > 4; so everything goes to b1: 2 h."""
    inputs = make_inputs(
        hosts=["A", "B"],
        sites=[site("a1", "A", bays=3), site("b1", "B", bays=10)],
        systems=[system("x", min_lot=3)],
        demand={("d1", "x"): 4},
    )
    result = run(inputs, times({("a1", "d1", "x"): 1.0, ("b1", "d1", "x"): 2.0}), make_scenario())
    assert result.stock == {("b1", "x"): 4}


def test_a_unit_cap_whose_product_is_not_exact_in_binary_floors_correctly():
    """Host A may hold 29% of 100 units. 0.29 * 100 is 28.999999999999996 in binary floating point; the cap
    is 29 units, not 28. a1 (1 h) 29, b1 (2 h) 71: mean (29 + 142) / 100 = 1.71 h (28 would give 1.72)."""
    assert 0.29 * 100 < 29
    inputs = make_inputs(
        hosts=["A", "B"], sites=[site("a1", "A"), site("b1", "B")], systems=[system("x")], demand={("d1", "x"): 100}
    )
    result = run(
        inputs,
        times({("a1", "d1", "x"): 1.0, ("b1", "d1", "x"): 2.0}),
        make_scenario(hosts={"A": {"max_unit_share": {"x": 0.29}}}),
    )
    assert result.stock == {("a1", "x"): 29, ("b1", "x"): 71}
    assert result.terms["time_h"] == pytest.approx(1.71)


def test_a_host_exactly_at_its_value_cap():
    """x is worth 3, y 1; demand 1 x and 3 y (package 6); A (1 h) may hold half the value, 3. A holding x:
    (1 + 3 * 2) / 4 = 1.75 h; the three y: (3 + 2) / 4 = 1.25 h, exactly at the cap; two y (below a strict
    cap): (2 + 2 + 2) / 4 = 1.5 h. So A holds the three y."""
    inputs = make_inputs(
        hosts=["A", "B"],
        sites=[site("a1", "A"), site("b1", "B")],
        systems=[system("x", value=3.0), system("y", value=1.0)],
        demand={("d1", "x"): 1, ("d1", "y"): 3},
    )
    travel = times({(s, "d1", w): h for s, h in (("a1", 1.0), ("b1", 2.0)) for w in ("x", "y")})
    result = run(inputs, travel, make_scenario(hosts={"A": {"max_value_share": 0.5}}))
    assert result.stock == {("a1", "y"): 3, ("b1", "x"): 1}
    assert result.host_value_shares["A"] == pytest.approx(50.0)
    assert result.terms["time_h"] == pytest.approx(1.25)


@pytest.mark.parametrize(
    ("keep", "mean_h"),
    [
        # 0.56 * 100 = 56.00000000000001 in binary: the need is 56 units, not 57 (57 would give 1.71 h).
        (0.56, 1.68),
        # 0.555 * 100 = 55.5 rounds up to 56 (55 would allow 45/45/10 and 1.65 h).
        (0.555, 1.68),
    ],
)
def test_resilience_fractions_round_up_to_whole_units(keep, mean_h):
    """Hosts A, B, C with one site each at 1, 2 and 3 h; demand 100; losing any one host must leave
    ceil(keep * 100) = 56 units, so no host holds more than 44: A 44, B 44, C 12 = (44 + 88 + 36) / 100."""
    assert 0.56 * 100 > 56
    inputs = make_inputs(
        hosts=["A", "B", "C"],
        sites=[site("a1", "A"), site("b1", "B"), site("c1", "C")],
        systems=[system("x")],
        demand={("d1", "x"): 100},
    )
    travel = times({("a1", "d1", "x"): 1.0, ("b1", "d1", "x"): 2.0, ("c1", "d1", "x"): 3.0})
    result = run(inputs, travel, make_scenario(systems={"x": {"resilience": {"lose_hosts": 1, "keep_fraction": keep}}}))
    assert result.stock == {("a1", "x"): 44, ("b1", "x"): 44, ("c1", "x"): 12}
    assert result.terms["time_h"] == pytest.approx(mean_h)


def test_a_budget_spent_to_the_last_unit():
    """Budget 5. a1 (1 h, cost 3) and b1 (2 h, cost 2) have room for 1 each; c1 (3 h, cost 5) for 2. Demand
    2: {a1, b1} costs exactly 5 and gives 1.5 h; {c1} also 5 but 3 h. Were the budget strict, nothing fits."""
    inputs = make_inputs(
        hosts=["A", "B", "C"],
        sites=[site("a1", "A", bays=1, cost=3), site("b1", "B", bays=1, cost=2), site("c1", "C", bays=2, cost=5)],
        systems=[system("x")],
        demand={("d1", "x"): 2},
    )
    travel = times({("a1", "d1", "x"): 1.0, ("b1", "d1", "x"): 2.0, ("c1", "d1", "x"): 3.0})
    result = run(inputs, travel, make_scenario(constraints={"budget_musd": 5.0}))
    assert result.open_sites == ("a1", "b1")
    assert result.terms["cost_musd"] == 5.0
    assert result.terms["time_h"] == pytest.approx(1.5)


def test_the_site_limit_exactly_reached():
    """At most 2 sites; a1, b1, c1 (1, 2, 3 h) have room for 1 each; demand 2: exactly two open, a1 and b1."""
    inputs = make_inputs(
        hosts=["A", "B", "C"],
        sites=[site("a1", "A", bays=1), site("b1", "B", bays=1), site("c1", "C", bays=1)],
        systems=[system("x")],
        demand={("d1", "x"): 2},
    )
    travel = times({("a1", "d1", "x"): 1.0, ("b1", "d1", "x"): 2.0, ("c1", "d1", "x"): 3.0})
    result = run(inputs, travel, make_scenario(constraints={"max_sites": 2}))
    assert result.open_sites == ("a1", "b1")


def test_min_hosts_counts_only_hosts_that_really_hold_a_lot():
    """Lot 2, demand 4, two hosts required. A (1 h) could take all 4; B (5 h) must hold at least a lot:
    a1 2, b1 2 = (2 + 10) / 4 = 3 h. A host that is merely flagged as holding, with nothing stored, would
    let everything sit in A (1 h)."""
    inputs = make_inputs(
        hosts=["A", "B"],
        sites=[site("a1", "A"), site("b1", "B")],
        systems=[system("x", min_lot=2)],
        demand={("d1", "x"): 4},
    )
    result = run(
        inputs, times({("a1", "d1", "x"): 1.0, ("b1", "d1", "x"): 5.0}), make_scenario(systems={"x": {"min_hosts": 2}})
    )
    assert result.stock == {("a1", "x"): 2, ("b1", "x"): 2}
    assert result.terms["time_h"] == pytest.approx(3.0)


def test_the_herfindahl_index_is_reported_exactly_under_two_tangents():
    """Two tangent points (0 and 1) make the model's Herfindahl term 10 000 * sum max(0, 2 s - 1): zero
    while no host holds more than half. Three units of equal value in three hosts at 1, 2, 3 h, risk
    weight 100: 2/1/0 would cost 10 000 * (4/3 - 1) * 100 in the model, so each host holds one unit
    (mean 2 h, model risk 0). The reported index is the true one: 3 * (100/3)^2 = 10 000 / 3."""
    inputs = make_inputs(
        hosts=["A", "B", "C"],
        sites=[site("a1", "A"), site("b1", "B"), site("c1", "C")],
        systems=[system("x")],
        demand={("d1", "x"): 3},
    )
    travel = times({("a1", "d1", "x"): 1.0, ("b1", "d1", "x"): 2.0, ("c1", "d1", "x"): 3.0})
    result = run(inputs, travel, make_scenario(objective={"risk": "hhi", "hhi_tangents": 2, "risk_weight": 100.0}))
    assert result.stock == {("a1", "x"): 1, ("b1", "x"): 1, ("c1", "x"): 1}
    assert result.objective == pytest.approx(2.0)  # the model's approximation of the index is 0
    assert result.terms["risk"] == pytest.approx(10_000 / 3)


# --- thresholds met exactly where floating point does not add up exactly ------------------------------------


def test_a_deadline_met_by_a_sum_that_is_not_exact_in_binary():
    """A releases after 0.1 h and a1 is 0.2 h away: available at 0.1 + 0.2 = 0.30000000000000004 h in floats,
    which is the 0.3 h deadline. b1 (B, no delay, 0.25 h) has room for 1; demand 2, so a1 must serve one:
    mean (0.3 + 0.25) / 2 = 0.275 h. Were the deadline compared without a tolerance, a1 would be dropped and
    no posture would exist."""
    assert 0.1 + 0.2 > 0.3
    inputs = make_inputs(
        hosts=["A", "B"],
        sites=[site("a1", "A"), site("b1", "B", bays=1)],
        systems=[system("x")],
        demand={("d1", "x"): 2},
    )
    scenario = make_scenario(
        hosts={"A": {"release_delay_h": 0.1}, "B": {"release_delay_h": 0.0}}, systems={"x": {"deadline_h": 0.3}}
    )
    result = run(inputs, times({("a1", "d1", "x"): 0.2, ("b1", "d1", "x"): 0.25}), scenario)
    assert result.stock == {("a1", "x"): 1, ("b1", "x"): 1}
    assert result.terms["time_h"] == pytest.approx(0.275)


def test_a_host_value_cap_whose_product_is_not_exact_in_binary():
    """100 units of value 1; A (1 h) may hold 29% of the value, 0.29 * 100 = 28.999999999999996 in floats:
    A holds 29, B (2 h) 71, mean (29 + 142) / 100 = 1.71 h, A's share exactly 29%. A cap read strictly in
    floats would give A 28 and 1.72 h."""
    assert 0.29 * 100 < 29
    inputs = make_inputs(
        hosts=["A", "B"], sites=[site("a1", "A"), site("b1", "B")], systems=[system("x")], demand={("d1", "x"): 100}
    )
    travel = times({("a1", "d1", "x"): 1.0, ("b1", "d1", "x"): 2.0})
    result = run(inputs, travel, make_scenario(hosts={"A": {"max_value_share": 0.29}}))
    assert result.stock == {("a1", "x"): 29, ("b1", "x"): 71}
    assert result.host_value_shares["A"] == pytest.approx(29.0)
    assert result.terms["time_h"] == pytest.approx(1.71)


def test_a_group_exactly_at_its_value_cap():
    """Group g is A and B (a1 1 h, b1 2 h); C (c1, 3 h) is outside it. 4 units of value 1; g may hold half
    the value, 2 units: a1 2, c1 2 = (2 + 6) / 4 = 2 h. A strict cap (1 unit in g) would give
    (1 + 9) / 4 = 2.5 h; no cap, all 4 at a1 (1 h)."""
    inputs = make_inputs(
        hosts={"A": "g", "B": "g", "C": None},
        sites=[site("a1", "A"), site("b1", "B"), site("c1", "C")],
        systems=[system("x")],
        demand={("d1", "x"): 4},
    )
    travel = times({("a1", "d1", "x"): 1.0, ("b1", "d1", "x"): 2.0, ("c1", "d1", "x"): 3.0})
    result = run(inputs, travel, make_scenario(groups={"g": {"max_value_share": 0.5}}))
    assert result.stock == {("a1", "x"): 2, ("c1", "x"): 2}
    assert result.terms["time_h"] == pytest.approx(2.0)


def test_a_group_unit_cap_whose_product_is_not_exact_in_binary_floors_correctly():
    """Group g (A alone, a1 1 h) may hold 29% of 100 units of x: 29, though 0.29 * 100 < 29 in floats.
    a1 29, b1 (B, outside g, 2 h) 71: mean 1.71 h (28 would give 1.72)."""
    inputs = make_inputs(
        hosts={"A": "g", "B": None},
        sites=[site("a1", "A"), site("b1", "B")],
        systems=[system("x")],
        demand={("d1", "x"): 100},
    )
    travel = times({("a1", "d1", "x"): 1.0, ("b1", "d1", "x"): 2.0})
    result = run(inputs, travel, make_scenario(groups={"g": {"max_unit_share": {"x": 0.29}}}))
    assert result.stock == {("a1", "x"): 29, ("b1", "x"): 71}
    assert result.terms["time_h"] == pytest.approx(1.71)


def test_a_site_filled_to_its_last_bay_by_a_fractional_footprint():
    """a1 (1 h) has 7 vehicle bays and x takes 0.28 bay a unit: exactly 25 units fit, though in floats
    7 / 0.28 is 24.999999999999996 and 25 * 0.28 is 7.000000000000001. Demand 35: a1 25, b1 (2 h) 10, mean
    (25 + 20) / 35 = 9/7 h; a floor without tolerance would leave a1 24 and give 46/35 h."""
    assert 7 / 0.28 < 25 and 25 * 0.28 > 7
    inputs = make_inputs(
        hosts=["A", "B"],
        sites=[site("a1", "A", bays=7), site("b1", "B")],
        systems=[system("x", bays=0.28)],
        demand={("d1", "x"): 35},
    )
    result = run(inputs, times({("a1", "d1", "x"): 1.0, ("b1", "d1", "x"): 2.0}), make_scenario())
    assert result.stock == {("a1", "x"): 25, ("b1", "x"): 10}
    assert result.terms["time_h"] == pytest.approx(9 / 7)


def test_a_budget_met_by_costs_that_do_not_add_up_exactly_in_binary():
    """Budget 0.3 M USD. a1 (1 h, cost 0.1) and b1 (2 h, cost 0.2) have room for 1 each; c1 (3 h, cost 0.3)
    for 2. Demand 2: {a1, b1} costs 0.1 + 0.2 = 0.30000000000000004 in floats, which is the budget, and gives
    1.5 h; read strictly, only {c1} fits (3 h)."""
    assert 0.1 + 0.2 > 0.3
    inputs = make_inputs(
        hosts=["A", "B", "C"],
        sites=[
            site("a1", "A", bays=1, cost=0.1),
            site("b1", "B", bays=1, cost=0.2),
            site("c1", "C", bays=2, cost=0.3),
        ],
        systems=[system("x")],
        demand={("d1", "x"): 2},
    )
    travel = times({("a1", "d1", "x"): 1.0, ("b1", "d1", "x"): 2.0, ("c1", "d1", "x"): 3.0})
    result = run(inputs, travel, make_scenario(constraints={"budget_musd": 0.3}))
    assert result.open_sites == ("a1", "b1")
    assert result.terms["time_h"] == pytest.approx(1.5)
