"""Rail legs on tiny synthetic networks whose hours are worked out by hand, and checks on the shipped rail data.

Every tiny network lies on the equator (``tests/tinynet.py``): the edges' lengths are given, not measured, so
a rail leg's hours are ``road legs / access speed + load_h + km / speed_kph + border and gauge hours +
unload_h``, and a road leg's are ``km / speed_kph`` (no access leg when a point sits on a node).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely

from depotsite.countries import breaks_gauge, read_countries
from depotsite.errors import InputError, ScenarioError
from depotsite.network import travel_times
from depotsite.network.graph import haversine_km
from depotsite.scenario import load_scenario
from depotsite.sources import check_against_inputs, read_inputs
from tinynet import NO_DELAY, inputs_at, scenario_on, write_network, write_rail

ROOT = Path(__file__).resolve().parents[1]
KM_PER_DEGREE = float(haversine_km(0.0, 0.0, 0.0, 1.0))  # on the equator

# The train: 100 km/h, an hour to load, two to unload, five at a break of gauge; no border delays.
RAIL = {"mode": "rail", "speed_kph": 100, "load_h": 1, "unload_h": 2, "gauge_break_h": 5, "border_h": NO_DELAY}
SLOW_ROAD = {"speed_kph": 10, "border_h": NO_DELAY}  # 300 km of road take 30 h


def _line(tmp_path: Path, *, gauges=None, rail_edges=None, rail_nodes=None):
    """Roads and rail both along 0 -> 3 degrees (three 100 km edges each); AA west of 1.5 E, BB east of it."""
    paths = write_network(
        tmp_path,
        {1: 0.0, 2: 1.0, 3: 2.0, 4: 3.0},
        [(1, 2, 100), (2, 3, 100), (3, 4, 100)],
        {"AA": (-1.0, 1.5), "BB": (1.5, 4.0)},
        kinds={"AA": (True, True), "BB": (False, False)},
        gauges=gauges,
    )
    rail = write_rail(
        tmp_path,
        rail_nodes or {11: 0.0, 12: 1.0, 13: 2.0, 14: 3.0},
        rail_edges or [(11, 12, 100), (12, 13, 100), (13, 14, 100)],
    )
    return {**paths, "rail": rail}


def test_a_gauge_break_adds_its_hours(tmp_path):
    """300 km at 100 km/h = 3 h, + 1 h loading + 2 h unloading = 6 h on one gauge; crossing from AA (1435 mm)
    into BB (1520 mm) adds the 5 h break, once."""
    inputs = inputs_at({"s": 0.0}, {"d": 3.0}, profile="rail")
    same = travel_times(inputs, scenario_on(_line(tmp_path / "a"), profiles={"rail": RAIL}), use_cache=False)
    broken = travel_times(
        inputs,
        scenario_on(_line(tmp_path / "b", gauges={"AA": 1435, "BB": 1520}), profiles={"rail": RAIL}),
        use_cache=False,
    )
    plain, leg = same.legs["s", "d", "x"], broken.legs["s", "d", "x"]
    assert (plain.mode, plain.gauge_breaks) == ("rail", 0)
    assert plain.hours == pytest.approx(3 + 1 + 2, abs=1e-6)
    assert (leg.mode, leg.gauge_breaks, leg.countries) == ("rail", 1, ("AA", "BB"))
    assert leg.hours == pytest.approx(3 + 1 + 2 + 5, abs=1e-6)
    assert leg.rail_km == pytest.approx(300, abs=1e-6)
    assert leg.road_km == pytest.approx(0, abs=1e-6)  # both points sit on rail nodes


def test_the_fastest_mode_is_chosen(tmp_path):
    """Rail: 6 h for 300 km (above). Road at 10 km/h: 30 h for 300 km, but 10 h for the 100 km to d1 against
    rail's 1 + 1 + 2 = 4 h; at 50 km/h the road's 2 h to d1 beat the train and its 6 h to d3 lose."""
    paths = _line(tmp_path)
    inputs = inputs_at({"s": 0.0}, {"d1": 1.0, "d3": 3.0}, profile="rail;road")
    slow = travel_times(inputs, scenario_on(paths, profiles={"rail": RAIL, "road": SLOW_ROAD}), use_cache=False)
    assert [slow.legs["s", d, "x"].mode for d in ("d1", "d3")] == ["rail", "rail"]
    assert slow.legs["s", "d1", "x"].hours == pytest.approx(4, abs=1e-6)
    assert slow.legs["s", "d3", "x"].note == "fastest of rail 6.0 h, road 30.0 h"
    fast_road = {"speed_kph": 50, "border_h": NO_DELAY}
    fast = travel_times(inputs, scenario_on(paths, profiles={"rail": RAIL, "road": fast_road}), use_cache=False)
    near, far = fast.legs["s", "d1", "x"], fast.legs["s", "d3", "x"]
    assert (near.mode, near.profile, far.mode) == ("road", "road", "rail")
    assert near.hours == pytest.approx(100 / 50, abs=1e-6)
    assert near.note == "fastest of road 2.0 h, rail 4.0 h"


def test_a_rail_gap_falls_back_to_the_road_and_says_so(tmp_path):
    """Two rail lines of 120 nodes each (large enough to snap to), 0.5 degrees apart with no track between:
    s's railhead is on the west line, d's on the east one, so no train joins them and the road (30 h) goes."""
    west = {i: i * 0.01 for i in range(120)}  # 0 .. 1.19 E
    east = {1000 + i: 1.8 + i * 0.01 for i in range(120)}  # 1.8 .. 2.99 E
    edges = [(i, i + 1, 1.0) for i in range(119)] + [(1000 + i, 1001 + i, 1.0) for i in range(119)]
    paths = _line(tmp_path, rail_nodes=west | east, rail_edges=edges)
    inputs = inputs_at({"s": 0.0}, {"d": 3.0}, profile="rail;road")
    scenario = scenario_on(paths, profiles={"rail": {**RAIL, "railhead_km": 5}, "road": SLOW_ROAD})
    travel = travel_times(inputs, scenario, use_cache=False)
    leg = travel.legs["s", "d", "x"]
    assert (leg.mode, leg.profile) == ("road", "road")
    assert leg.hours == pytest.approx(30, abs=1e-6)
    assert leg.note.startswith("falls back to road (road): no rail route, no rail line joins the railheads of s and d")
    # without the road alternative the pair is unreachable, with the same reason
    alone = travel_times(inputs_at({"s": 0.0}, {"d": 3.0}, profile="rail"), scenario, use_cache=False)
    assert ("s", "d", "x") not in alone.legs
    assert alone.unreachable["s", "d", "x"].startswith("no rail line joins the railheads of s and d")


def test_a_railhead_beyond_railhead_km_is_not_used(tmp_path):
    """The rail line starts half a degree (55.7 km) east of s. With railhead_km = 30 the train cannot be
    reached and the road carries the pair; with 60 it can: 55.7 km by road at 30 km/h, then 250 km by train."""
    nodes = {11: 0.5, 12: 1.0, 13: 2.0, 14: 3.0}
    paths = _line(tmp_path, rail_nodes=nodes, rail_edges=[(11, 12, 50), (12, 13, 100), (13, 14, 100)])
    inputs = inputs_at({"s": 0.0}, {"d": 3.0}, profile="rail;road")
    near = travel_times(
        inputs, scenario_on(paths, profiles={"rail": {**RAIL, "railhead_km": 30}, "road": SLOW_ROAD}), use_cache=False
    )
    leg = near.legs["s", "d", "x"]
    assert leg.mode == "road"
    assert "s has no railhead within railhead_km = 30 km (the nearest rail node is 56 km away)" in leg.note
    far = travel_times(
        inputs, scenario_on(paths, profiles={"rail": {**RAIL, "railhead_km": 60}, "road": SLOW_ROAD}), use_cache=False
    )
    leg = far.legs["s", "d", "x"]
    road_leg_km = KM_PER_DEGREE / 2
    assert leg.mode == "rail"
    assert leg.road_km == pytest.approx(road_leg_km, rel=1e-6)
    assert leg.hours == pytest.approx(road_leg_km / 30 + 1 + 250 / 100 + 2, rel=1e-6)


def test_a_rail_hub_is_its_own_railhead(tmp_path):
    """A rail_hub site 0.1 degree (11 km) east of the line's first node has no road leg: 300 km by train
    (3 h) + 1 + 2; an army base there drives the 11 km to that railhead at 30 km/h first."""
    paths = _line(tmp_path)
    sites = {"hub": 0.1, "base": 0.1}
    inputs = inputs_at(sites, {"d": 3.0}, profile="rail", kinds={"hub": "rail_hub"})
    travel = travel_times(inputs, scenario_on(paths, profiles={"rail": RAIL}), use_cache=False)
    hub, base = travel.legs["hub", "d", "x"], travel.legs["base", "d", "x"]
    assert hub.road_km == 0.0
    assert hub.hours == pytest.approx(3 + 1 + 2, abs=1e-6)
    assert base.road_km == pytest.approx(KM_PER_DEGREE / 10, rel=1e-6)
    assert base.hours - hub.hours == pytest.approx(KM_PER_DEGREE / 10 / 30, rel=1e-6)


def test_rail_legs_come_back_from_the_cache_unchanged(tmp_path, monkeypatch):
    monkeypatch.setenv("DEPOTSITE_CACHE", str(tmp_path / "cache"))
    paths = _line(tmp_path, gauges={"AA": 1435, "BB": 1520})
    inputs = inputs_at({"s": 0.0}, {"d1": 1.0, "d3": 3.0}, profile="rail;road")
    scenario = scenario_on(paths, profiles={"rail": RAIL, "road": SLOW_ROAD})
    fresh = travel_times(inputs, scenario)
    cached = travel_times(inputs, scenario)
    assert cached.source.endswith("(cache)")
    assert dict(cached.legs) == dict(fresh.legs)
    leg = cached.legs["s", "d3", "x"]
    assert (leg.mode, leg.gauge_breaks, leg.rail_km) == ("rail", 1, pytest.approx(300))
    assert leg.note == fresh.legs["s", "d3", "x"].note == "fastest of rail 11.0 h, road 30.0 h"


def test_no_rail_network_leaves_the_road(tmp_path):
    """Without [data] rail a rail alternative is unavailable and says so; a rail-only system is an input error."""
    paths = write_network(tmp_path, {1: 0.0, 2: 1.0}, [(1, 2, 100)], {"AA": (-1.0, 2.0)})
    inputs = inputs_at({"s": 0.0}, {"d": 1.0}, profile="rail;road")
    scenario = scenario_on(paths, profiles={"rail": RAIL, "road": SLOW_ROAD})
    leg = travel_times(inputs, scenario, use_cache=False).legs["s", "d", "x"]
    assert (leg.mode, leg.hours) == ("road", pytest.approx(10, abs=1e-6))
    assert leg.note == "falls back to road (road): no rail route, the scenario names no [data] rail network"
    with pytest.raises(ScenarioError) as caught:
        check_against_inputs(scenario, inputs_at({"s": 0.0}, {"d": 1.0}, profile="rail"))
    assert any(
        "its only transport profile (rail) goes by rail but the scenario names no [data] rail" in p
        for p in caught.value.problems
    )


def test_the_gauges_of_the_countries_table(tmp_path):
    kinds = read_countries(ROOT / "data" / "countries.csv")
    broad = {c for c, k in kinds.items() if k.rail_gauge_mm == 1520}
    assert broad == {"UA", "MD", "LT", "LV", "EE", "BY", "RU", "GE"}
    assert all(k.rail_gauge_mm in (1435, 1520, 1524, None) for k in kinds.values())
    assert breaks_gauge("PL", "UA", kinds) and breaks_gauge("LT", "PL", kinds) and breaks_gauge("RO", "MD", kinds)
    assert not breaks_gauge("DE", "PL", kinds) and not breaks_gauge("LV", "LT", kinds)
    assert not breaks_gauge("FI", "RU", kinds)  # 1524 and 1520 mm run through
    table = tmp_path / "countries.csv"
    table.write_text("country_id,name,eu,schengen,rail_gauge_mm,source\nPL,Poland,yes,yes,wide,x\n")
    with pytest.raises(InputError) as caught:
        read_countries(table)
    assert "rail_gauge_mm" in caught.value.problems[0] and "1435 or 1520" in caught.value.problems[0]


def test_a_system_may_list_alternative_profiles():
    scenario = load_scenario(ROOT / "models" / "base.toml", overrides=['systems.leopard2.profile=["rail", "tracked"]'])
    assert scenario.systems["leopard2"].profile == "rail;tracked"
    inputs = read_inputs(scenario)
    assert inputs.systems["leopard2"].profiles == ("rail", "tracked")
    wrong = load_scenario(ROOT / "models" / "base.toml", overrides=["systems.leopard2.profile=rail;trackd"])
    with pytest.raises(InputError) as caught:
        read_inputs(wrong)
    assert any("unknown transport profile 'trackd'" in p for p in caught.value.problems)


# --- the shipped rail network ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped(cache):
    scenario = load_scenario(ROOT / "models" / "rail.toml")
    inputs = read_inputs(scenario)
    return scenario, inputs, travel_times(inputs, scenario)


def test_rzeszow_to_lviv_by_rail_is_about_the_road_distance(shipped, cache):
    """The rail leg Rzeszów–Lviv runs within a sane factor of the road (168 km on the extract, about 170 km
    by the A4/M10): the line via Przemyśl is 180-190 km; both cross PL>UA once, the train breaks gauge once."""
    scenario, inputs, travel = shipped
    pair = ("pl_rzeszow_jasionka", "ua_lviv", "leopard2")
    chosen = travel.legs[pair]
    assert "rail" in chosen.note and "tracked" in chosen.note
    from depotsite.network.graph import load_network
    from depotsite.network.rail import rail_legs

    rail_leg = rail_legs(load_network(scenario.data.rail, scenario.data.boundaries), inputs, scenario)[0][
        pair[0], pair[1], "rail"
    ]
    road_km = chosen.road_km if chosen.mode == "road" else None
    assert road_km is not None  # 170 km: the tanks drive it faster than a train is loaded, run and unloaded
    assert 0.8 < rail_leg.rail_km / road_km < 1.5
    assert rail_leg.countries == ("PL", "UA") and rail_leg.gauge_breaks == 1


def test_no_rail_route_enters_belarus_russia_or_transnistria(shipped, cache):
    scenario, _, travel = shipped
    boundaries = json.loads(Path(scenario.data.boundaries).read_text())
    closed = [
        shapely.geometry.shape(f["geometry"])
        for f in boundaries["features"]
        if f["properties"]["country_id"] in ("BY", "RU")
    ]
    regions = json.loads(Path(scenario.data.regions).read_text())
    closed += [
        shapely.geometry.shape(f["geometry"])
        for f in regions["features"]
        if f["properties"]["region_id"] == "transnistria"
    ]
    assert len(closed) == 3
    area = shapely.union_all(closed)
    rail = [leg for leg in travel.legs.values() if leg.mode == "rail"]
    assert len(rail) > 100
    for leg in rail:
        assert not {"BY", "RU"} & set(leg.countries) and "transnistria" not in leg.regions
        points = np.asarray(leg.path[1:-1])  # the rail nodes (the ends are the site and the destination)
        assert not shapely.contains_xy(area, points[:, 0], points[:, 1]).any()


def test_a_missing_rail_folder_is_an_input_error(tmp_path):
    paths = write_network(tmp_path, {1: 0.0, 2: 1.0}, [(1, 2, 100)], {"AA": (-1.0, 2.0)})
    scenario = scenario_on({**paths, "rail": tmp_path / "no_such_rail"}, profiles={"rail": RAIL, "road": SLOW_ROAD})
    with pytest.raises(ScenarioError) as caught:
        check_against_inputs(scenario, inputs_at({"s": 0.0}, {"d": 1.0}, profile="rail;road"))
    assert caught.value.problems == [
        f"{tmp_path / 'no_such_rail'}: no rail network folder; set [data] rail to a folder with nodes.csv.gz and "
        "edges.csv.gz (the shipped data/rail, or one built by scripts/build_rail.py), or leave it out"
    ]


def test_a_rail_run_records_its_mode_and_rail_files_and_verifies(tmp_path, cache):
    """models/rail.toml end to end: the manifest hashes data/rail like the roads, routes.geojson and the
    travel-times CSV say which deliveries go by train, and verify recomputes the same hours."""
    import csv

    from conftest import invoke
    from depotsite.tables import file_sha256

    out = tmp_path / "rail"
    result = invoke("solve", ROOT / "models" / "rail.toml", "--out", out, "--no-maps")
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    for part in ("nodes", "edges"):
        entry = manifest["inputs"][f"rail_{part}"]
        assert Path(entry["path"]) == ROOT / "data" / "rail" / f"{part}.csv.gz"
        assert entry["sha256"] == file_sha256(ROOT / "data" / "rail" / f"{part}.csv.gz")
    routes = [f["properties"] for f in json.loads((out / "routes.geojson").read_text())["features"]]
    tanks = [p for p in routes if p["system_id"] == "leopard2"]
    assert {p["mode"] for p in routes if p["system_id"] in ("patriot", "himars")} == {"road"}
    assert {p["mode"] for p in routes if p["system_id"] == "f16"} == {"air"}
    assert all(p["note"].startswith("fastest of") for p in tanks)
    for p in tanks:  # the chosen mode is the one the note lists first (the fastest)
        assert p["note"].split()[2] == ("rail" if p["mode"] == "rail" else "tracked")
        assert (p["geometry_kind"] == "rail") == (p["mode"] == "rail") == (p["rail_km"] is not None)
    verified = invoke("verify", out)
    assert verified.exit_code == 0, verified.output
    matrix = tmp_path / "tt.csv"
    assert invoke("travel-times", ROOT / "models" / "rail.toml", "--out", matrix).exit_code == 0
    with matrix.open() as stream:
        rows = [r for r in csv.DictReader(stream) if r["system_id"] == "leopard2" and r["transit_h"]]
    assert {r["mode"] for r in rows} == {"rail", "road"}
    by_rail = [r for r in rows if r["mode"] == "rail"]
    assert all(int(r["gauge_breaks"]) >= 1 and float(r["rail_km"]) > 0 for r in by_rail)  # every line into UA breaks
    # the data's gaps: no line of the extract joins the Estonian and Latvian railheads to Ukraine outside BY and RU
    fallback = [r for r in rows if r["note"].startswith("falls back to tracked (road): no rail route")]
    assert {r["mode"] for r in fallback} == {"road"}
    assert {r["site_id"][:2] for r in fallback} >= {"ee", "lv"}


def test_no_train_leaves_a_site_no_rail_system_may_use(tmp_path):
    """An air base cannot store x (army bases and rail hubs only): its pairs get no rail leg, and say why."""
    paths = _line(tmp_path)
    inputs = inputs_at({"base": 0.0, "field": 0.0}, {"d": 3.0}, profile="rail;road", kinds={"field": "air_base"})
    travel = travel_times(inputs, scenario_on(paths, profiles={"rail": RAIL, "road": SLOW_ROAD}), use_cache=False)
    assert travel.legs["base", "d", "x"].mode == "rail"
    field = travel.legs["field", "d", "x"]
    assert field.mode == "road"
    assert field.note == (
        "falls back to road (road): no rail route, field is of kind air_base, where no system that may go by "
        "rail is stored"
    )
