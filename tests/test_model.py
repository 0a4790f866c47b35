"""The model on hand-solvable inline instances: one test per constraint family and objective term.

Times, capacities and values are chosen so that each optimum is unique; every expected allocation is
worked out in the test's docstring.
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


def test_meet_demand_and_capacity_fill_the_fastest_site_first():
    """a1 (1 h, 3 bays) takes 3, b1 (2 h) the other 2; mean time (3*1 + 2*2) / 5 = 1.4 h."""
    inputs = make_inputs(
        hosts=["A", "B"],
        sites=[site("a1", "A", bays=3), site("b1", "B")],
        systems=[system("x")],
        demand={("d1", "x"): 5},
    )
    result = run(inputs, times({("a1", "d1", "x"): 1.0, ("b1", "d1", "x"): 2.0}), make_scenario())
    assert result.stock == {("a1", "x"): 3, ("b1", "x"): 2}
    assert result.terms["time_h"] == pytest.approx(1.4)
    assert result.objective == pytest.approx(1.4)
    assert {(x.site_id, x.units) for x in result.deliveries} == {("a1", 3), ("b1", 2)}


def test_site_capacity_is_shared_by_footprint():
    """a1 has 4 bays. x needs 2 bays, y 1. Keeping 3 y at a1 (x goes to b1 at 2 h) costs 3+2 = 5 h;
    keeping x and 2 y there costs 1+2+8 = 11 h. So a1 holds 3 y, b1 holds 1 x."""
    inputs = make_inputs(
        hosts=["A", "B"],
        sites=[site("a1", "A", bays=4), site("b1", "B")],
        systems=[system("x", bays=2), system("y", bays=1)],
        demand={("d1", "x"): 1, ("d1", "y"): 3},
    )
    travel = times({("a1", "d1", "x"): 1, ("a1", "d1", "y"): 1, ("b1", "d1", "x"): 2, ("b1", "d1", "y"): 8})
    assert run(inputs, travel, make_scenario()).stock == {("a1", "y"): 3, ("b1", "x"): 1}


def test_aircraft_shelters_limit_aircraft():
    """f needs one shelter; a1 (1 h) has 2 shelters, b1 (4 h) 10: a1 2, b1 1."""
    inputs = make_inputs(
        hosts=["A", "B"],
        sites=[site("a1", "A", kind="air_base", bays=0, shelters=2), site("b1", "B", kind="air_base", shelters=10)],
        systems=[system("f", bays=0, shelters=1, kinds="air_base")],
        demand={("d1", "f"): 3},
    )
    assert run(inputs, times({("a1", "d1", "f"): 1, ("b1", "d1", "f"): 4}), make_scenario()).stock == {
        ("a1", "f"): 2,
        ("b1", "f"): 1,
    }


def test_site_kind_keeps_aircraft_on_air_bases():
    """a1 is an army base (1 h) and may not hold f; everything goes to the air base b1 (5 h)."""
    inputs = make_inputs(
        hosts=["A", "B"],
        sites=[site("a1", "A"), site("b1", "B", kind="air_base")],
        systems=[system("f", kinds="air_base")],
        demand={("d1", "f"): 4},
    )
    result = run(inputs, times({("a1", "d1", "f"): 1, ("b1", "d1", "f"): 5}), make_scenario())
    assert result.stock == {("b1", "f"): 4}


def test_host_share_cap_by_units():
    """A may hold floor(0.5 * 5) = 2 units (host rule) and the system rule 0.6 is looser: a1 2, b1 3."""
    inputs = make_inputs(
        hosts=["A", "B"], sites=[site("a1", "A"), site("b1", "B")], systems=[system("x")], demand={("d1", "x"): 5}
    )
    scenario = make_scenario(hosts={"A": {"max_unit_share": {"x": 0.5}}}, systems={"x": {"max_host_share": 0.6}})
    assert run(inputs, times({("a1", "d1", "x"): 1, ("b1", "d1", "x"): 2}), scenario).stock == {
        ("a1", "x"): 2,
        ("b1", "x"): 3,
    }


def test_system_max_host_share_applies_to_every_host():
    """max_host_share 0.4 of 5 units allows 2 per host: a1 2, b1 2, c1 1."""
    inputs = make_inputs(
        hosts=["A", "B", "C"],
        sites=[site("a1", "A"), site("b1", "B"), site("c1", "C")],
        systems=[system("x")],
        demand={("d1", "x"): 5},
    )
    travel = times({("a1", "d1", "x"): 1, ("b1", "d1", "x"): 2, ("c1", "d1", "x"): 4})
    assert run(inputs, travel, make_scenario(systems={"x": {"max_host_share": 0.4}})).stock == {
        ("a1", "x"): 2,
        ("b1", "x"): 2,
        ("c1", "x"): 1,
    }


def test_host_share_cap_by_value():
    """V = 4*1 (x) + 1*4 (y) = 8; A may hold value 4. Keeping y at A saves 15 h, x only 1 h per unit:
    A holds the y, B the four x."""
    inputs = make_inputs(
        hosts=["A", "B"],
        sites=[site("a1", "A"), site("b1", "B")],
        systems=[system("x", value=1), system("y", value=4)],
        demand={("d1", "x"): 4, ("d1", "y"): 1},
    )
    travel = times({("a1", "d1", "x"): 1, ("a1", "d1", "y"): 1, ("b1", "d1", "x"): 2, ("b1", "d1", "y"): 16})
    scenario = make_scenario(hosts={"A": {"max_value_share": 0.5}})
    assert run(inputs, travel, scenario).stock == {("a1", "y"): 1, ("b1", "x"): 4}


def test_group_share_cap_by_value_and_units():
    """Group g = {A, B} may hold 25% of the value (2 of 8 units): a1 2, c1 6. With a unit cap of 0.5 instead,
    the group holds 4 (a1 all 4, it is fastest) and C the rest."""
    inputs = make_inputs(
        hosts={"A": "g", "B": "g", "C": None},
        sites=[site("a1", "A"), site("b1", "B"), site("c1", "C")],
        systems=[system("x")],
        demand={("d1", "x"): 8},
    )
    travel = times({("a1", "d1", "x"): 1, ("b1", "d1", "x"): 2, ("c1", "d1", "x"): 3})
    assert run(inputs, travel, make_scenario(groups={"g": {"max_value_share": 0.25}})).stock == {
        ("a1", "x"): 2,
        ("c1", "x"): 6,
    }
    assert run(inputs, travel, make_scenario(groups={"g": {"max_unit_share": {"x": 0.5}}})).stock == {
        ("a1", "x"): 4,
        ("c1", "x"): 4,
    }


def test_min_hosts_forces_a_second_host():
    """x must be in 2 hosts; the cheapest way is one unit at b1 (4 h) and the rest at a1 (1 h)."""
    inputs = make_inputs(
        hosts=["A", "B"],
        sites=[site("a1", "A"), site("a2", "A"), site("b1", "B")],
        systems=[system("x")],
        demand={("d1", "x"): 4},
    )
    travel = times({("a1", "d1", "x"): 1, ("a2", "d1", "x"): 1.5, ("b1", "d1", "x"): 4})
    assert run(inputs, travel, make_scenario(systems={"x": {"min_hosts": 2}})).stock == {("a1", "x"): 3, ("b1", "x"): 1}


def test_min_hosts_counts_a_host_only_with_a_full_lot():
    """With a lot of 2, the second host must hold at least 2: a1 2, b1 2."""
    inputs = make_inputs(
        hosts=["A", "B"],
        sites=[site("a1", "A"), site("b1", "B")],
        systems=[system("x", min_lot=2)],
        demand={("d1", "x"): 4},
    )
    travel = times({("a1", "d1", "x"): 1, ("b1", "d1", "x"): 4})
    assert run(inputs, travel, make_scenario(systems={"x": {"min_hosts": 2}})).stock == {("a1", "x"): 2, ("b1", "x"): 2}


def test_min_lot_forbids_small_remainders():
    """a1 (1 h) has 4 bays, the lot is 3, demand 5: (4,1) and (3,2) break the lot, so b1 holds all 5."""
    inputs = make_inputs(
        hosts=["A", "B"],
        sites=[site("a1", "A", bays=4), site("b1", "B")],
        systems=[system("x", min_lot=3)],
        demand={("d1", "x"): 5},
    )
    assert run(inputs, times({("a1", "d1", "x"): 1, ("b1", "d1", "x"): 2}), make_scenario()).stock == {("b1", "x"): 5}


def test_deadline_removes_slow_routes():
    """b1 (2 h, free) beats c1 (1.4 h, fixed cost 100 at weight 0.01) until the 1.5 h deadline rules b1 out."""
    inputs = make_inputs(
        hosts=["A", "B", "C"],
        sites=[site("a1", "A", bays=2), site("b1", "B"), site("c1", "C", cost=100.0)],
        systems=[system("x")],
        demand={("d1", "x"): 5},
    )
    travel = times({("a1", "d1", "x"): 1, ("b1", "d1", "x"): 2, ("c1", "d1", "x"): 1.4})
    loose = make_scenario(objective={"cost_weight": 0.01})
    assert run(inputs, travel, loose).stock == {("a1", "x"): 2, ("b1", "x"): 3}
    tight = make_scenario(objective={"cost_weight": 0.01}, systems={"x": {"deadline_h": 1.5}})
    result = run(inputs, travel, tight)
    assert result.stock == {("a1", "x"): 2, ("c1", "x"): 3}
    assert max(x.available_h for x in result.deliveries) <= 1.5


def test_release_delay_counts_toward_the_deadline():
    """A's 3 h release delay makes a1 (1 h transit) arrive at 4 h, past the 3.5 h deadline: all at b1."""
    inputs = make_inputs(
        hosts=["A", "B"], sites=[site("a1", "A"), site("b1", "B")], systems=[system("x")], demand={("d1", "x"): 2}
    )
    scenario = make_scenario(hosts={"A": {"release_delay_h": 3.0}}, systems={"x": {"deadline_h": 3.5}})
    result = run(inputs, times({("a1", "d1", "x"): 1, ("b1", "d1", "x"): 3}), scenario)
    assert result.stock == {("b1", "x"): 2}
    assert result.terms["time_h"] == pytest.approx(3.0)


def test_host_loss_resilience_losing_one_host():
    """Losing any one host must leave ceil(0.6 * 10) = 6 units, so no host holds more than 4: 4, 4, 2."""
    inputs = make_inputs(
        hosts=["A", "B", "C"],
        sites=[site("a1", "A"), site("b1", "B"), site("c1", "C")],
        systems=[system("x")],
        demand={("d1", "x"): 10},
    )
    travel = times({("a1", "d1", "x"): 1, ("b1", "d1", "x"): 2, ("c1", "d1", "x"): 4})
    scenario = make_scenario(systems={"x": {"resilience": {"lose_hosts": 1, "keep_fraction": 0.6}}})
    assert run(inputs, travel, scenario).stock == {("a1", "x"): 4, ("b1", "x"): 4, ("c1", "x"): 2}


def test_host_loss_resilience_losing_two_hosts():
    """Losing any two hosts must leave ceil(0.2 * 10) = 2 units: every host holds at least 2: 6, 2, 2."""
    inputs = make_inputs(
        hosts=["A", "B", "C"],
        sites=[site("a1", "A"), site("b1", "B"), site("c1", "C")],
        systems=[system("x")],
        demand={("d1", "x"): 10},
    )
    travel = times({("a1", "d1", "x"): 1, ("b1", "d1", "x"): 2, ("c1", "d1", "x"): 4})
    scenario = make_scenario(systems={"x": {"resilience": {"lose_hosts": 2, "keep_fraction": 0.2}}})
    assert run(inputs, travel, scenario).stock == {("a1", "x"): 6, ("b1", "x"): 2, ("c1", "x"): 2}


def test_max_sites():
    """Two small fast sites would do; with one site allowed only a3 (10 bays) can hold all 4."""
    sites = [site("a1", "A", bays=2), site("a2", "A", bays=2), site("a3", "A", bays=10)]
    inputs = make_inputs(hosts=["A"], sites=sites, systems=[system("x")], demand={("d1", "x"): 4})
    travel = times({("a1", "d1", "x"): 1, ("a2", "d1", "x"): 2, ("a3", "d1", "x"): 3})
    assert run(inputs, travel, make_scenario()).stock == {("a1", "x"): 2, ("a2", "x"): 2}
    result = run(inputs, travel, make_scenario(constraints={"max_sites": 1}))
    assert result.stock == {("a3", "x"): 4}
    assert result.open_sites == ("a3",)


def test_budget():
    """Fixed costs 8, 4, 1 and a budget of 5: a1 is out; a2 2 + a3 2 (2.5 h) beats a3 alone (3 h)."""
    inputs = make_inputs(
        hosts=["A"],
        sites=[site("a1", "A", bays=2, cost=8), site("a2", "A", bays=2, cost=4), site("a3", "A", bays=10, cost=1)],
        systems=[system("x")],
        demand={("d1", "x"): 4},
    )
    travel = times({("a1", "d1", "x"): 1, ("a2", "d1", "x"): 2, ("a3", "d1", "x"): 3})
    result = run(inputs, travel, make_scenario(constraints={"budget_musd": 5}))
    assert result.stock == {("a2", "x"): 2, ("a3", "x"): 2}
    assert result.terms["cost_musd"] == pytest.approx(5.0)


def test_force_open_and_exclusions():
    """force_open keeps a2 open and paid for: using a1 too (1 h + 4.5) beats a2 alone (2 h + 4), so a2 stays
    empty. exclude_sites / exclude_hosts remove a1 / all of A."""
    inputs = make_inputs(
        hosts=["A", "B"],
        sites=[site("a1", "A", cost=0.5), site("a2", "A", cost=4), site("b1", "B", cost=2)],
        systems=[system("x")],
        demand={("d1", "x"): 3},
    )
    travel = times({("a1", "d1", "x"): 1, ("a2", "d1", "x"): 2, ("b1", "d1", "x"): 3})
    forced = run(inputs, travel, make_scenario(objective={"cost_weight": 1.0}, constraints={"force_open": ["a2"]}))
    assert forced.stock == {("a1", "x"): 3}
    assert set(forced.open_sites) == {"a1", "a2"}
    assert forced.terms["cost_musd"] == pytest.approx(4.5)
    assert forced.objective == pytest.approx(1.0 + 4.5)
    assert run(inputs, travel, make_scenario(constraints={"exclude_sites": ["a1"]})).stock == {("a2", "x"): 3}
    assert run(inputs, travel, make_scenario(constraints={"exclude_hosts": ["A"]})).stock == {("b1", "x"): 3}


def test_cost_term_prefers_the_cheaper_site():
    """a1 is 1 h faster per unit (4 units: 1 h of mean time) but costs 10 M USD more at weight 1."""
    inputs = make_inputs(
        hosts=["A", "B"],
        sites=[site("a1", "A", cost=10), site("b1", "B")],
        systems=[system("x")],
        demand={("d1", "x"): 4},
    )
    result = run(
        inputs, times({("a1", "d1", "x"): 1, ("b1", "d1", "x"): 2}), make_scenario(objective={"cost_weight": 1.0})
    )
    assert result.stock == {("b1", "x"): 4}
    assert result.objective == pytest.approx(2.0)


def test_makespan_balances_transit_against_the_dispatch_queue():
    """a1: 1 h away but sends 1 unit/h; b1: 3 h away, 10 units/h. k units at a1 end at
    max(1 + k, 3 + 0.1 (4 - k)): 3.4, 3.3, 3.2, 4.0 for k = 0..3, so k = 2 and the makespan is 3.2 h."""
    inputs = make_inputs(
        hosts=["A", "B"],
        sites=[site("a1", "A", dispatch=24), site("b1", "B", dispatch=240)],
        systems=[system("x")],
        demand={("d1", "x"): 4},
    )
    result = run(
        inputs, times({("a1", "d1", "x"): 1, ("b1", "d1", "x"): 3}), make_scenario(objective={"time": "makespan"})
    )
    assert result.stock == {("a1", "x"): 2, ("b1", "x"): 2}
    assert result.terms["time_h"] == pytest.approx(3.2)
    assert result.objective == pytest.approx(3.2)


def test_max_host_share_spreads_the_package():
    """With risk dominant, 3 units over 3 hosts go one each: the largest share is 33.3 pp."""
    inputs = make_inputs(
        hosts=["A", "B", "C"],
        sites=[site("a1", "A"), site("b1", "B"), site("c1", "C")],
        systems=[system("x")],
        demand={("d1", "x"): 3},
    )
    travel = times({("a1", "d1", "x"): 1, ("b1", "d1", "x"): 2, ("c1", "d1", "x"): 4})
    result = run(inputs, travel, make_scenario(objective={"risk_weight": 1.0}))
    assert result.stock == {("a1", "x"): 1, ("b1", "x"): 1, ("c1", "x"): 1}
    assert result.terms["risk"] == pytest.approx(100 / 3)


def test_hhi_is_minimised_and_reported_exactly():
    """Risk as Herfindahl: 4 equal units over 2 hosts split 2/2, HHI = 50^2 + 50^2 = 5000 points."""
    inputs = make_inputs(
        hosts=["A", "B"], sites=[site("a1", "A"), site("b1", "B")], systems=[system("x")], demand={("d1", "x"): 4}
    )
    scenario = make_scenario(objective={"risk": "hhi", "risk_weight": 1.0, "time_weight": 0.001})
    result = run(inputs, times({("a1", "d1", "x"): 1, ("b1", "d1", "x"): 2}), scenario)
    assert result.stock == {("a1", "x"): 2, ("b1", "x"): 2}
    assert result.terms["risk"] == pytest.approx(5000.0)


def test_hhi_true_value_differs_from_tangent_approximation_between_points():
    """With 2 tangents (at 0 and 1) the cut is share^2 >= 2 share - 1; the reported HHI is still exact."""
    inputs = make_inputs(
        hosts=["A", "B", "C"],
        sites=[site("a1", "A"), site("b1", "B"), site("c1", "C")],
        systems=[system("x")],
        demand={("d1", "x"): 3},
    )
    travel = times({("a1", "d1", "x"): 1, ("b1", "d1", "x"): 2, ("c1", "d1", "x"): 4})
    scenario = make_scenario(objective={"risk": "hhi", "risk_weight": 1.0, "hhi_tangents": 2})
    result = run(inputs, travel, scenario)
    shares = result.host_value_shares
    assert result.terms["risk"] == pytest.approx(sum(v * v for v in shares.values()))


def test_expected_loss_avoids_the_threatened_host():
    """Threat 0.5 for A, 0.1 for B: with risk dominant everything goes to B; expected loss 10 pp."""
    inputs = make_inputs(
        hosts=["A", "B"], sites=[site("a1", "A"), site("b1", "B")], systems=[system("x")], demand={("d1", "x"): 4}
    )
    scenario = make_scenario(
        objective={"risk": "expected_loss", "risk_weight": 1.0}, hosts={"A": {"threat": 0.5}, "B": {"threat": 0.1}}
    )
    result = run(inputs, times({("a1", "d1", "x"): 1, ("b1", "d1", "x"): 2}), scenario)
    assert result.stock == {("b1", "x"): 4}
    assert result.terms["risk"] == pytest.approx(10.0)


def test_priority_weights_the_mean_time():
    """Both x and y want the one fast bay at a1; y has priority 3, so y gets it."""
    inputs = make_inputs(
        hosts=["A", "B"],
        sites=[site("a1", "A", bays=1), site("b1", "B")],
        systems=[system("x"), system("y")],
        demand={("d1", "x"): 1, ("d1", "y"): 1},
    )
    travel = times({("a1", "d1", "x"): 1, ("a1", "d1", "y"): 1, ("b1", "d1", "x"): 3, ("b1", "d1", "y"): 3})
    result = run(inputs, travel, make_scenario(systems={"y": {"priority": 3.0}}))
    assert result.stock == {("a1", "y"): 1, ("b1", "x"): 1}
    assert result.terms["time_h"] == pytest.approx((3 * 1 + 1 * 3) / 4)


def test_infeasible_host_caps_are_explained_in_domain_words():
    inputs = make_inputs(
        hosts=["A", "B"], sites=[site("a1", "A"), site("b1", "B")], systems=[system("x")], demand={("d1", "x"): 5}
    )
    scenario = make_scenario(hosts={"A": {"max_value_share": 0.1}, "B": {"max_value_share": 0.5}})
    model = build_model(build_instance(inputs, times({("a1", "d1", "x"): 1, ("b1", "d1", "x"): 2}), scenario))
    with pytest.raises(InfeasibleError) as caught:
        run_solve(model)
    message = str(caught.value)
    assert "the rules leave room for 2 of 5 x (x)" in message
    assert "relaxing any one of these alone would make it feasible: host caps (A value 10%, B value 50%)" in message


def test_infeasible_min_hosts_is_explained():
    inputs = make_inputs(
        hosts=["A", "B"], sites=[site("a1", "A"), site("b1", "B")], systems=[system("x")], demand={("d1", "x"): 5}
    )
    model = build_model(
        build_instance(
            inputs, times({("a1", "d1", "x"): 1, ("b1", "d1", "x"): 2}), make_scenario(systems={"x": {"min_hosts": 3}})
        )
    )
    with pytest.raises(InfeasibleError, match=r"minimum hosts per system \(x in at least 3\)"):
        run_solve(model)


def test_demand_no_site_can_reach_in_time_is_explained_before_solving():
    inputs = make_inputs(hosts=["A"], sites=[site("a1", "A")], systems=[system("x")], demand={("d1", "x"): 2})
    with pytest.raises(InfeasibleError) as caught:
        build_model(
            build_instance(inputs, times({("a1", "d1", "x"): 5}), make_scenario(systems={"x": {"deadline_h": 4}}))
        )
    assert (
        "2 x (x) for d1: no site can deliver within the 4 h deadline (fastest: a1 at 5.0 h); "
        "raise systems.x.deadline_h or add a closer site"
    ) in str(caught.value)


def test_resilience_that_no_posture_can_meet_names_the_rule():
    """Losing both hosts cannot leave anything: the rule is reported, not a solver error."""
    inputs = make_inputs(
        hosts=["A", "B"], sites=[site("a1", "A"), site("b1", "B")], systems=[system("x")], demand={("d1", "x"): 2}
    )
    scenario = make_scenario(systems={"x": {"resilience": {"lose_hosts": 2, "keep_fraction": 0.5}}})
    with pytest.raises(InfeasibleError, match="host_loss_resilience x/A\\+B cannot hold"):
        build_model(build_instance(inputs, times({("a1", "d1", "x"): 1, ("b1", "d1", "x"): 2}), scenario))


def _three_shelters_of_24():
    """Three air bases of 24 shelters, 60 M USD each, 10 h from the one destination, which needs 40 aircraft:
    two bases must open (120 M USD); mean time 10 h."""
    inputs = make_inputs(
        hosts=["A", "B", "C"],
        sites=[
            site(s, h, kind="air_base", bays=0, shelters=24, cost=60.0) for s, h in (("a", "A"), ("b", "B"), ("c", "C"))
        ],
        systems=[system("f", bays=0, shelters=1, kinds="air_base")],
        demand={("d1", "f"): 40},
    )
    travel = times({(s, "d1", "f"): 10.0 for s in "abc"})
    return build_instance(inputs, travel, make_scenario(objective={"cost_weight": 1.0}))


def test_fewest_sites_lifts_the_relaxation_to_whole_openings():
    """40 aircraft need two of the 24-shelter bases. Without the fewest-sites row the relaxation opens 40/24
    of a base (10 h + 100 M USD = 110); with it, two (10 + 120 = 130), the MIP's own optimum."""
    from depotsite.solve import relaxation
    from depotsite.timelimit import Deadline

    model = build_model(_three_shelters_of_24())
    assert model.site_capacity_fewest_sites["f"].lower == 2
    assert solve(model, time_limit_s=30).objective == pytest.approx(130.0)
    assert relaxation(model, deadline=Deadline(30), threads=1).objective == pytest.approx(130.0)
    model.site_capacity_fewest_sites.deactivate()
    assert relaxation(model, deadline=Deadline(30), threads=1).objective == pytest.approx(110.0)


def test_fewest_sites_has_no_row_where_one_site_would_do_or_none_could():
    """One base would hold 20 aircraft (k = 1: no row); 80 is more than all three hold, a capacity problem the
    explanation names, not a row."""
    from depotsite.instance import fewest_sites

    bounds = {(s, "f"): 24 for s in "abc"} | {("d", "g"): 5}
    assert fewest_sites(bounds, {"f": 20}) == {"f": 1}
    assert fewest_sites(bounds, {"f": 48}) == {"f": 2}
    assert fewest_sites(bounds, {"f": 49}) == {"f": 3}
    assert fewest_sites(bounds, {"f": 80, "g": 5}) == {"g": 1}
    inst = _three_shelters_of_24()
    inst.requirement["f"] = 20  # the model reads the requirement from the instance alone
    assert len(build_model(inst).site_capacity_fewest_sites) == 0
