"""Whole shipments from a fractional answer: the transportation problem re-solved to a vertex."""

from __future__ import annotations

import pytest

from depotsite.errors import NumericsError
from depotsite.instance import build_instance
from depotsite.model import build_model
from depotsite.shipments import is_whole, posture_of, whole_shipments
from depotsite.solve import solve
from instances import make_inputs, make_scenario, site, system, times


def two_by_two():
    """Sites a, b (one unit of x each at whole stock 2 and 2) and destinations d, e needing 2 and 2.

    Hours: a->d 1, a->e 3, b->d 2, b->e 2. Every whole split is a vertex of the transportation polytope;
    the cheapest is a->d 2, b->e 2 (cost 1*2 + 2*2 = 6), against a half-and-half split's 0.5*(1+3+2+2)*2 = 8.
    """
    inputs = make_inputs(
        hosts=["A", "B"],
        sites=[site("a", "A"), site("b", "B")],
        systems=[system("x")],
        demand={("d", "x"): 2, ("e", "x"): 2},
    )
    travel = times({("a", "d", "x"): 1, ("a", "e", "x"): 3, ("b", "d", "x"): 2, ("b", "e", "x"): 2})
    return build_instance(inputs, travel, make_scenario())


def test_a_fractional_split_becomes_the_cheapest_whole_one():
    inst = two_by_two()
    half = {("a", "d", "x"): 1.5, ("a", "e", "x"): 0.5, ("b", "d", "x"): 0.5, ("b", "e", "x"): 1.5}
    assert not is_whole(half)
    ship = whole_shipments(inst, {("a", "x"): 2, ("b", "x"): 2}, half)
    assert ship == {("a", "d", "x"): 2, ("b", "e", "x"): 2}
    cost = sum(inst.tau_h[r] * n for r, n in ship.items())
    assert cost == 6 <= sum(inst.tau_h[r] * v for r, v in half.items())


def test_only_the_routes_the_solver_used_are_kept():
    """With a->d unused, the stock of a must go to e: a->e 2, so b->d 2 (cost 3*2 + 2*2 = 10)."""
    inst = two_by_two()
    used = {("a", "d", "x"): 0.0, ("a", "e", "x"): 1.999, ("b", "d", "x"): 1.999, ("b", "e", "x"): 0.001}
    ship = whole_shipments(inst, {("a", "x"): 2, ("b", "x"): 2}, used)
    assert ship == {("a", "e", "x"): 2, ("b", "d", "x"): 2}


def test_whole_answers_within_the_tolerance_count_as_whole():
    assert is_whole({("a", "d", "x"): 2.0 + 1e-7, ("b", "e", "x"): 1 - 1e-7})
    assert not is_whole({("a", "d", "x"): 2.0 + 1e-5})


def test_a_stock_the_routes_cannot_balance_is_a_numerics_error():
    inst = two_by_two()
    with pytest.raises(NumericsError) as caught:
        whole_shipments(inst, {("a", "x"): 3, ("b", "x"): 1}, {("a", "d", "x"): 1.5, ("b", "e", "x"): 1.5})
    assert "the solver's shipments are not whole units and cannot be made whole on the routes it used" in str(
        caught.value
    )


def test_a_site_left_open_with_nothing_in_it_is_not_in_the_posture():
    """Cost weighs nothing, so the solver may leave any site open; only a and c hold the two units (x in two
    hosts, a at 1 h and c at 2 h are the fastest), and b, empty, is not reported open."""
    inputs = make_inputs(
        hosts=["A", "B", "C"],
        sites=[site("a", "A"), site("b", "B"), site("c", "C")],
        systems=[system("x")],
        demand={("d", "x"): 2},
    )
    travel = times({("a", "d", "x"): 1, ("b", "d", "x"): 3, ("c", "d", "x"): 2})
    model = build_model(build_instance(inputs, travel, make_scenario(systems={"x": {"min_hosts": 2}})))
    solve(model, time_limit_s=60)
    model.open_site["b"].value = 1  # what a solver may return when opening is free
    posture = posture_of(model)
    assert posture.open_sites == ("a", "c") and posture.stock == {("a", "x"): 1, ("c", "x"): 1}
