"""The resolved instance and the formulation that reads it: the model reads nothing but the instance, its
docstring's symbol table names real things, every family is registered once, and shares become whole
units with the documented tolerance."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pyomo.core as pyo
from pyomo.repn import generate_standard_repn

import depotsite.dispatch
import depotsite.model
import depotsite.rows
from depotsite.explain import relaxable_families
from depotsite.inputs import units_fitting
from depotsite.instance import Instance, build_instance, value_step
from depotsite.model import FAMILIES, build_model
from instances import make_inputs, make_scenario, site, system, times

SRC = Path(depotsite.model.__file__).parent


def every_family(**objective):
    """The golden LP's instance: every constraint family has rows."""
    inputs = make_inputs(
        hosts={"A": "g", "B": "g", "C": None},
        sites=[
            site("a1", "A", bays=6, cost=2),
            site("b1", "B", kind="air_base", bays=4, shelters=2, cost=3),
            site("c1", "C", bays=8, cost=1),
        ],
        systems=[
            system("x", value=2, bays=1, min_lot=2, kinds="army_base;air_base"),
            system("f", value=8, bays=0, shelters=1, kinds="air_base"),
        ],
        demand={("d1", "x"): 4, ("d1", "f"): 1},
        earmarks={("P", "x", "A"): 1},
    )
    travel = times({("a1", "d1", "x"): 1, ("b1", "d1", "x"): 2, ("c1", "d1", "x"): 3, ("b1", "d1", "f"): 1})
    scenario = make_scenario(
        financing={"honour_earmarks": True},
        objective={"risk_weight": 1.0, "cost_weight": 0.5, **objective},
        hosts={"A": {"max_value_share": 0.6, "max_unit_share": {"x": 0.75}}},
        groups={"g": {"max_value_share": 0.9, "max_unit_share": {"x": 1.0}}},
        systems={"x": {"min_hosts": 2, "deadline_h": 2.5, "resilience": {"lose_hosts": 1, "keep_fraction": 0.25}}},
        constraints={"max_sites": 3, "budget_musd": 10, "force_open": ["c1"]},
    )
    return build_instance(inputs, travel, scenario)


def test_model_never_reads_the_raw_inputs_or_scenario():
    """The formulation's modules (families, objective terms, row helpers) read only the resolved instance."""
    reads = []
    for module in ("model.py", "terms.py", "rows.py"):
        tree = ast.parse((SRC / module).read_text())
        reads += [
            f"{module} line {node.lineno}: .{node.attr}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr in ("inputs", "scenario")
        ]
    assert reads == []


def test_solver_and_results_modules_know_no_formulation_and_no_pyomo():
    def imported(module: str) -> set[str]:
        tree = ast.parse((SRC / module).read_text())
        return {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)} | {
            alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        }

    assert not {"depotsite.model", "depotsite.explain"} & imported("solve.py")
    for plain in ("instance.py", "posture.py", "results.py"):
        assert not [m for m in imported(plain) if m.startswith(("pyomo", "highspy", "depotsite.solve"))], plain


def test_every_name_in_the_symbol_table_exists():
    table = depotsite.model.__doc__.split("symbol ")[1].split("\nConstraints")[0]
    names = re.findall(r"``([^`]+)``", table)
    assert len(names) > 30
    fields = {f.name for f in dataclasses.fields(Instance)}
    models = [
        build_model(every_family()),
        build_model(every_family(time="makespan", risk="hhi")),
        build_model(every_family(queues=True)),
    ]
    modules = {"dispatch": depotsite.dispatch, "rows": depotsite.rows}
    missing = []
    for name in names:
        owner, _, attribute = name.partition(".")
        if owner == "Instance":
            found = attribute in fields
        elif owner in modules:  # a quantity the formulation derives from the instance: its function
            found = callable(getattr(modules[owner], attribute, None))
        else:
            assert owner == "m", name
            found = any(model.component(attribute) is not None for model in models)
        if not found:
            missing.append(name)
    assert missing == []


def test_every_constraint_belongs_to_exactly_one_registered_family():
    model = build_model(every_family())
    names = [f.name for f in FAMILIES]
    assert len(names) == len(set(names))
    assert list(model.family_rows) == ["sets", "variables", *names]
    owned = [c for rows in model.family_rows.values() for c in rows]
    assert sorted(owned) == sorted(model.component_map(pyo.Constraint))
    for family in FAMILIES:  # the LP rows carry their family's name
        for component in model.family_rows[family.name]:
            assert family.kind == "objective" or component.startswith(family.name), component


def test_the_explanation_relaxes_rules_before_capacities_and_says_them_in_policy_words():
    model = build_model(every_family())
    found = [(family.name, family.describe(model.instance)) for family, _ in relaxable_families(model)]
    assert found == [
        ("host_share_cap", "host caps (A value 60%, A x 75%)"),
        ("group_share_cap", "group caps (g value 90%, g x 100%)"),
        ("min_hosts", "minimum hosts per system (x in at least 2)"),
        ("min_lot", "minimum lots per site (x 2)"),
        ("host_loss_resilience", "host-loss resilience (x: keep 25% after losing any 1 host(s))"),
        ("max_sites", "at most 3 open sites"),
        ("budget", "the budget of 10 M USD"),
        ("force_open", "sites forced open (c1)"),
        (
            "honour_earmarks",
            "purchasers' earmarks (P: 1 x stored in A); set financing.honour_earmarks = false or earmark fewer units",
        ),
        ("site_capacity", "site capacities (vehicle bays, aircraft shelters and ammunition storage)"),
    ]


def test_shares_become_whole_units_within_the_tolerance():
    """0.29 * 100 is 28.999999999999996 in floating point: the cap is 29 units, not 28; 0.07 * 100 is
    7.000000000000001: resilience needs 7 units, not 8."""
    inputs = make_inputs(
        hosts=["A", "B"], sites=[site("a1", "A"), site("b1", "B")], systems=[system("x")], demand={("d1", "x"): 100}
    )
    scenario = make_scenario(
        hosts={"A": {"max_unit_share": {"x": 0.29}}},
        systems={"x": {"max_host_share": 0.5, "resilience": {"lose_hosts": 1, "keep_fraction": 0.07}}},
    )
    inst = build_instance(inputs, times({("a1", "d1", "x"): 1, ("b1", "d1", "x"): 2}), scenario)
    assert 0.29 * 100 < 29 and 0.07 * 100 > 7
    assert inst.unit_cap == {("A", "x"): 29, ("B", "x"): 50}
    assert inst.resilience_need == {"x": 7}
    assert inst.lost_hosts == {("x", "A"): frozenset({"A"}), ("x", "B"): frozenset({"B"})}


def test_excluded_sites_and_late_routes_are_resolved_away():
    inputs = make_inputs(
        hosts=["A", "B"],
        sites=[site("a1", "A"), site("a2", "A"), site("b1", "B")],
        systems=[system("x")],
        demand={("d1", "x"): 3},
    )
    scenario = make_scenario(systems={"x": {"deadline_h": 4}}, constraints={"exclude_sites": ["a2"]})
    inst = build_instance(inputs, times({("a1", "d1", "x"): 5, ("a2", "d1", "x"): 1, ("b1", "d1", "x"): 2}), scenario)
    assert inst.sites == ("a1", "b1")
    assert inst.routes == (("b1", "d1", "x"),) and inst.allowed == (("b1", "x"),)
    assert inst.dropped_by_deadline == {("a1", "d1", "x"): 5.0}
    assert inst.unserved == ()


def test_the_value_step_is_the_greatest_common_divisor_of_the_unit_values():
    """1100, 7, 31, 13 (the shipped values) share only 1; 0.5 and 1.25 are 2 and 5 quarters; 2 and 8 share 2;
    a value with more than three decimals gives no step (the risk variable stays continuous)."""
    assert value_step([1100, 7, 31, 13]) == 1
    assert value_step([0.5, 1.25]) == 0.25
    assert value_step([2.0, 8.0]) == 2
    assert value_step([1.0, 0.0001]) is None
    assert value_step([]) is None


def test_the_largest_share_moves_in_whole_value_steps():
    """Values 2 and 8, 4 units of x and 1 of f: V = 2*4 + 8 = 16 and the step is 2, so the largest host's share
    is a multiple of 100*2/16 = 12.5 points, tied to a whole variable in the model."""
    inputs = make_inputs(
        hosts=["A", "B"],
        sites=[site("a", "A"), site("b", "B", kind="air_base", shelters=1)],
        systems=[system("x", value=2), system("f", value=8, bays=0, shelters=1, kinds="air_base")],
        demand={("d", "x"): 4, ("d", "f"): 1},
    )
    travel = times({("a", "d", "x"): 1, ("b", "d", "x"): 1, ("b", "d", "f"): 1})
    model = build_model(build_instance(inputs, travel, make_scenario(objective={"risk_weight": 1.0})))
    row = generate_standard_repn(model.max_share_whole.body)
    coefficients = {v.name: c for v, c in zip(row.linear_vars, row.linear_coefs, strict=True)}
    assert coefficients == {"max_share_pct": 1, "max_share_steps": -12.5}
    assert model.max_share_whole.equality and model.max_share_steps.domain is pyo.NonNegativeIntegers


def test_units_fitting_floors_the_ratio_without_float_error():
    """3 bays at 0.1 bays per unit hold 30 units (in floats 3 // 0.1 == 29.0); 2 shelters at 0.7 hold 2."""
    assert units_fitting(site("a", "A", bays=3), system("x", bays=0.1)) == 30
    assert (
        units_fitting(site("a", "A", kind="air_base", shelters=2), system("f", bays=0, shelters=0.7, kinds="air_base"))
        == 2
    )
    assert units_fitting(site("a", "A", kind="port"), system("x")) == 0  # kind not allowed


def test_records_built_in_memory_that_name_unknown_ids_are_input_errors():
    """The library path (Inputs.build, no tables) names every unknown host, destination and system at once."""
    import pytest

    from depotsite.errors import InputError

    with pytest.raises(InputError) as caught:
        make_inputs(hosts=["A"], sites=[site("a", "Z")], systems=[system("x")], demand={("d", "y"): 1})
    assert caught.value.problems == ["site a: unknown host_id 'Z'", "demand d/y: unknown system_id 'y'"]
