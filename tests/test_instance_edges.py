"""The instance builder's resolution rules that no solve shows: release-delay precedence, the routes of
interleaved demand rows, tau with exposure, the resolved fields as the scenario states them, value steps at
their tolerance, and every reason for demand no site can serve. Each case was a mutant of ``instance.py``
that the model tests let through (``tests/README.md``)."""

from __future__ import annotations

from types import MappingProxyType

from depotsite.inputs import Destination, Host, Inputs
from depotsite.instance import TOLERANCE, build_instance, release_delay_h, value_step
from depotsite.traveltimes import Leg, TravelTimes
from instances import make_scenario, site, system


def _inputs(demand, *, hosts=None, systems=None):
    hosts = hosts or {"A": 0.0}
    return Inputs.build(
        hosts=[Host(h, h, "", delay) for h, delay in hosts.items()],
        sites=[site(f"{h.lower()}1", h) for h in hosts],
        systems=systems or [system("x"), system("y")],
        destinations=[Destination(d, d, 49.0, 30.0, "city") for d in sorted({d for d, _ in demand})],
        demand=demand,
    )


def _travel(hours, *, exposure=None, unreachable=None):
    exposure = exposure or {}
    legs = {pair: Leg(hours=h, exposure_h=exposure.get(pair, 0.0)) for pair, h in hours.items()}
    return TravelTimes(legs=MappingProxyType(legs), unreachable=unreachable or {})


def test_release_delay_rule_then_hosts_column_then_default():
    """The scenario's host rule wins, then the hosts.csv column, then [network] release_delay_h."""
    inputs = _inputs({("d1", "x"): 1}, hosts={"A": 5.0, "B": None, "C": 3.0})
    scenario = make_scenario(network={"release_delay_h": 2.0}, hosts={"C": {"release_delay_h": 7.0}})
    assert [release_delay_h(inputs, scenario, h) for h in ("A", "B", "C")] == [5.0, 2.0, 7.0]
    travel = _travel({("a1", "d1", "x"): 1.0, ("b1", "d1", "x"): 1.0, ("c1", "d1", "x"): 1.0})
    instance = build_instance(inputs, travel, scenario)
    assert instance.release_h == {"A": 5.0, "B": 2.0, "C": 7.0}
    assert instance.tau_h == {("a1", "d1", "x"): 6.0, ("b1", "d1", "x"): 3.0, ("c1", "d1", "x"): 8.0}


def test_routes_of_interleaved_demand_rows_and_a_late_row_before_a_timely_one():
    """x's rows are split by y's; x's first destination is beyond its 2.5 h deadline, its last within."""
    demand = {("d1", "x"): 1, ("d2", "y"): 1, ("d3", "x"): 1}
    travel = _travel({("a1", "d1", "x"): 10.0, ("a1", "d2", "y"): 1.0, ("a1", "d3", "x"): 2.0})
    instance = build_instance(_inputs(demand), travel, make_scenario(systems={"x": {"deadline_h": 2.5}}))
    assert set(instance.routes) == {("a1", "d2", "y"), ("a1", "d3", "x")}
    assert instance.dropped_by_deadline == {("a1", "d1", "x"): 10.0}


def test_a_route_arriving_at_the_deadline_plus_the_tolerance_is_kept():
    hours = 2.5 + TOLERANCE  # the same float the builder compares with
    travel = _travel({("a1", "d1", "x"): hours})
    instance = build_instance(_inputs({("d1", "x"): 1}), travel, make_scenario(systems={"x": {"deadline_h": 2.5}}))
    assert instance.routes == (("a1", "d1", "x"),)


def test_resolved_fields_as_the_scenario_states_them():
    """tau = release + transit + exposure_weight x exposure_h = 0 + 1 + 2 x 1.5 = 4; a host without a rule has
    threat 0; a system without demand is left out; a resilience rule of a system without demand is skipped
    and the next rule still applies: ceil(0.5 x 2 units) = 1 must survive the loss of either host."""
    demand = {("d1", "x"): 2, ("d1", "z"): 0}
    inputs = _inputs(demand, hosts={"A": 0.0, "B": 0.0}, systems=[system("x"), system("z")])
    travel = _travel({("a1", "d1", "x"): 1.0, ("b1", "d1", "x"): 1.0}, exposure={("a1", "d1", "x"): 1.5})
    scenario = make_scenario(
        objective={"exposure_weight": 2.0},
        hosts={"B": {"threat": 0.25}},
        systems={
            "z": {"resilience": {"lose_hosts": 1, "keep_fraction": 0.5}},
            "x": {"resilience": {"lose_hosts": 1, "keep_fraction": 0.5}},
        },
    )
    instance = build_instance(inputs, travel, scenario)
    assert instance.name == scenario.name == "test"
    assert instance.systems == ("x",)
    assert instance.requirement == {"x": 2}
    assert instance.exposure_weight == 2.0
    assert instance.exposure_h == {("a1", "d1", "x"): 1.5, ("b1", "d1", "x"): 0.0}
    assert instance.tau_h == {("a1", "d1", "x"): 4.0, ("b1", "d1", "x"): 1.0}
    assert instance.threat == {"A": 0.0, "B": 0.25}
    assert instance.resilience_need == {"x": 1}
    assert instance.lost_hosts == {("x", "A"): frozenset({"A"}), ("x", "B"): frozenset({"B"})}


def test_value_step_tolerance_is_relative_to_the_value():
    """A value counts as a whole multiple within 1e-9 of max(1, itself): 2,000,000.0001 is 2e6 to within
    5e-11 of itself; 1 + 1.5e-9 is off by more than 1e-9 at every scale up to three decimals."""
    assert value_step([2_000_000.0001]) == 2_000_000.0
    assert value_step([1.0 + 0.5e-9]) == 1.0
    assert value_step([1.0 + 1.5e-9]) is None
    assert value_step([0.0]) is None  # no positive value, no step


def test_every_reason_for_demand_no_site_can_serve():
    """d1 is served; d2 is cut off by avoided territory; y has no site that reaches d3 at all."""
    demand = {("d1", "x"): 1, ("d2", "x"): 2, ("d3", "y"): 3}
    travel = _travel({("a1", "d1", "x"): 1.0}, unreachable={("a1", "d2", "x"): "cut off"})
    scenario = make_scenario(network={"avoid_countries": ["RU", "BY"], "avoid_regions": ["crimea"]})
    instance = build_instance(_inputs(demand), travel, scenario)
    assert instance.unserved == (
        "2 x (x) for d2: every site that may hold it is cut off by avoided territory (RU, BY, crimea)",
        "3 y (y) for d3: no open, allowed site can hold it (site kinds, exclusions or the travel-time table "
        "leave none)",
    )


def test_a_destination_a_site_cannot_reach_does_not_hide_the_next():
    """a1 has no time to d1 (the matrix leaves it out) but one to d2: d2's route stays, d1 is unserved."""
    instance = build_instance(
        _inputs({("d1", "x"): 1, ("d2", "x"): 1}), _travel({("a1", "d2", "x"): 1.0}), make_scenario()
    )
    assert instance.routes == (("a1", "d2", "x"),)
    assert [line.split(":")[0] for line in instance.unserved] == ["1 x (x) for d1"]
