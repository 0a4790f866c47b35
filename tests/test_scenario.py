"""Scenario files: validation, extends, --set overrides and the resolved TOML."""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

import pytest

from depotsite.errors import ScenarioError
from depotsite.scenario import load_scenario, parse_override

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "models" / "base.toml"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_base_and_every_variant_load():
    for path in sorted((ROOT / "models").glob("*.toml")):
        scenario = load_scenario(path)
        assert scenario.data.hosts.is_absolute() and scenario.data.hosts.is_file(), path
    assert load_scenario(ROOT / "models" / "no_baltics.toml").constraints.exclude_hosts == ("LT", "LV", "EE")


def test_unknown_key_names_file_key_and_closest_key(tmp_path):
    path = write(tmp_path / "s.toml", f'extends = "{BASE}"\n[hosts.PL]\nmax_value_shre = 0.3\n')
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.problems == [
        f"{path.resolve()}: unknown key 'hosts.PL.max_value_shre'; did you mean 'max_value_share'?"]


def test_unknown_top_level_key(tmp_path):
    path = write(tmp_path / "s.toml", f'extends = "{BASE}"\n[objectiv]\ntime = "mean"\n')
    with pytest.raises(ScenarioError, match=r"unknown key 'objectiv'; did you mean 'objective'\?"):
        load_scenario(path)


def test_precedence_set_over_file_over_extended_over_defaults(tmp_path, caplog):
    variant = write(tmp_path / "v.toml", f'extends = "{BASE}"\nname = "v"\n[hosts.PL]\nmax_value_share = 0.3\n')
    assert load_scenario(BASE).hosts["PL"].max_value_share == 0.35
    assert load_scenario(variant).hosts["PL"].max_value_share == 0.3
    with caplog.at_level(logging.INFO, logger="depotsite"):
        scenario = load_scenario(variant, overrides=["hosts.PL.max_value_share=0.2", "objective.time=makespan",
                                                     'constraints.exclude_hosts=["EE"]', "solver.log=true"])
    assert scenario.hosts["PL"].max_value_share == 0.2
    assert scenario.objective.time == "makespan"
    assert scenario.constraints.exclude_hosts == ("EE",)
    assert scenario.solver.log is True
    assert scenario.hosts["PL"].threat == 0.0  # code default
    assert scenario.network.profiles["tracked"].speed_kph == 45  # from base
    assert scenario.network.profiles["wheeled"].access_speed_kph == 30  # code default inside a profile
    assert "override from v.toml: hosts.PL.max_value_share: 0.35 -> 0.3" in caplog.text
    assert "override from --set: hosts.PL.max_value_share: 0.3 -> 0.2" in caplog.text


def test_bad_set_values_are_named():
    with pytest.raises(ScenarioError) as caught:
        load_scenario(BASE, overrides=["hosts.PL.max_value_share=1.7"])
    assert caught.value.problems == ["--set: hosts.PL.max_value_share: Input should be less than or equal to 1 "
                                     "(got 1.7)"]
    with pytest.raises(ScenarioError, match=r"expected key\.path=value"):
        parse_override("hosts.PL.max_value_share")
    with pytest.raises(ScenarioError, match=r"unknown key 'objective.speed'"):
        load_scenario(BASE, overrides=["objective.speed=3"])
    with pytest.raises(ScenarioError, match=r"--set: objective.time: Input should be 'mean' or 'makespan'"):
        load_scenario(BASE, overrides=["objective.time=fastest"])


def test_resolved_scenario_round_trips_with_absolute_paths(tmp_path):
    scenario = load_scenario(BASE, overrides=["hosts.PL.max_value_share=0.2"])
    text = scenario.to_toml()
    (tmp_path / "elsewhere").mkdir()
    resolved = write(tmp_path / "elsewhere" / "scenario.resolved.toml", text)
    assert load_scenario(resolved) == scenario
    assert tomllib.loads(text)["data"]["sites"] == str(ROOT / "data" / "sites.csv")


def test_extends_cycle_and_missing_file(tmp_path):
    a = write(tmp_path / "a.toml", 'extends = "b.toml"\nname = "a"\n')
    write(tmp_path / "b.toml", 'extends = "a.toml"\nname = "b"\n')
    with pytest.raises(ScenarioError, match="'extends' forms a cycle"):
        load_scenario(a)
    with pytest.raises(ScenarioError, match="scenario file not found"):
        load_scenario(tmp_path / "nope.toml")
    broken = write(tmp_path / "c.toml", "name = \n")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(broken)


def test_data_needs_roads_or_a_matrix(tmp_path):
    path = write(tmp_path / "s.toml", 'name = "x"\n[data]\nhosts = "h.csv"\nsites = "s.csv"\nsystems = "w.csv"\n'
                 'destinations = "d.csv"\ndemand = "x.csv"\n')
    with pytest.raises(ScenarioError, match="name either \\[data\\] travel_times, or both \\[data\\] roads"):
        load_scenario(path)


def test_unknown_key_deep_in_a_table_gets_the_closest_key(tmp_path):
    path = write(tmp_path / "s.toml", f'extends = "{BASE}"\n[systems.f16.resilience]\nlose_hosts = 1\n'
                 'keep_fractoin = 0.5\n[network.profiles.tracked]\nspeed_kmh = 40\n')
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    problems = caught.value.problems
    assert f"{path.resolve()}: unknown key 'network.profiles.tracked.speed_kmh'; did you mean 'speed_kph'?" in problems
    assert (f"{path.resolve()}: unknown key 'systems.f16.resilience.keep_fractoin'; did you mean 'keep_fraction'?"
            in problems)
    assert f"{path.resolve()}: systems.f16.resilience.keep_fraction: Field required" in problems  # table not echoed
    assert len(problems) == 3
