"""Exposure in transit: hours inside Ukraine and near hostile ground, by hand on tiny networks, in the
objective through [objective] exposure_weight, and on the shipped data."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import shapely
from shapely.geometry import LineString, mapping

import depotsite
from conftest import invoke
from depotsite.errors import InputError
from depotsite.network import travel_times
from depotsite.regions import read_front_line
from depotsite.selfcheck import check_posture
from depotsite.traveltimes import Leg, TravelTimes
from instances import HEADERS, make_inputs, make_scenario, site, system
from tinynet import NO_DELAY, inputs_at, scenario_on, write_network

ROOT = Path(__file__).resolve().parents[1]
DEG_KM = 111.195  # km per degree of longitude on the equator (mean Earth radius)


@pytest.fixture
def frontier(tmp_path):
    """AA (EU) at lon 0, UU (the destinations' country) from lon 0.5 to 2.5, RR (hostile) east of 2.5;
    nodes at lon 0, 1 and 2 joined by 100 km roads."""
    return write_network(
        tmp_path,
        nodes={1: 0.0, 2: 1.0, 3: 2.0},
        edges=[(1, 2, 100.0), (2, 3, 100.0)],
        bands={"AA": (-1, 0.5), "UU": (0.5, 2.5), "RR": (2.5, 4)},
        kinds={"AA": (True, True), "UU": (False, False), "RR": (False, False)},
    )


def test_hours_inside_and_exposed_by_hand(frontier):
    """At 100 km/h each edge is 1 h. Node 1 (lon 0) is in AA, nodes 2 and 3 in UU: the AA-UU edge counts half
    inside. Within 60 km of RR (east of lon 2.5, so from lon 2.5 - 60 / 111.2 = 1.96) only node 3 is exposed:
    the last edge counts half exposed."""
    inputs = inputs_at({"a": 0.0}, {"d": 2.0})
    scenario = scenario_on(
        frontier, profiles={"wheeled": {"speed_kph": 100, "border_h": NO_DELAY}}, avoid_countries=["RR"], exposure_km=60
    )
    leg = travel_times(inputs, scenario, use_cache=False).legs["a", "d", "x"]
    assert leg.countries == ("AA", "UU")
    assert leg.ukraine_h == pytest.approx(0.5 + 1.0)
    assert leg.exposure_h == pytest.approx(0.5)
    assert 2.5 - 60 / DEG_KM < 2.0 < 2.5 - 60 / DEG_KM + 1.0  # only node 3 within reach


def test_a_wider_reach_exposes_more(frontier):
    """With 130 km, lon >= 2.5 - 1.17 = 1.33: still only node 3 (lon 1 is 1.5 degrees = 167 km away). With
    170 km node 2 is exposed too: both UU edges' exposed ends count, the first only at its UU end."""
    inputs = inputs_at({"a": 0.0}, {"d": 2.0})
    profiles = {"wheeled": {"speed_kph": 100, "border_h": NO_DELAY}}
    legs = {
        km: travel_times(
            inputs, scenario_on(frontier, profiles=profiles, avoid_countries=["RR"], exposure_km=km), use_cache=False
        ).legs["a", "d", "x"]
        for km in (130, 170)
    }
    assert legs[130].exposure_h == pytest.approx(0.5)
    assert legs[170].exposure_h == pytest.approx(0.5 + 1.0)


def test_a_front_line_exposes_the_roads_near_it(frontier, tmp_path):
    """A front line along lon 1.0 (the middle node) with 60 km: node 2 exposed by the line, node 3 by RR."""
    line = tmp_path / "front.geojson"
    line.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": {}, "geometry": mapping(LineString([(1.0, -1), (1.0, 1)]))}
                ],
            }
        )
    )
    inputs = inputs_at({"a": 0.0}, {"d": 2.0})
    paths = {**frontier, "front_line": line}
    profiles = {"wheeled": {"speed_kph": 100, "border_h": NO_DELAY}}
    leg = travel_times(
        inputs, scenario_on(paths, profiles=profiles, avoid_countries=["RR"], exposure_km=60), use_cache=False
    ).legs["a", "d", "x"]
    assert leg.exposure_h == pytest.approx(0.5 + 1.0)


def test_a_rest_where_the_driving_hours_run_out_counts(frontier):
    """At most 1.5 h of driving before a 10 h rest: the 2 h drive rests once, after 1.5 h, which falls on the
    second UU edge; the rest is counted at the node the edge ends on (node 3: inside and exposed)."""
    inputs = inputs_at({"a": 0.0}, {"d": 2.0})
    profiles = {"wheeled": {"speed_kph": 100, "border_h": NO_DELAY, "max_driving_h_per_day": 1.5, "rest_h": 10}}
    leg = travel_times(
        inputs, scenario_on(frontier, profiles=profiles, avoid_countries=["RR"], exposure_km=60), use_cache=False
    ).legs["a", "d", "x"]
    assert leg.hours == pytest.approx(2 + 10)
    assert leg.ukraine_h == pytest.approx(1.5 + 10)
    assert leg.exposure_h == pytest.approx(0.5 + 10)


def test_a_bad_front_line_is_an_input_error(tmp_path):
    bad = tmp_path / "front.geojson"
    bad.write_text(
        json.dumps(
            {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": mapping(shapely.Point(1, 1))}]}
        )
    )
    with pytest.raises(InputError) as caught:
        read_front_line(bad)
    assert caught.value.problems == [
        f"{bad}: feature 1 is not a valid line or polygon (Point); use LineString, MultiLineString, Polygon, "
        "MultiPolygon"
    ]


def _two_sites(weight: float):
    """Site ``safe`` 10 h from d with no exposure; ``fast`` 8 h with 5 h exposed."""
    inputs = make_inputs(
        hosts=["H1", "H2"],
        sites=[site("safe", "H1"), site("fast", "H2")],
        systems=[system("x")],
        demand={("d", "x"): 1},
    )
    travel = TravelTimes(legs={("safe", "d", "x"): Leg(hours=10.0), ("fast", "d", "x"): Leg(hours=8.0, exposure_h=5.0)})
    scenario = make_scenario(objective={"exposure_weight": weight})
    instance = depotsite.build_instance(inputs, travel, scenario)
    model = depotsite.build_model(instance)
    outcome = depotsite.run_solve(model, time_limit_s=30)
    return instance, travel, depotsite.collect(instance, depotsite.posture_of(model), outcome)


@pytest.mark.parametrize(
    ("weight", "chosen", "time_h"),
    [
        (0.0, "fast", 8.0),  # 8 < 10
        (0.3, "fast", 8.0 + 0.3 * 5),  # 9.5 < 10
        (1.0, "safe", 10.0),  # 8 + 5 = 13 > 10
    ],
)
def test_exposure_weight_counts_exposed_hours_in_the_time_term(weight, chosen, time_h):
    instance, travel, result = _two_sites(weight)
    assert instance.tau_h["fast", "d", "x"] == pytest.approx(8.0 + weight * 5.0)
    (delivery,) = result.deliveries
    assert delivery.site_id == chosen
    assert result.terms["time_h"] == pytest.approx(time_h)
    assert delivery.available_h == pytest.approx(travel.legs[chosen, "d", "x"].hours)  # the real arrival
    assert result.objective == pytest.approx(time_h)
    check_posture(result, instance, travel)  # the recomputation from the record agrees


def _write(path, header, rows):
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)


def test_a_run_with_an_exposure_weight_verifies_from_its_files(tmp_path):
    """The bring-your-own matrix's exposure_h column, the deliveries' exposure column and verify's objective
    check: the fast site's 8 h + 2 x 5 h exposed lose to the safe site's 10 h."""
    _write(tmp_path / "hosts.csv", HEADERS["hosts"], [["H1", "H1", "", 0], ["H2", "H2", "", 0]])
    _write(
        tmp_path / "sites.csv",
        HEADERS["sites"],
        [[s, s, h, 0, 0, "army_base", 10, 0, 10, 0, "test"] for s, h in (("safe", "H1"), ("fast", "H2"))],
    )
    _write(tmp_path / "systems.csv", HEADERS["systems"], [["x", "x", "I", "wheeled", 1, 1, 0, 1, 1, "army_base"]])
    _write(tmp_path / "destinations.csv", HEADERS["destinations"], [["d", "d", 49, 30, "city"]])
    _write(tmp_path / "demand.csv", HEADERS["demand"], [["d", "x", 1]])
    _write(
        tmp_path / "matrix.csv",
        ["site_id", "destination_id", "system_id", "transit_h", "exposure_h"],
        [["safe", "d", "x", 10, 0], ["fast", "d", "x", 8, 5]],
    )
    (tmp_path / "s.toml").write_text(
        'name = "exposed"\n[data]\n'
        + "".join(f'{t} = "{t}.csv"\n' for t in ("hosts", "sites", "systems", "destinations", "demand"))
        + 'travel_times = "matrix.csv"\n[network]\nrelease_delay_h = 0\n'
        + "[objective]\nrisk_weight = 0\nexposure_weight = 2\n"
    )
    out = tmp_path / "run"
    solved = invoke("solve", tmp_path / "s.toml", "--out", out, "--no-maps")
    assert solved.exit_code == 0, solved.output
    with (out / "deliveries.csv").open() as stream:
        (row,) = list(csv.DictReader(stream))
    assert (row["site_id"], float(row["exposure_h"]), float(row["available_h"])) == ("safe", 0.0, 10.0)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["weights"]["exposure_weight"] == 2
    assert summary["exposure"]["unit_hours"] == 0
    verified = invoke("verify", out)
    assert verified.exit_code == 0, verified.output


# --- the shipped data ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped():
    scenario = depotsite.load_scenario(ROOT / "models" / "base.toml")
    inputs = depotsite.read_inputs(scenario)
    return scenario, inputs, travel_times(inputs, scenario, use_cache=False)


@pytest.fixture(scope="module")
def closed():
    """Belarus, Russia and Transnistria, from the shipped boundaries and regions."""
    from depotsite.regions import read_regions

    countries = json.loads((ROOT / "data" / "boundaries" / "countries.geojson").read_text())
    found = {
        f["properties"]["country_id"]: shapely.geometry.shape(f["geometry"])
        for f in countries["features"]
        if f["properties"]["country_id"] in ("BY", "RU")
    }
    return found | {"transnistria": read_regions(ROOT / "data" / "regions.geojson")["transnistria"]}


@pytest.mark.slow  # routes the shipped road network
def test_no_route_enters_belarus_russia_or_transnistria(shipped, closed):
    """Every leg of the base matrix, road or air, keeps out of the closed territory, and says so."""
    _, _, times = shipped
    assert len(times.legs) > 1000
    for key, leg in times.legs.items():
        line = LineString(leg.path)
        for name, area in closed.items():
            assert not line.intersects(area), (key, name)
        assert not {"BY", "RU"} & set(leg.countries), key
        assert "transnistria" not in leg.regions, key


def test_no_route_of_the_base_run_enters_closed_territory(base_run, closed):
    out, _ = base_run
    routes = json.loads((out / "routes.geojson").read_text())["features"]
    assert {f["properties"]["geometry_kind"] for f in routes} >= {"road", "great_circle"}
    for f in routes:
        line = shapely.geometry.shape(f["geometry"])
        assert not any(line.intersects(area) for area in closed.values()), f["properties"]
        assert not {"BY", "RU"} & set(f["properties"]["countries"].split(">"))
        assert (
            f["properties"]["crossings"].count(">") == f["properties"]["borders_crossed"]
            or f["properties"]["profile"] == "air"
        )


def test_baltic_f16s_fly_round_belarus(shipped, closed):
    """From each Baltic air base to each Ukrainian one the great circle crosses Belarus; the flight does not,
    passes over Poland and is longer (its hours over cruise speed, less preparation, exceed the direct)."""
    from depotsite.network import haversine_km

    scenario, inputs, times = shipped
    air = scenario.network.profiles["air"]
    checked = 0
    for s in ("lt_siauliai", "lv_lielvarde", "ee_amari"):
        for d in ("ua_starokostiantyniv", "ua_vasylkiv", "ua_myrhorod"):
            site, dest = inputs.sites[s], inputs.destinations[d]
            if not LineString([(site.lon, site.lat), (dest.lon, dest.lat)]).intersects(closed["BY"]):
                continue
            leg = times.legs[s, d, "f16"]
            assert not LineString(leg.path).intersects(closed["BY"])
            assert "PL" in leg.countries and "BY" not in leg.countries
            direct_h = float(haversine_km(site.lat, site.lon, dest.lat, dest.lon)) / air.cruise_kph
            assert leg.hours - air.prep_h > direct_h * 1.05
            checked += 1
    assert checked >= 6


def test_kharkiv_is_exposed_and_lviv_is_not(shipped):
    """Kharkiv lies about 30 km from Russia, inside the 100 km; Lviv about 140 km from Belarus, outside it.
    Every road leg to Kharkiv is exposed for a while; a leg from Przemyśl (the border) to Lviv never is."""
    _, _, times = shipped
    assert times.legs["pl_przemysl", "ua_lviv", "himars"].exposure_h == 0
    assert times.legs["pl_przemysl", "ua_lviv", "himars"].ukraine_h > 0
    to_kharkiv = [leg for (s, d, w), leg in times.legs.items() if d == "ua_kharkiv"]
    assert to_kharkiv and all(0 < leg.exposure_h <= leg.ukraine_h for leg in to_kharkiv)
    assert all(leg.countries[-1] == "UA" for leg in to_kharkiv)


def test_flights_lengths_inside_by_squares_equal_the_whole_area():
    """Ukraine's shipped outline, projected: 400 seeded straight lines across and around it measure the same
    length inside it cut into 100 km squares as against the whole outline (the path many flights take)."""
    import numpy as np

    from depotsite.network.transit import TILES_FROM_LINES, Projection, _length_inside

    countries = json.loads((ROOT / "data" / "boundaries" / "countries.geojson").read_text())
    (ukraine,) = [
        shapely.geometry.shape(f["geometry"]) for f in countries["features"] if f["properties"]["country_id"] == "UA"
    ]
    inside = Projection.centred(31.0, 49.0).project(ukraine)
    rng = np.random.default_rng(5)
    x0, y0, x1, y1 = inside.bounds
    ends = rng.uniform([x0 - 3e5, y0 - 3e5], [x1 + 3e5, y1 + 3e5], size=(400, 2, 2))
    lines = shapely.linestrings(ends)
    assert len(lines) >= TILES_FROM_LINES
    whole = shapely.length(shapely.intersection(lines, inside))
    assert (whole > 0).sum() > 200 and (whole == 0).sum() > 5 and (whole == shapely.length(lines)).sum() > 5
    assert _length_inside(lines, inside) == pytest.approx(whole, rel=1e-12, abs=1e-6)
    assert _length_inside(lines[:10], inside) == pytest.approx(whole[:10], rel=1e-12, abs=1e-6)


def test_the_runs_of_many_flights_at_once_equal_each_flights_runs():
    """``_runs_by_part`` (every flight's countries at once) against ``_runs`` flight by flight, on 2,000 seeded
    lists of countries with gaps ("") and repeats, some parts all gaps."""
    import random

    import numpy as np

    from depotsite.network.transit import _runs, _runs_by_part

    rng = random.Random(3)
    for _ in range(2000):
        lists = [
            [rng.choice(["", "PL", "UA", "RO"]) for _ in range(rng.randint(1, 8))] for _ in range(rng.randint(1, 6))
        ]
        values = np.array([x for part in lists for x in part], dtype=object)
        part = np.repeat(np.arange(len(lists)), [len(p) for p in lists])
        assert _runs_by_part(values, part, len(lists)) == [_runs(p) for p in lists], lists
