"""The exact reduction (``depotsite.reduction``): it never changes the optimum, and its proof adds back a site
it left out when that site could improve the posture."""

from __future__ import annotations

import random
from dataclasses import replace

import highspy
import pyomo.core as pyo
import pytest

import depotsite.solve
from depotsite.dominance import dominated_pairs
from depotsite.instance import build_instance
from depotsite.model import build_model
from depotsite.reduction import (
    _Routes,
    first_sites,
    price,
    restricted,
    solve_reduced,
    support_start,
    unsupported,
    wanted,
    with_dominance,
    without_dominance,
)
from depotsite.solve import best_in_support, carried_posture, relaxation, solve
from depotsite.timelimit import Deadline
from instances import make_inputs, make_scenario, site, system, times
from test_oracle import enumerate_optimum


def _instance(hours, sites, demand, *, cost_weight=1.0, **sections):
    inputs = make_inputs(
        hosts=sorted({h for _, h, _, _ in sites}),
        sites=[site(s, h, bays=bays, cost=cost) for s, h, bays, cost in sites],
        systems=[system(w) for w in sorted({w for _, w in demand})],
        demand=demand,
    )
    sections = {
        **sections,
        "objective": {"cost_weight": cost_weight, **sections.get("objective", {})},
        "solver": {"reduce": "on", **sections.get("solver", {})},
    }
    scenario = make_scenario(**sections)
    return build_instance(inputs, times(hours), scenario)


def test_the_proof_adds_back_a_site_that_beats_the_posture_and_keeps_out_one_that_cannot():
    """One host, 10 units for one destination. ``fast`` (10 h, 100 M USD) is the fastest, so the first
    restricted model holds it alone: 10 h + 100 = 110. ``slow`` (11 h, free) gives 11 h + 0 = 11, the optimum;
    ``far`` (50 h, 100 M USD) gives 150 and can never beat 11."""
    hours = {("fast", "d", "x"): 10.0, ("slow", "d", "x"): 11.0, ("far", "d", "x"): 50.0}
    sites = [("fast", "A", 10, 100.0), ("slow", "A", 10, 0.0), ("far", "A", 10, 100.0)]
    inst = _instance(hours, sites, {("d", "x"): 10})
    assert first_sites(inst, k=1) == {"fast"}
    model = build_model(restricted(inst, {"fast"}))
    alone = solve(model, time_limit_s=30)
    assert alone.objective == pytest.approx(110.0)
    prices = price(inst, model, relaxation(model, deadline=Deadline(30), threads=1), _Routes.of(inst))
    # pruning slow is unsafe: a posture opening it may cost less than 110
    assert prices.lower_bound + max(0.0, prices.phi["slow"]) < alone.objective
    # far is safe against the optimum 11 once slow is in: opening far costs at least its 100 M USD
    assert prices.lower_bound + max(0.0, prices.phi["far"]) >= 11.0
    model, outcome = solve_reduced(inst, deadline=Deadline(30), threads=1, first_k=1)
    assert outcome.status == "optimal"
    assert outcome.objective == pytest.approx(11.0)
    assert set(model.instance.sites) == {"fast", "slow"}
    assert "far" in model.instance.pruned_sites
    assert model.instance.reduction["proven"] is True


@pytest.mark.parametrize("seed", [20, 40])
def test_a_solve_after_the_proof_adds_sites_back_starts_at_the_last_posture(seed):
    """Two of the random instances whose proof adds sites back after the restricted MIP (its pricing did not):
    HiGHS takes the last posture as the start of the solve over the larger set, and the optimum is still the
    enumerated one."""
    inst, optimum = _random_capacitated(seed)
    model, outcome = solve_reduced(inst, deadline=Deadline(60), threads=1, first_k=1)
    record = model.instance.reduction
    assert record["added_back_by_the_proof"] >= 1
    assert len(model.instance.dominance_skips) == record["added_back_by_the_proof"]  # dominators of no row
    assert record["restarts_accepted"] == [True]
    assert outcome.objective == pytest.approx(optimum, rel=1e-7, abs=1e-7)
    assert record["proven"] is True


def test_the_posture_carried_to_more_sites_is_the_old_one_with_the_added_sites_closed():
    """The 110 posture of ``fast`` alone, carried to the model over ``fast`` and ``slow``: every variable of
    ``slow`` at 0, ``fast``'s as solved, and the new model's objective and every row hold at it."""
    hours = {("fast", "d", "x"): 10.0, ("slow", "d", "x"): 11.0}
    inst = _instance(hours, [("fast", "A", 10, 100.0), ("slow", "A", 10, 0.0)], {("d", "x"): 10})
    old = build_model(restricted(inst, {"fast"}))
    assert solve(old, time_limit_s=30).objective == pytest.approx(110.0)
    new = build_model(restricted(inst, {"fast", "slow"}))
    carried = carried_posture(old, new)
    assert len(carried) == sum(1 for _ in new.component_data_objects(pyo.Var, active=True))
    for var, value in carried:
        var.set_value(value)
        assert value == (0.0 if "slow" in var.name else old.find_component(var.name).value), var.name
    assert pyo.value(new.objective) == pytest.approx(110.0)
    for row in new.component_data_objects(pyo.Constraint, active=True):
        body = pyo.value(row.body)
        assert (row.lower is None or body >= pyo.value(row.lower) - 1e-9) and (
            row.upper is None or body <= pyo.value(row.upper) + 1e-9
        ), row.name


def _random_capacitated(seed):
    """A random capacitated instance with several sites per host (so the first restricted model leaves some
    out), with the enumeration oracle's optimum."""
    rng = random.Random(1000 + seed)
    hosts = ["A", "B"]
    names = [f"s{i}" for i in range(rng.randint(4, 6))]
    systems = ["x"] if seed % 2 == 0 else ["x", "y"]
    destinations = [f"d{j}" for j in range(rng.randint(1, 3))]
    demand = {(d, w): rng.randint(1, 6) for d in destinations for w in systems}
    need = sum(demand.values())
    capacity = {s: rng.randint(1, need) for s in names}
    capacity["s0"] = need
    fixed = {s: float(rng.randint(0, 20)) for s in names}
    hours = {
        (s, d, w): float(rng.randint(1, 40))
        for s in names
        for d in destinations
        for w in systems
        if rng.random() < 0.85 or s == "s0"
    }
    cost_weight = rng.choice([0.1, 1.0])
    sites = [(s, hosts[i % 2], capacity[s], fixed[s]) for i, s in enumerate(names)]
    inst = _instance(hours, sites, demand, cost_weight=cost_weight)
    return inst, enumerate_optimum(capacity, fixed, demand, hours, cost_weight)


CASES = [(seed, "simplex") for seed in range(24)] + [(seed, "ipm") for seed in range(0, 24, 3)]


@pytest.mark.parametrize(("seed", "method"), CASES)
def test_reduction_keeps_the_enumerated_optimum(seed, method, monkeypatch):
    """The reduced solve is proven optimal at the optimum the enumeration oracle finds. These relaxations are
    small, so the simplex solves them; with ``ipm`` they are solved by the interior point method, as from
    IPM_FROM_COLUMNS columns, and its duals prove the same optimum."""
    if method == "ipm":
        monkeypatch.setattr(depotsite.solve, "IPM_FROM_COLUMNS", 0)
    inst, optimum = _random_capacitated(seed)
    model, outcome = solve_reduced(inst, deadline=Deadline(60), threads=1, first_k=1)
    assert outcome.status == "optimal"
    assert outcome.objective == pytest.approx(optimum, rel=1e-7, abs=1e-7)
    assert model.instance.reduction["proven"] is True
    assert model.instance.reduction["lp_method"] == method


def _dual_objective(rel):
    """The objective of the dual solution ``rel`` holds, from the bounds its row duals and reduced costs make
    binding (it equals the LP optimum exactly when the duals are optimal)."""
    import numpy as np

    lp = rel.solver._solver_model.getLp()
    y = np.where(np.abs(rel.row_dual) > 1e-9, rel.row_dual, 0.0)  # below HiGHS's dual tolerance: zero
    d = rel.cost - rel.matrix.T @ y
    d = np.where(np.abs(d) > 1e-9, d, 0.0)
    rows = np.where(y > 0, lp.row_lower_, np.where(y < 0, lp.row_upper_, 0.0))
    cols = np.where(d > 0, lp.col_lower_, np.where(d < 0, lp.col_upper_, 0.0))
    assert np.all(np.isfinite(rows[y != 0])) and np.all(np.isfinite(cols[d != 0])), "a dual prices an open side"
    return float(y @ rows + d @ cols + lp.offset_)


@pytest.mark.parametrize("seed", range(4))
def test_both_lp_methods_reach_the_relaxation_optimum_with_duals_that_prove_it(seed):
    """On the host-rule instances (coupling rows with equalities, both row senses, bounded columns), the
    simplex and the interior point method give the same LP optimum, each with duals whose dual objective
    is that optimum; the model the relaxation's solver holds keeps its integer columns, so the MIP solved
    in it (without loading it again) is the full model's optimum."""
    inst = _host_rule_instance(seed)
    model = build_model(inst)
    rels = {m: relaxation(model, deadline=Deadline(30), threads=1, method=m) for m in ("simplex", "ipm")}
    assert {m: r.method for m, r in rels.items()} == {"simplex": "simplex", "ipm": "ipm"}
    assert rels["ipm"].objective == pytest.approx(rels["simplex"].objective, rel=1e-7, abs=1e-7)
    for r in rels.values():
        assert _dual_objective(r) == pytest.approx(r.objective, rel=1e-6, abs=1e-6)
    full = solve(build_model(inst), time_limit_s=60)
    again = solve(model, solver=rels["ipm"].solver, time_limit_s=60)
    assert full.status == again.status == "optimal"
    assert again.objective == pytest.approx(full.objective, rel=1e-7, abs=1e-7)
    kinds = rels["ipm"].solver._solver_model.getLp().integrality_
    assert sum(kind == highspy.HighsVarType.kInteger for kind in kinds) == sum(
        1 for v in model.component_data_objects(pyo.Var) if v.is_integer() or v.is_binary()
    )


def test_an_unknown_lp_method_is_refused():
    model = build_model(_host_rule_instance(0))
    with pytest.raises(ValueError, match="unknown LP method 'barrier': use 'auto', 'simplex' or 'ipm'"):
        relaxation(model, deadline=Deadline(30), threads=1, method="barrier")


def _host_rule_instance(seed):
    rng = random.Random(2000 + seed)
    hosts = ["A", "B", "C"]
    names = [f"s{i}" for i in range(9)]
    destinations = ["d0", "d1"]
    demand = {(d, w): rng.randint(2, 6) for d in destinations for w in ("x", "y")}
    sites = [(s, hosts[i % 3], rng.randint(4, 12), float(rng.randint(0, 20))) for i, s in enumerate(names)]
    hours = {(s, d, w): float(rng.randint(5, 60)) for s in names for d in destinations for w in ("x", "y")}
    sections = {
        "objective": {"cost_weight": 0.1, "risk": "max_host_share", "risk_weight": 0.05},
        "systems": {"x": {"min_hosts": 2}},
        "hosts": {"A": {"max_value_share": 0.6}},
    }
    return _instance(hours, sites, demand, **sections)


@pytest.mark.parametrize("seed", range(12))
def test_reduction_keeps_the_full_models_optimum_with_host_rules(seed):
    """With the coupling rows a host rule adds (largest host share in the objective, a value cap, min hosts),
    the reduced optimum is the full model's, computed by solving the full model."""
    inst = _host_rule_instance(seed)
    full = solve(build_model(inst), time_limit_s=60)
    _, outcome = solve_reduced(inst, deadline=Deadline(60), threads=1, first_k=1)
    assert full.status == outcome.status == "optimal"
    assert outcome.objective == pytest.approx(full.objective, rel=1e-7, abs=1e-7)


def test_auto_leaves_small_instances_and_unpriced_measures_alone():
    """``auto`` reduces only from AUTO_ROUTES routes; the makespan and the queues are never reduced."""
    hours = {("a", "d", "x"): 1.0}
    inst = _instance(hours, [("a", "A", 5, 0.0)], {("d", "x"): 1}, solver={"reduce": "auto"})
    assert not wanted(inst)
    makespan = _instance(hours, [("a", "A", 5, 0.0)], {("d", "x"): 1}, objective={"time": "makespan"})
    assert unsupported(makespan) is not None and not wanted(makespan)
    assert wanted(_instance(hours, [("a", "A", 5, 0.0)], {("d", "x"): 1}))  # "on"


def _three_sites():
    hours = {("fast", "d", "x"): 10.0, ("slow", "d", "x"): 11.0, ("far", "d", "x"): 50.0}
    sites = [("fast", "A", 10, 100.0), ("slow", "A", 10, 0.0), ("far", "A", 10, 100.0)]
    return _instance(hours, sites, {("d", "x"): 10})


def test_the_best_posture_of_a_part_is_the_best_over_the_sites_left_open():
    """The three sites of the first test: closing ``slow`` leaves ``fast`` (10 h + 100 = 110) as the best;
    closing ``slow`` and ``fast`` leaves ``far`` (50 h + 100 = 150); closing nothing gives the optimum 11.
    Built as the reduction's relaxations load its models, without the site-dominance rows (``fast`` dominates ``far``,
    which they would hold closed with it)."""
    model = build_model(replace(_three_sites(), site_dominance=False))
    rel = relaxation(model, deadline=Deadline(30), threads=1)
    col = {s: rel.column[id(v)] for s, v in model.open_site.items()}
    for closed, best in ([], 11.0), (["slow"], 110.0), (["slow", "fast"], 150.0):
        part = best_in_support(rel, closed=[col[s] for s in closed], time_limit_s=30, threads=1)
        assert part.proven
        assert part.objective == pytest.approx(best)
        assert all(part.col_value[col[s]] == 0.0 for s in closed)
    assert best_in_support(rel, closed=list(col.values()), time_limit_s=30, threads=1) is None  # nothing open


def test_a_start_worse_than_the_optimum_never_changes_it():
    """Started from the best posture without ``slow`` (110), the MIP still proves the optimum 11, and HiGHS
    took the start."""
    model = build_model(_three_sites())
    rel = relaxation(model, deadline=Deadline(30), threads=1)
    slow = rel.column[id(model.open_site["slow"])]
    part = best_in_support(rel, closed=[slow], time_limit_s=30, threads=1)
    rel.solver.start_at_columns(part.col_value)
    outcome = solve(model, solver=rel.solver, time_limit_s=30)
    assert rel.solver.start_accepted is True
    assert outcome.status == "optimal"
    assert outcome.objective == pytest.approx(11.0)


def _rows_broken(model, values: dict[int, float], tol: float = 1e-6) -> list[str]:
    """The rows of ``model`` the column values break (recomputed by pyomo from the constraint expressions)."""
    saved = [(v, v.value) for v in model.component_data_objects(pyo.Var)]
    try:
        for v in model.component_data_objects(pyo.Var):
            v.set_value(values[id(v)], skip_validation=True)
        broken = []
        for con in model.component_data_objects(pyo.Constraint, active=True):
            body = pyo.value(con.body)
            if (con.lower is not None and body < pyo.value(con.lower) - tol) or (
                con.upper is not None and body > pyo.value(con.upper) + tol
            ):
                broken.append(con.name)
        return broken
    finally:
        for v, x in saved:
            v.set_value(x, skip_validation=True)


@pytest.mark.parametrize("seed", range(0, 24, 2))
def test_the_reduction_start_keeps_every_rule_and_is_never_below_the_optimum(seed, monkeypatch):
    """The start the reduction hands HiGHS (``support_start``) is a posture of the restricted model: recomputed
    from the model's rows, it breaks none, its integer columns are whole, and its objective is at or above the
    enumerated optimum, which the reduced solve still proves."""
    import depotsite.reduction as reduction

    seen = []
    real = reduction.best_in_support

    def keep(rel, **kw):
        part = real(rel, **kw)
        seen.append((rel, part))
        return part

    monkeypatch.setattr(reduction, "best_in_support", keep)
    inst, optimum = _random_capacitated(seed)
    model, outcome = solve_reduced(inst, deadline=Deadline(60), threads=1, first_k=1)
    assert outcome.status == "optimal"
    assert outcome.objective == pytest.approx(optimum, rel=1e-7, abs=1e-7)
    start = model.instance.reduction["start"]
    if not seen:
        assert start is None
        pytest.skip("the relaxation opens every site kept: no smaller part to start from")
    rel, part = seen[0]
    assert start["objective"] == pytest.approx(part.objective)
    assert start["accepted"] is True
    assert part.objective >= optimum - 1e-7
    by_var = {i: float(part.col_value[c]) for i, c in rel.column.items()}
    first = rel.solver._model  # the restricted model the start was found for
    assert _rows_broken(first, by_var) == []
    for v in first.component_data_objects(pyo.Var):
        if v.is_integer() or v.is_binary():
            assert abs(by_var[id(v)] - round(by_var[id(v)])) < 1e-6, v.name


def test_a_restricted_model_keeps_the_full_models_fewest_sites_row():
    """Over a, b, c (24 bays each), d (40) and e (24), 60 units need two sites (d + one more); over a, b and e
    alone they need three. The restricted model's row must still be the full model's (>= 2): its dual proves a
    bound on the full model, where two sites do."""
    hours = {(s, "d", "x"): 10.0 for s in "abcde"}
    sites = [(s, "A", 40 if s == "d" else 24, 5.0) for s in "abcde"]
    inst = _instance(hours, sites, {("d", "x"): 60})
    assert build_model(inst).site_capacity_fewest_sites["x"].lower == 2
    assert build_model(restricted(inst, {"a", "b", "e"})).site_capacity_fewest_sites["x"].lower == 2


def _random_no_site_holds_all(seed):
    """A random instance where no site holds the whole package, so every posture opens at least two sites and
    the fewest-sites row binds in the relaxation; every site reaches every destination."""
    rng = random.Random(5000 + seed)
    names = [f"s{i}" for i in range(rng.randint(4, 6))]
    destinations = [f"d{j}" for j in range(rng.randint(1, 3))]
    demand = {(d, "x"): rng.randint(2, 8) for d in destinations}
    need = sum(demand.values())
    capacity = {s: rng.randint(-(-need // 3), need - 1) for s in names}
    fixed = {s: float(rng.randint(0, 30)) for s in names}
    hours = {(s, d, "x"): float(rng.randint(1, 40)) for s in names for d in destinations}
    cost_weight = rng.choice([0.3, 1.0])
    sites = [(s, "AB"[i % 2], capacity[s], fixed[s]) for i, s in enumerate(names)]
    inst = _instance(hours, sites, demand, cost_weight=cost_weight)
    return inst, enumerate_optimum(capacity, fixed, demand, hours, cost_weight)


@pytest.mark.parametrize("seed", range(12))
def test_reduction_keeps_the_enumerated_optimum_when_several_sites_must_open(seed):
    """With the fewest-sites row in play (k >= 2), the reduced solve and the full model both prove the
    enumerated optimum."""
    inst, optimum = _random_no_site_holds_all(seed)
    full = build_model(inst)
    assert full.site_capacity_fewest_sites["x"].lower >= 2
    assert solve(full, time_limit_s=60).objective == pytest.approx(optimum, rel=1e-7, abs=1e-7)
    model, outcome = solve_reduced(inst, deadline=Deadline(60), threads=1, first_k=1)
    assert outcome.status == "optimal"
    assert outcome.objective == pytest.approx(optimum, rel=1e-7, abs=1e-7)
    assert model.instance.reduction["proven"] is True


def _random_with_copies(seed):
    """A random instance of three or four sites and two more, each a copy of one of them in its host: at most
    as big, at least as dear, each route at least as slow or missing. So the restricted models hold
    site-dominance rows; with the enumeration oracle's optimum."""
    rng = random.Random(7000 + seed)
    names = [f"s{i}" for i in range(rng.randint(3, 4))]
    destinations = [f"d{j}" for j in range(rng.randint(1, 3))]
    demand = {(d, "x"): rng.randint(1, 6) for d in destinations}
    capacity = {s: rng.randint(1, sum(demand.values())) for s in names}
    capacity["s0"] = sum(demand.values())
    fixed = {s: float(rng.randint(0, 20)) for s in names}
    hours = {(s, d, "x"): float(rng.randint(1, 40)) for s in names for d in destinations}
    host = {s: "AB"[i % 2] for i, s in enumerate(names)}
    for copy in ("c0", "c1"):
        original = rng.choice(names)
        capacity[copy] = rng.randint(1, capacity[original])
        fixed[copy] = fixed[original] + rng.randint(0, 3)
        host[copy] = host[original]
        for d in destinations:
            if rng.random() < 0.8:
                hours[copy, d, "x"] = hours[original, d, "x"] + rng.randint(0, 3)
    cost_weight = rng.choice([0.1, 1.0])
    inst = _instance(hours, [(s, host[s], capacity[s], fixed[s]) for s in capacity], demand, cost_weight=cost_weight)
    return inst, enumerate_optimum(capacity, fixed, demand, hours, cost_weight)


@pytest.mark.parametrize("seed", [1, 3, 9, 10, 15, 28])
def test_the_restricted_mip_holds_dominated_sites_closed_and_keeps_the_enumerated_optimum(seed):
    """The restricted MIP has the site-dominance rows between the sites it keeps (the relaxations that price
    the others do not), and the reduced solve still proves the enumerated optimum."""
    inst, optimum = _random_with_copies(seed)
    model, outcome = solve_reduced(inst, deadline=Deadline(60), threads=1, first_k=2)
    record = model.instance.reduction
    assert record["site_dominance_rows"] == len(dominated_pairs(model.instance)) >= 1
    assert sorted(model.site_dominance) == sorted(dominated_pairs(model.instance))
    assert outcome.status == "optimal" and record["proven"] is True
    assert outcome.objective == pytest.approx(optimum, rel=1e-7, abs=1e-7)


def test_the_pricing_relaxation_has_no_site_dominance_row_and_the_mip_has_them_all():
    """The proof prices every row of its relaxation as a site row or a coupling row; a row between two sites
    is neither, so the relaxation is solved without them and they are put back for the MIP."""
    inst, _ = _random_with_copies(9)
    model = build_model(restricted(inst, set(inst.sites)))
    assert len(model.site_dominance) >= 1
    without_dominance(model)
    rel = relaxation(model, deadline=Deadline(30), threads=1)
    assert not [c for c in rel.row if c.parent_component() is model.site_dominance]
    price(inst, model, rel, _Routes.of(inst))  # prices: no row it does not know
    with_dominance(model, rel.solver)
    loaded = rel.solver._solver_model.getLp()
    assert loaded.num_row_ == len(rel.row) + len(model.site_dominance)


def test_a_site_added_back_holds_no_site_closed_so_the_posture_carried_over_keeps_every_row():
    """``b`` and ``a`` are twins, ``b`` first in the table, so ``b`` dominates ``a``; the first restricted model
    keeps ``a`` (the fastest, by name on a tie) and opens it. Were ``b``, added back, to dominate ``a`` in the
    larger model, the posture carried over (``a`` open, ``b`` closed) would break that row; added back, it
    dominates no one (``Instance.dominance_skips``), and the carried posture keeps every row."""
    hours = {("b", "d", "x"): 10.0, ("a", "d", "x"): 10.0}
    inst = _instance(hours, [("b", "A", 10, 5.0), ("a", "A", 10, 5.0)], {("d", "x"): 10})
    assert first_sites(inst, k=1) == {"a"}
    assert dominated_pairs(restricted(inst, {"a", "b"})) == [("a", "b")]
    old = build_model(restricted(inst, {"a"}))
    assert solve(old, time_limit_s=30).status == "optimal"
    new = build_model(restricted(inst, {"a", "b"}, added_back=["b"]))
    assert len(new.site_dominance) == 0
    values = {id(v): x for v, x in carried_posture(old, new)}
    assert _rows_broken(new, values) == []
    plain = build_model(restricted(inst, {"a", "b"}))
    assert _rows_broken(plain, {id(v): x for v, x in carried_posture(old, plain)}) == ["site_dominance[a,b]"]


def test_the_start_keeps_the_sites_that_dominate_a_site_the_relaxation_opens(monkeypatch):
    """The start's part is the sites the relaxation opens; were it to hold ``b`` closed while the relaxation
    opens ``a``, which ``b`` dominates, the rows would hold ``a`` closed too. Given a relaxation that opens
    ``a`` alone, the part keeps ``a`` and ``b`` and closes only ``c``, which dominates no one it opens."""
    import depotsite.reduction as reduction

    hours = {("b", "d", "x"): 10.0, ("a", "d", "x"): 10.0, ("c", "d", "x"): 12.0}
    inst = _instance(hours, [("b", "A", 10, 5.0), ("a", "A", 10, 5.0), ("c", "A", 10, 5.0)], {("d", "x"): 10})
    model = build_model(inst)
    assert sorted(model.site_dominance) == [("a", "b"), ("c", "a"), ("c", "b")]
    rel = relaxation(model, deadline=Deadline(30), threads=1)
    col = {s: rel.column[id(v)] for s, v in model.open_site.items()}
    values = rel.col_value.copy()
    values[[col["b"], col["c"]]] = 0.0
    values[col["a"]] = 1.0
    seen = []
    monkeypatch.setattr(reduction, "best_in_support", lambda rel, *, closed, **kw: seen.append(closed))
    support_start(model, replace(rel, col_value=values), deadline=Deadline(30), threads=1, mip_gap=0.0)
    assert seen == [[col["c"]]]
