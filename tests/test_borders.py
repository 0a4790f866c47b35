"""March discipline, transporters and border crossings by kind, on tiny synthetic networks and the shipped data."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from depotsite.countries import crossing_kind, read_countries
from depotsite.errors import InputError, ScenarioError
from depotsite.network import travel_times
from depotsite.scenario import DEFAULT_PROFILES, Scenario, load_scenario
from tinynet import NO_DELAY, inputs_at, scenario_on, write_network

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def long_road(tmp_path):
    """Two nodes of one country joined by an 810 km road and a 1,800 km road to a third."""
    return write_network(
        tmp_path,
        nodes={1: 0.0, 2: 0.1, 3: 0.2},
        edges=[(1, 2, 810.0), (1, 3, 1800.0)],
        bands={"AA": (-1, 1)},
        kinds={"AA": (True, True)},
    )


@pytest.mark.parametrize(
    ("profile", "destination", "expected_h"),
    [
        # 810 km at 45 km/h: 18 h of driving, one 14 h rest after the first 10: arrives on the second day
        ("tracked", "near", 810 / 45 + 14),
        # 1,800 km at 45 km/h: 40 h of driving, a rest after 10, 20 and 30 h: arrives on the fourth day
        ("tracked", "far", 1800 / 45 + 3 * 14),
        # wheeled (driver and assistant driver): 13.5 h of driving, within the 20 h before a rest
        ("wheeled", "near", 810 / 60),
        # 30 h of driving: one 9 h rest after the first 20
        ("wheeled", "far", 1800 / 60 + 9),
        # heavy-equipment transporter: 810 / 44 = 18.4 h, no rest, plus 2 h loading and unloading
        ("het", "near", 810 / 44 + 2),
        # 40.9 h: two rests (after 20 and 40 h of driving)
        ("het", "far", 1800 / 44 + 2 * 9 + 2),
    ],
)
def test_march_discipline_of_the_default_profiles(long_road, profile, destination, expected_h):
    """The defaults every scenario starts from (``DEFAULT_PROFILES``): a multi-day drive takes its rests."""
    inputs = inputs_at({"a": 0.0}, {"near": 0.1, "far": 0.2}, profile=profile)
    scenario = scenario_on(long_road, profiles=DEFAULT_PROFILES)
    leg = travel_times(inputs, scenario, use_cache=False).legs["a", destination, "x"]
    assert leg.hours == pytest.approx(expected_h, rel=1e-6)


def test_a_two_day_drive_with_the_base_profiles(long_road):
    """models/base.toml's tracked profile: 18 h of driving at most 10 a day is two days on the road."""
    base = load_scenario(ROOT / "models" / "base.toml")
    tracked = base.network.profiles["tracked"]
    scenario = scenario_on(long_road, profiles={"tracked": tracked.model_dump()})
    leg = travel_times(inputs_at({"a": 0.0}, {"near": 0.1}, profile="tracked"), scenario, use_cache=False).legs[
        "a", "near", "x"
    ]
    driving = 810 / tracked.speed_kph
    days = math.ceil(driving / tracked.max_driving_h_per_day)
    assert days == 2
    assert leg.hours == pytest.approx(driving + (days - 1) * tracked.rest_h, rel=1e-6)


@pytest.fixture
def four_countries(tmp_path):
    """Nodes 100 km apart in AA and BB (both Schengen), CC and DD (neither EU nor Schengen)."""
    return write_network(
        tmp_path,
        nodes={1: 0.0, 2: 1.0, 3: 2.0, 4: 3.0},
        edges=[(1, 2, 100.0), (2, 3, 100.0), (3, 4, 100.0)],
        bands={"AA": (-1, 0.5), "BB": (0.5, 1.5), "CC": (1.5, 2.5), "DD": (2.5, 4)},
        kinds={"AA": (True, True), "BB": (True, True), "CC": (False, False), "DD": (False, False)},
    )


BORDERS = {"internal": 0.5, "external": 3.0, "non_eu": 6.0}


def test_internal_external_and_non_eu_crossings(four_countries):
    """At 100 km/h each 100 km edge is 1 h; AA>BB is Schengen-internal (0.5 h here), BB>CC the Schengen
    area's external border (3 h), CC>DD between two countries outside the EU and Schengen (6 h)."""
    inputs = inputs_at({"a": 0.0}, {"b": 1.0, "c": 2.0, "d": 3.0})
    scenario = scenario_on(four_countries, profiles={"wheeled": {"speed_kph": 100, "border_h": BORDERS}})
    legs = travel_times(inputs, scenario, use_cache=False).legs
    assert legs["a", "b", "x"].hours == pytest.approx(1 + 0.5)
    assert legs["a", "c", "x"].hours == pytest.approx(2 + 0.5 + 3)
    assert legs["a", "d", "x"].hours == pytest.approx(3 + 0.5 + 3 + 6)
    far = legs["a", "d", "x"]
    assert far.countries == ("AA", "BB", "CC", "DD")
    assert [(c.from_country, c.to_country, c.kind, c.hours) for c in far.crossings] == [
        ("AA", "BB", "internal", 0.5),
        ("BB", "CC", "external", 3.0),
        ("CC", "DD", "non_eu", 6.0),
    ]
    assert far.borders_crossed == 3


def test_the_border_kind_chooses_the_route(tmp_path):
    """Two ways from AA to CC (outside the EU), each 2 h of driving: through BB (Schengen, then BB>CC external)
    or through DD (outside, AA>DD external then DD>CC non_eu). The Schengen way is faster by the non_eu hours."""
    paths = write_network(
        tmp_path,
        nodes={1: 0.0, 2: 1.0, 3: 2.0, 4: 3.0},
        edges=[(1, 2, 100.0), (2, 3, 100.0), (1, 4, 100.0), (4, 3, 100.0)],
        bands={"AA": (-1, 0.5), "BB": (0.5, 1.5), "CC": (1.5, 2.5), "DD": (2.5, 4)},
        kinds={"AA": (True, True), "BB": (True, True), "CC": (False, False), "DD": (False, False)},
    )
    scenario = scenario_on(paths, profiles={"wheeled": {"speed_kph": 100, "border_h": BORDERS}})
    leg = travel_times(inputs_at({"a": 0.0}, {"c": 2.0}), scenario, use_cache=False).legs["a", "c", "x"]
    assert leg.countries == ("AA", "BB", "CC")
    assert leg.hours == pytest.approx(2 + 0.5 + 3)


def test_without_a_countries_table_every_crossing_is_non_eu(four_countries):
    paths = {k: v for k, v in four_countries.items() if k != "countries"}
    scenario = scenario_on(paths, profiles={"wheeled": {"speed_kph": 100, "border_h": BORDERS}})
    times = travel_times(inputs_at({"a": 0.0}, {"b": 1.0}), scenario, use_cache=False)
    assert times.legs["a", "b", "x"].hours == pytest.approx(1 + 6)
    assert [c.kind for c in times.legs["a", "b", "x"].crossings] == ["non_eu"]
    assert any(w.startswith("no [data] countries table") for w in times.warnings)


def test_the_old_single_border_delay_is_a_clear_error():
    with pytest.raises(ValueError, match="border_crossing_h is replaced by border_h") as caught:
        Scenario.model_validate(
            {
                "name": "old",
                "data": {"hosts": "h", "sites": "s", "systems": "w", "destinations": "d", "demand": "x"}
                | {"travel_times": "m.csv"},
                "network": {"profiles": {"tracked": {"border_crossing_h": 3}}},
            }
        )
    assert "border_h = {internal = 0, external = 3, non_eu = 3}" in str(caught.value)


def test_the_old_key_in_a_scenario_file_names_the_file_and_the_new_key(tmp_path):
    text = (ROOT / "models" / "base.toml").read_text().replace("max_driving_h_per_day = 10", "border_crossing_h = 2")
    text = text.replace('"../', f'"{ROOT}/')
    old = tmp_path / "old.toml"
    old.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(old)
    (problem,) = caught.value.problems
    assert problem.startswith(f"{old}: network.profiles.tracked: ")
    assert "border_crossing_h is replaced by border_h" in problem


def test_crossing_kinds_of_the_shipped_countries():
    """The examples of the Schengen area's external border (PL, SK, HU, RO to UA; RO to MD), a border between
    two countries outside it (MD to UA, UA to BY) and internal ones (DE to PL; RO and BG since 2025)."""
    kinds = read_countries(ROOT / "data" / "countries.csv")
    for a in ("PL", "SK", "HU", "RO"):
        assert crossing_kind(a, "UA", kinds) == "external" == crossing_kind("UA", a, kinds)
    assert crossing_kind("RO", "MD", kinds) == "external"
    assert crossing_kind("MD", "UA", kinds) == "non_eu" == crossing_kind("UA", "BY", kinds)
    assert crossing_kind("DE", "PL", kinds) == "internal" == crossing_kind("RO", "BG", kinds)
    assert crossing_kind("PL", "XX", kinds) == "external"  # a country the table lacks is outside both
    assert crossing_kind("CH", "DE", kinds) == "internal"  # Schengen without the EU


def test_the_shipped_countries_table_covers_the_boundaries():
    import json

    boundaries = json.loads((ROOT / "data" / "boundaries" / "countries.geojson").read_text())
    ids = {f["properties"]["country_id"] for f in boundaries["features"]}
    kinds = read_countries(ROOT / "data" / "countries.csv")
    assert set(kinds) == ids
    eu = {"AT", "BE", "BG", "CZ", "DE", "DK", "EE", "FI", "FR", "GR", "HR", "HU", "IT", "LT", "LU", "LV"}
    eu |= {"NL", "PL", "RO", "SE", "SI", "SK", "AX"}
    assert {c for c, k in kinds.items() if k.eu} == eu
    assert {c for c, k in kinds.items() if k.schengen} == eu | {"CH", "LI", "NO", "MC", "SM", "VA"}


def test_a_bad_countries_table_is_an_input_error(tmp_path):
    table = tmp_path / "countries.csv"
    table.write_text("country_id,name,eu,schengen,source\nPL,Poland,yes,maybe,x\nPL,Poland,yes,yes,x\n")
    with pytest.raises(InputError) as caught:
        read_countries(table)
    assert caught.value.problems == [
        "countries.csv line 2 (PL): schengen must be yes or no, got 'maybe'",
    ]


def test_a_system_may_ride_heavy_equipment_transporters(long_road):
    """systems.<id>.profile = "het" replaces systems.csv's profile: the tracked system's legs become the
    transporter's (810 km at 44 km/h plus 2 h loading, no rest) instead of its own tracks' (18 h + 14 h)."""
    from depotsite.sources import with_profiles

    inputs = inputs_at({"a": 0.0}, {"near": 0.1}, profile="tracked")
    scenario = scenario_on(long_road, profiles=DEFAULT_PROFILES)
    carried = Scenario.model_validate({**scenario.model_dump(), "systems": {"x": {"profile": "het"}}})
    leg = travel_times(with_profiles(inputs, carried), carried, use_cache=False).legs["a", "near", "x"]
    assert leg.profile == "het"
    assert leg.hours == pytest.approx(810 / 44 + 2, rel=1e-6)


def test_an_unknown_system_profile_is_refused():
    from depotsite.sources import check_against_inputs

    inputs = inputs_at({"a": 0.0}, {"near": 0.1}, profile="tracked")
    scenario = Scenario.model_validate(
        {
            "name": "x",
            "data": {"hosts": "h", "sites": "s", "systems": "w", "destinations": "d", "demand": "x"}
            | {"travel_times": "m.csv"},
            "network": {"profiles": {**DEFAULT_PROFILES, "tracked": {"border_h": NO_DELAY}}},
            "systems": {"x": {"profile": "hett"}},
        }
    )
    with pytest.raises(ScenarioError) as caught:
        check_against_inputs(scenario, inputs)
    assert caught.value.problems == [
        "systems.x.profile: unknown transport profile 'hett'; use one of air, het, rail, tracked, wheeled or define "
        "it under [network.profiles]"
    ]
