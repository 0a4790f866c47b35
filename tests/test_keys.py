"""The scenario reference is generated from the schema, complete, and current in docs/scenario.md."""

from __future__ import annotations

import typing

from pydantic import BaseModel

from conftest import BASE, ROOT, invoke
from depotsite.keys import markdown, scenario_keys
from depotsite.scenario import Scenario, load_scenario


def leaf_fields(model: type[BaseModel]) -> int:
    """Fields of the schema, counted by walking the pydantic models independently of depotsite.keys."""
    count = 0
    for field in model.model_fields.values():
        count += 1
        for arg in (field.annotation, *typing.get_args(field.annotation)):
            inner = typing.get_args(arg)[1] if typing.get_origin(arg) is dict else arg
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                count += leaf_fields(inner)
                break
    return count


def test_docs_scenario_md_is_current():
    """Regenerate with: depotsite keys --markdown > docs/scenario.md"""
    assert (ROOT / "docs" / "scenario.md").read_text() == markdown()


def test_every_key_of_the_schema_is_listed_with_a_meaning():
    keys = scenario_keys()
    assert len(keys) == 1 + leaf_fields(Scenario)  # extends is handled by the loader, not the model
    assert [k.path for k in keys if not k.meaning] == []
    by_path = {k.path: k for k in keys}
    assert by_path["hosts.<host_id>.max_value_share"].unit == "fraction 0-1"
    assert by_path["network.profiles.<profile>.max_driving_h_per_day"].unit == "hours per day"
    assert by_path["solver.time_limit_s"].unit == "seconds" and by_path["solver.time_limit_s"].default == "60"
    assert by_path["objective.risk"].type == '"max_host_share" | "hhi" | "expected_loss"'


def test_keys_command_filters_by_prefix_and_refuses_an_unknown_one():
    result = invoke("keys", "constraints")
    assert result.exit_code == 0, result.output
    listed = {k.path for k in scenario_keys("constraints")}
    assert listed == {
        "constraints",
        "constraints.max_sites",
        "constraints.budget_musd",
        "constraints.force_open",
        "constraints.exclude_sites",
        "constraints.exclude_hosts",
    }
    for path in listed:
        assert path in result.output
    assert "hosts.<host_id>" not in result.output
    unknown = invoke("keys", "constraint.max")
    assert unknown.exit_code == 1
    assert "no scenario key starts with 'constraint.max'" in unknown.output


def test_string_lists_accept_bare_comma_separated_ids():
    scenario = load_scenario(
        BASE,
        overrides=[
            "constraints.exclude_hosts=LT, LV",
            "constraints.force_open=pl_lask",
            'network.avoid_countries=["BY"]',
        ],
    )
    assert scenario.constraints.exclude_hosts == ("LT", "LV")
    assert scenario.constraints.force_open == ("pl_lask",)
    assert scenario.network.avoid_countries == ("BY",)
