"""Scenario files: validation, extends, --set overrides and the resolved TOML."""

from __future__ import annotations

import logging
import os
import tomllib
from pathlib import Path

import pytest

from depotsite.errors import ScenarioError
from depotsite.scenario import load_scenario, parse_override
from depotsite.sources import check_against_inputs
from instances import make_scenario

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
        f"{path.resolve()}: unknown key 'hosts.PL.max_value_shre'; did you mean 'max_value_share'?"
    ]


def test_unknown_top_level_key(tmp_path):
    path = write(tmp_path / "s.toml", f'extends = "{BASE}"\n[objectiv]\ntime = "mean"\n')
    with pytest.raises(ScenarioError, match=r"unknown key 'objectiv'; did you mean 'objective'\?"):
        load_scenario(path)


def test_precedence_set_over_file_over_extended_over_defaults(tmp_path, caplog):
    variant = write(tmp_path / "v.toml", f'extends = "{BASE}"\nname = "v"\n[hosts.PL]\nmax_value_share = 0.3\n')
    assert load_scenario(BASE).hosts["PL"].max_value_share == 0.35
    assert load_scenario(variant).hosts["PL"].max_value_share == 0.3
    with caplog.at_level(logging.INFO, logger="depotsite"):
        scenario = load_scenario(
            variant,
            overrides=[
                "hosts.PL.max_value_share=0.2",
                "objective.time=makespan",
                'constraints.exclude_hosts=["EE"]',
                "solver.log=true",
            ],
        )
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
    assert caught.value.problems == [
        "--set: hosts.PL.max_value_share: Input should be less than or equal to 1 (got 1.7)"
    ]
    with pytest.raises(ScenarioError, match=r"expected key\.path=value"):
        parse_override("hosts.PL.max_value_share")
    with pytest.raises(ScenarioError, match=r"unknown key 'objective.speed'"):
        load_scenario(BASE, overrides=["objective.speed=3"])
    with pytest.raises(
        ScenarioError, match=r"--set: objective.time: Input should be 'system_mean', 'mean', 'value' or 'makespan'"
    ):
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
    path = write(
        tmp_path / "s.toml",
        'name = "x"\n[data]\nhosts = "h.csv"\nsites = "s.csv"\nsystems = "w.csv"\n'
        'destinations = "d.csv"\ndemand = "x.csv"\n',
    )
    with pytest.raises(ScenarioError, match="name either \\[data\\] travel_times, or both \\[data\\] roads"):
        load_scenario(path)


def test_unknown_key_deep_in_a_table_gets_the_closest_key(tmp_path):
    path = write(
        tmp_path / "s.toml",
        f'extends = "{BASE}"\n[systems.f16.resilience]\nlose_hosts = 1\n'
        "keep_fractoin = 0.5\n[network.profiles.tracked]\nspeed_kmh = 40\n",
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    problems = caught.value.problems
    assert f"{path.resolve()}: unknown key 'network.profiles.tracked.speed_kmh'; did you mean 'speed_kph'?" in problems
    assert (
        f"{path.resolve()}: unknown key 'systems.f16.resilience.keep_fractoin'; did you mean 'keep_fraction'?"
        in problems
    )
    assert f"{path.resolve()}: systems.f16.resilience.keep_fraction: Field required" in problems  # table not echoed
    assert len(problems) == 3


# --- numbers that would make the model meaningless ------------------------------------------------------


def test_inf_nan_and_out_of_range_values_are_scenario_errors(tmp_path):
    with pytest.raises(ScenarioError) as caught:
        load_scenario(
            BASE,
            overrides=[
                "objective.time_weight=inf",
                "hosts.PL.max_unit_share={leopard2=1.5}",
                "objective.hhi_tangents=5000",
                "hosts.PL.threat=nan",
            ],
        )
    assert caught.value.problems == [
        "--set: objective.time_weight: Input should be a finite number (got inf)",
        "--set: objective.hhi_tangents: Input should be less than or equal to 1000 (got 5000)",
        "--set: hosts.PL.max_unit_share.leopard2: Input should be less than or equal to 1 (got 1.5)",
        "--set: hosts.PL.threat: Input should be a finite number (got nan)",
    ]
    path = write(
        tmp_path / "s.toml",
        f'extends = "{BASE}"\n[objective]\nrisk_weight = nan\n[groups.baltics.max_unit_share]\nf16 = -0.1\n',
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.problems == [
        f"{path.resolve()}: objective.risk_weight: Input should be a finite number (got nan)",
        f"{path.resolve()}: groups.baltics.max_unit_share.f16: Input should be greater than or equal to 0 (got -0.1)",
    ]


@pytest.fixture(scope="module")
def shipped():
    from depotsite.inputs import load_inputs

    d = load_scenario(BASE).data
    return load_inputs(hosts=d.hosts, sites=d.sites, systems=d.systems, destinations=d.destinations, demand=d.demand)


def test_rules_that_the_tables_or_the_machine_cannot_meet(shipped):
    cpus = os.cpu_count() or 1
    scenario = load_scenario(
        BASE,
        overrides=[
            "systems.f16.min_hosts=7",
            "constraints.exclude_hosts=['PL']",
            "constraints.exclude_sites=['lv_lielvarde']",
            "systems.himars.resilience={lose_hosts=8, keep_fraction=0.5}",
            f"solver.threads={cpus + 1}",
        ],
    )
    with pytest.raises(ScenarioError) as caught:
        check_against_inputs(scenario, shipped)
    assert caught.value.problems == [
        "systems.himars.resilience.lose_hosts: 8 is more than the 7 hosts in hosts.csv",
        "systems.f16.min_hosts: 7 hosts wanted but only 5 can hold f16 (CZ, DE, EE, LT, RO: a site not excluded, "
        "of an allowed kind, with room for one unit); lower min_hosts or add sites",
        f"solver.threads: {cpus + 1} is more than the {cpus} CPUs of this machine; set it to {cpus} or fewer",
    ]


def test_too_many_sets_of_lost_hosts_are_refused():
    from instances import make_inputs, make_scenario, site, system

    hosts = [f"h{i}" for i in range(20)]
    inputs = make_inputs(
        hosts=hosts, sites=[site(f"s{h}", h) for h in hosts], systems=[system("x")], demand={("d1", "x"): 20}
    )
    scenario = make_scenario(systems={"x": {"resilience": {"lose_hosts": 6, "keep_fraction": 0.5}}})
    with pytest.raises(ScenarioError) as caught:
        check_against_inputs(scenario, inputs)
    assert caught.value.problems == [
        "systems.x.resilience.lose_hosts: 6 of 20 hosts gives 38,760 sets of lost "
        "hosts, more than the 10,000 depotsite enumerates; lower it"
    ]


# --- odd scenario files and --set values ----------------------------------------------------------------


def test_scenario_that_is_not_a_regular_file(tmp_path):
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    for path, reason in (
        (fifo, "is a named pipe (FIFO), not a regular file"),
        (Path("/dev/null"), "is a device, not a regular file"),
        (tmp_path, "is a directory, not a file"),
        (tmp_path / "nope.toml", "scenario file not found"),
    ):
        with pytest.raises(ScenarioError) as caught:
            load_scenario(path)  # a FIFO would block here if it were opened
        assert caught.value.problems == [f"{path.resolve() if path != fifo else fifo}: {reason}"]


def test_foreign_and_binary_scenario_files_are_not_echoed(tmp_path):
    passwd = write(tmp_path / "passwd", "root:x:0:0:root:/root:/bin/bash\nsecret:x:1:1::/home/secret:/bin/sh\n")
    binary = tmp_path / "image.toml"
    binary.write_bytes(b'name = "x"\n\x89PNG\r\n\x1a\n')
    pyproject = write(tmp_path / "pyproject.toml", '[project]\nname = "secret-name"\nversion = "9"\n')
    problems = []
    for path in (passwd, binary, pyproject):
        with pytest.raises(ScenarioError) as caught:
            load_scenario(path)
        problems += caught.value.problems
    assert problems == [
        f"{passwd}: not valid TOML (Expected '=' after a key in a key/value pair (at line 1, column 5))",
        f"{binary}: not UTF-8 text (invalid byte at offset 11); save the scenario as UTF-8 TOML",
        f"{pyproject}: data: Field required",
        f"{pyproject}: unknown key 'project'; did you mean 'objective'?",
    ]


def test_deep_nesting_and_long_set_values_are_refused(tmp_path):
    deep = write(tmp_path / "deep.toml", "a = " + "[" * 100_000 + "]" * 100_000 + "\n")
    dotted = write(tmp_path / "dotted.toml", "a." * 50 + "b = 1\n")
    for path in (deep, dotted):
        with pytest.raises(ScenarioError) as caught:
            load_scenario(path)
        assert caught.value.problems == [f"{path.resolve()}: tables or arrays nested more than 16 deep; flatten them"]
    for value in ("[" * 2_000 + "]" * 2_000, "{a=" * 20 + "1" + "}" * 20):
        with pytest.raises(ScenarioError) as caught:
            parse_override(f"name={value}")
        assert caught.value.problems == ["--set 'name': tables or arrays nested more than 16 deep; flatten them"]
    with pytest.raises(ScenarioError) as caught:
        parse_override("description=" + "x" * 100_000)
    assert caught.value.problems == [
        f"--set {'description=' + 'x' * 48!r}... (100,012 characters): longer than 4,096 "
        "characters; put large values in a scenario file"
    ]
    with pytest.raises(ScenarioError) as caught:
        parse_override("name=\udcff")  # a non-UTF-8 byte on the command line
    assert caught.value.problems == ["--set 'name=\\udcff': not valid UTF-8 text"]


def test_non_ascii_keys_and_odd_strings_round_trip_through_the_resolved_toml(tmp_path):
    scenario = make_scenario(
        hosts={"hôst": {"max_value_share": 0.5}, "a.b": {"threat": 0.1}},
        systems={"site_é": {"min_hosts": 1}},
        description='tab\t"quote" del\x7f [bold] :x:',
    )
    text = scenario.to_toml()
    parsed = tomllib.loads(text)
    assert parsed["hosts"]["hôst"]["max_value_share"] == 0.5 and parsed["hosts"]["a.b"]["threat"] == 0.1
    assert parsed["systems"]["site_é"]["min_hosts"] == 1
    assert parsed["description"] == 'tab\t"quote" del\x7f [bold] :x:'
    assert '[hosts."hôst"]' in text
