"""Pareto front, host-loss stress test and near-optimal alternatives."""

from __future__ import annotations

import csv
import itertools
import json
from collections import defaultdict

import numpy as np
import pytest
from scipy.optimize import linprog

from conftest import BASE, ROOT, invoke
from depotsite.analysis.stress import stress_test
from depotsite.analysis.tradeoffs import _add_tradeoff_components, alternatives, lexicographic_point, pareto_front
from depotsite.inputs import load_inputs
from depotsite.instance import build_instance
from depotsite.model import build_model, posture_of
from depotsite.network import travel_times
from depotsite.results import collect
from depotsite.scenario import load_scenario
from depotsite.solve import new_solver, solve
from depotsite.timelimit import Deadline
from instances import make_inputs, make_scenario, site, system, times

PARETO_LIMIT_S = 300  # the whole command; each point gets a share of what remains
SINGLE_LIMIT_S = 120  # each single-objective solve of the extremes: with the front, well inside the test timeout


def read_allocation(path):
    with path.open(newline="") as stream:
        return {(r["site_id"], r["system_id"]): int(r["units"]) for r in csv.DictReader(stream)}


def fastest_delivery_h(p, stock):
    """The time term of the fastest way to deliver this stock (an LP, independent of pyomo): each system's
    mean time-to-availability, averaged over the systems (the base's ``system_mean``, every priority 1)."""
    assert p.time_measure == "system_mean" and set(p.priority.values()) == {1.0}
    routes = [r for r in p.routes if (r[0], r[2]) in stock]
    c = np.array([p.tau_h[r] / p.requirement[r[2]] for r in routes]) / len(p.systems)
    rows = list(p.demand)
    a_eq = np.array([[1.0 if (r[1], r[2]) == row else 0.0 for r in routes] for row in rows])
    a_stock = np.array([[1.0 if (r[0], r[2]) == key else 0.0 for r in routes] for key in stock])
    lp = linprog(
        c,
        A_eq=np.vstack([a_eq, a_stock]),
        b_eq=np.array([p.demand[row] for row in rows] + list(stock.values()), dtype=float),
        method="highs",
    )
    assert lp.status == 0
    return lp.fun


def max_share_pct(p, stock):
    held = defaultdict(float)
    for (s, w), n in stock.items():
        held[p.host_of[s]] += p.value[w] * n
    return 100 * max(held.values()) / p.package


@pytest.fixture(scope="module")
def base_front(tmp_path_factory, cache):
    out = tmp_path_factory.mktemp("front") / "front"
    result = invoke("pareto", BASE, "--out", out, "--points", 9, "--time-limit", PARETO_LIMIT_S)
    assert result.exit_code == 0, result.output
    return out, result.output


@pytest.fixture(scope="module")
def base_parameters(cache):
    scenario = load_scenario(BASE)
    d = scenario.data
    inputs = load_inputs(hosts=d.hosts, sites=d.sites, systems=d.systems, destinations=d.destinations, demand=d.demand)
    travel = travel_times(inputs, scenario)
    return inputs, travel, scenario, build_instance(inputs, travel, scenario)


def test_pareto_front_is_monotone_and_non_dominated(base_front, base_parameters):
    out, output = base_front
    *_, p = base_parameters
    with (out / "front.csv").open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 9
    assert (out / "front.png").stat().st_size > 10_000
    epsilons = [float(r["epsilon"]) for r in rows]
    assert epsilons == sorted(epsilons, reverse=True)
    # recomputed from each point's allocation, not taken from the solver
    points = []
    for r in rows:
        stock = read_allocation(out / r["allocation"])
        points.append((fastest_delivery_h(p, stock), max_share_pct(p, stock)))
        assert points[-1][0] == pytest.approx(float(r["time_h"]), rel=1e-6)
        assert points[-1][1] == pytest.approx(float(r["risk"]), rel=1e-9)
        assert points[-1][1] <= float(r["epsilon"]) + 1e-6
    # Monotonicity and non-dominance are properties of proven optima: a point a slow machine stopped at its
    # limit (status time_limit, with its gap) is reported honestly and left out of them.
    proven = [pt for pt, r in zip(points, rows, strict=True) if r["status"] == "optimal"]
    assert all(r["status"] in ("optimal", "time_limit") for r in rows)
    assert all((float(r["gap"]) == 0.0) == (r["status"] == "optimal") for r in rows)
    by_growing_epsilon = list(reversed(proven))
    for (t_a, _), (t_b, _) in itertools.pairwise(by_growing_epsilon):
        assert t_b <= t_a + 1e-6  # more risk allowed never costs time
    for i, (t_i, r_i) in enumerate(proven):
        for j, (t_j, r_j) in enumerate(proven):
            dominates = t_j <= t_i + 1e-6 and r_j <= r_i + 1e-6 and (t_j < t_i - 1e-6 or r_j < r_i - 1e-6)
            assert not (i != j and dominates), (i, j)
    summary = json.loads((out / "summary.json").read_text())
    assert rows[summary["knee"]["point"]]["knee"] == "yes"
    assert f"knee: point {summary['knee']['point']}" in " ".join(output.split())


def test_pareto_extremes_are_the_single_objective_optima(base_front, base_parameters):
    out, _ = base_front
    inputs, travel, scenario, _ = base_parameters
    with (out / "front.csv").open(newline="") as stream:
        rows = list(csv.DictReader(stream))

    def single(objective):
        rules = scenario.model_copy(update={"objective": scenario.objective.model_copy(update=objective)})
        model = build_model(build_instance(inputs, travel, rules))
        outcome = solve(model, time_limit_s=SINGLE_LIMIT_S)
        return collect(model.instance, posture_of(model), outcome), outcome

    # Equal when both sides are proven optimal. Otherwise the front's extreme is a feasible posture of the
    # single-objective problem, so it is no better than that problem's optimum, and so no better than its
    # proven optimum (or, when that solve stopped at its limit, than its best bound).
    for row, objective, term in (
        (rows[0], {"time_weight": 1.0, "risk_weight": 0.0, "cost_weight": 0.0}, "time_h"),
        (rows[-1], {"time_weight": 0.0, "risk_weight": 1.0, "cost_weight": 0.0}, "risk"),
    ):
        best, outcome = single(objective)
        column = "time_h" if term == "time_h" else "risk"
        if row["status"] == "optimal" and best.status == "optimal":
            assert float(row[column]) == pytest.approx(best.terms[term], rel=1e-7)
        else:
            lowest = best.objective if best.status == "optimal" else outcome.bound
            if lowest is not None:
                assert float(row[column]) >= lowest - 1e-6 * max(1.0, abs(lowest))


def test_stress_shortfall_by_hand():
    """A holds 3 x (a1), B holds 2 x and 1 y (b1), C holds 1 y (c1); demand 5 x and 2 y at d1; x is worth 1,
    y 4 (package 13). Losing A: 3 x short (value 3); losing B: 2 x and 1 y short (value 6); losing C: 1 y short
    (value 4). Worst first by the value short: B (6), C (4, one unit), A (3, three units)."""
    inputs = make_inputs(
        hosts=["A", "B", "C"],
        sites=[site("a1", "A"), site("b1", "B"), site("c1", "C")],
        systems=[system("x", value=1.0), system("y", value=4.0)],
        demand={("d1", "x"): 5, ("d1", "y"): 2},
    )
    travel = times(
        {("a1", "d1", "x"): 1, ("b1", "d1", "x"): 2, ("b1", "d1", "y"): 2, ("c1", "d1", "y"): 5, ("a1", "d1", "y"): 1}
    )
    p = build_instance(inputs, travel, make_scenario())
    stock = {("a1", "x"): 3, ("b1", "x"): 2, ("b1", "y"): 1, ("c1", "y"): 1}
    cases = {c.lost: c for c in stress_test(p, stock, lose=1)}
    assert cases[("A",)].short == {"x": 3, "y": 0}
    assert cases[("B",)].short == {"x": 2, "y": 1}
    assert cases[("C",)].short == {"x": 0, "y": 1}
    package = 5 * 1 + 2 * 4
    assert cases[("B",)].value_lost_pct == pytest.approx(100 * (2 + 4) / package)
    assert cases[("A",)].mean_h == {"x": 2.0, "y": pytest.approx((2 + 5) / 2)}
    assert cases[("C",)].worst_h == {"x": 2.0, "y": 2.0}
    assert cases[("C",)].value_short_pct == pytest.approx(100 * 4 / package)
    assert cases[("A",)].systems_short == {"x": 3}
    order = [c.lost for c in stress_test(p, stock, lose=1)]
    assert order == [("B",), ("C",), ("A",)]  # by units short it would be B, A, C
    pairs = {c.lost: c for c in stress_test(p, stock, lose=2)}
    assert pairs[("A", "B")].short == {"x": 5, "y": 1}
    assert pairs[("B", "C")].delivered == {"x": 3, "y": 0}


def test_stress_with_makespan_adds_the_dispatch_queue():
    """b1 sends 1 unit per hour (dispatch 24/day): its 2 units arrive at 2 h transit + 2 h queue."""
    inputs = make_inputs(
        hosts=["A", "B"],
        sites=[site("a1", "A"), site("b1", "B", dispatch=24)],
        systems=[system("x")],
        demand={("d1", "x"): 3},
    )
    travel = times({("a1", "d1", "x"): 1, ("b1", "d1", "x"): 2})
    p = build_instance(inputs, travel, make_scenario(objective={"time": "makespan"}))
    cases = {c.lost: c for c in stress_test(p, {("a1", "x"): 1, ("b1", "x"): 2}, lose=1)}
    assert cases[("A",)].worst_h == {"x": pytest.approx(2 + 24 * 2 / 24)}
    assert cases[("A",)].short == {"x": 1}


def test_stress_command_on_a_run_folder(base_run, tmp_path):
    out, _ = base_run
    result = invoke("stress", out, "--out", tmp_path / "stress", "--lose", 2)
    assert result.exit_code == 0, result.output
    with (tmp_path / "stress" / "stress.csv").open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    with (ROOT / "data" / "hosts.csv").open(newline="") as stream:
        hosts = len(list(csv.DictReader(stream)))
    assert len(rows) == hosts * (hosts - 1) // 2  # every pair of hosts, once
    with (ROOT / "data" / "systems.csv").open(newline="") as stream:
        value = {r["system_id"]: float(r["value_musd"]) for r in csv.DictReader(stream)}
    held = {w for (_, w) in read_allocation(out / "allocation.csv")}
    value = {w: v for w, v in value.items() if w in held}  # the base holds only the systems it demands
    package = sum(value[w] * n for (_, w), n in read_allocation(out / "allocation.csv").items())
    shorts = [float(r["value_short_pct"]) for r in rows]
    assert shorts == sorted(shorts, reverse=True)  # worst first by the value that cannot be delivered
    for r in rows:
        short = {w: int(r[f"{w}_short"]) for w in value}
        expected = 100 * sum(value[w] * n for w, n in short.items()) / package
        assert float(r["value_short_pct"]) == pytest.approx(expected, abs=1e-4)  # written with four decimals
        assert r["systems_short"] == ";".join(w for w in value if short[w])
        assert float(r["value_short_pct"]) >= float(r["value_lost_pct"]) - 1e-9  # no spare stock elsewhere
    allocation = read_allocation(out / "allocation.csv")
    with (out / "allocation.csv").open(newline="") as stream:
        held = defaultdict(int)
        for r in csv.DictReader(stream):
            held[r["host_id"]] += int(r["units"])
    for r in rows:
        lost = r["lost_hosts"].split("+")
        assert int(r["units_short"]) >= 0
        assert int(r["units_short"]) <= sum(held[h] for h in lost)
    with (ROOT / "data" / "demand.csv").open(newline="") as stream:
        assert sum(allocation.values()) == sum(int(r["units"]) for r in csv.DictReader(stream))  # the package


def test_alternatives_are_different_and_within_the_allowance():
    """One site may open: a1 (1 h) is optimal, b1 (2 h) is within 150%, c1 (3 h) is not."""
    inputs = make_inputs(
        hosts=["A", "B", "C"],
        sites=[site("a1", "A"), site("b1", "B"), site("c1", "C")],
        systems=[system("x")],
        demand={("d1", "x"): 4},
    )
    travel = times({("a1", "d1", "x"): 1, ("b1", "d1", "x"): 2, ("c1", "d1", "x"): 3})
    model = build_model(build_instance(inputs, travel, make_scenario(constraints={"max_sites": 1})))
    best, found = alternatives(model, count=5, within_pct=150, time_limit_s=10)
    assert best.open_sites == ("a1",)
    assert [a.result.open_sites for a in found] == [("b1",)]
    assert found[0].difference == "opens b1; closes a1; shares A 100.0->0.0%, B 0.0->100.0% (objective +100.00%)"


def three_hosts():
    """6 units of x for d1 from a1, b1 and c1 (hosts A, B, C) at 1, 2 and 4 h; time and the largest share."""
    inputs = make_inputs(
        hosts=["A", "B", "C"],
        sites=[site("a1", "A"), site("b1", "B"), site("c1", "C")],
        systems=[system("x")],
        demand={("d1", "x"): 6},
    )
    travel = times({("a1", "d1", "x"): 1, ("b1", "d1", "x"): 2, ("c1", "d1", "x"): 4})
    return inputs, travel, make_scenario(objective={"risk_weight": 1.0})


def test_pareto_front_on_one_model_matches_rebuilding():
    inputs, travel, scenario = three_hosts()
    reused = pareto_front(build_model(build_instance(inputs, travel, scenario)), points=4, time_limit_s=10)
    rebuilt = pareto_front(
        build_model(build_instance(inputs, travel, scenario)),
        points=4,
        time_limit_s=10,
        rebuild=lambda: build_model(build_instance(inputs, travel, scenario)),
    )
    assert [pt.result.stock for pt in reused] == [pt.result.stock for pt in rebuilt]
    # 6 units, 1/2/4 h: fastest is all at a1 (100%); least risk is 2/2/2 (33.3%)
    assert reused[0].result.stock == {("a1", "x"): 6}
    assert reused[-1].result.stock == {("a1", "x"): 2, ("b1", "x"): 2, ("c1", "x"): 2}


def test_a_pareto_point_whose_bound_an_earlier_proven_point_meets_is_that_point(caplog):
    """6 units of x for d1 from sites at 1, 2 and 4 h in three hosts; the risk is the largest host share.

    Fastest: all 6 at a1 (100 %); least risk: 2/2/2 (33.3 %). Seven points put epsilon at 100, 88.9, 77.8,
    66.7, 55.6, 44.4 and 33.3 %, so a host may hold at most 6, 5, 4, 4, 3, 2 and 2 units (k units are
    k/6 of the value): the time-first points are 6/0/0, 5/1/0, 4/2/0, 4/2/0, 3/3/0, 2/2/2 and the least-risk
    point 2/2/2. The posture 4/2/0 of the point at 77.8 % has 66.7 % and so already meets the bound of the
    point at 66.7 %: that point is the same posture, taken over without a solve (once, the only repeat:
    the point at 44.4 % is time-first, the least-risk point before it risk-first, so it is solved). Every
    point equals the same point solved alone on a model of its own."""
    inputs, travel, scenario = three_hosts()
    with caplog.at_level("INFO", logger="depotsite.analysis.tradeoffs"):
        front = pareto_front(build_model(build_instance(inputs, travel, scenario)), points=7, time_limit_s=20)
    units = [tuple(pt.result.stock.get((s, "x"), 0) for s in ("a1", "b1", "c1")) for pt in front]
    assert units == [(6, 0, 0), (5, 1, 0), (4, 2, 0), (4, 2, 0), (3, 3, 0), (2, 2, 2), (2, 2, 2)]
    repeats = [r.getMessage() for r in caplog.records if "is the proven point" in r.getMessage()]
    assert repeats == ["pareto point at risk <= 66.6667 is the proven point at risk <= 77.7778"]
    for pt in front:
        model = build_model(build_instance(inputs, travel, scenario))
        _add_tradeoff_components(model)
        alone = lexicographic_point(
            model,
            new_solver(),
            budget=Deadline(10),
            risk_first=pt is front[-1],
            epsilon=pt.epsilon,
            mip_gap=0.0,
            threads=1,
        )
        assert (pt.result.stock, pt.result.status) == (alone.stock, "optimal")
        assert pt.result.terms == pytest.approx(alone.terms, rel=1e-9)
