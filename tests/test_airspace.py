"""Closed airspace and avoided regions: flights go round, roads inside are removed, unknown regions refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely
import shapely.ops
from pyproj import Geod
from shapely.geometry import box, shape

from depotsite.network import travel_times
from depotsite.network.airspace import closed_airspace, flight_path, path_km
from depotsite.regions import read_regions, region_problems
from test_network import FIXTURES, KM_PER_TENTH_DEGREE, tiny_inputs, tiny_scenario

ROOT = Path(__file__).resolve().parents[1]
GEOD = Geod(ellps="WGS84")
WALL = box(0.08, -0.1, 0.12, 0.1)  # 4.4 km wide, 22 km tall, across the straight line from A (0, 0) to C (0.2, 0)


def km(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2] / 1000


def write_regions(folder: Path, **regions) -> Path:
    path = folder / "regions.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"region_id": r, "name": r, "source": "test"},
                        "geometry": shapely.geometry.mapping(g),
                    }
                    for r, g in regions.items()
                ],
            }
        )
    )
    return path


def test_a_flight_goes_round_a_closed_wall():
    """Any way from A to C outside the wall crosses lon 0.1 at |lat| >= 0.1, so it is at least twice the
    distance from A to (0.1, 0.1); the outline is pushed 5 km out and simplified to 3 km, so the way round
    passes within lat 0.17 of the wall's ends: at most twice the distance from A to (0.1, 0.17)."""
    air = closed_airspace([WALL], margin_km=0, ends_lonlat=np.array([[0.0, 0.0], [0.2, 0.0]]))
    corners = flight_path(air, 0.0, 0.0, 0.2, 0.0)
    assert corners is not None and len(corners) > 2
    assert corners[0].tolist() == [0.0, 0.0] and corners[-1].tolist() == [0.2, 0.0]
    assert not shapely.linestrings(corners).intersects(WALL)
    assert 2 * km(0, 0, 0.1, 0.1) <= path_km(corners) <= 2 * km(0, 0, 0.1, 0.17)


def test_a_clear_flight_is_the_direct_leg_and_a_closed_end_is_unreachable():
    air = closed_airspace([WALL], margin_km=0, ends_lonlat=np.array([[0.0, 0.0], [0.2, 0.0]]))
    assert flight_path(air, 0.0, 0.5, 0.2, 0.5).tolist() == [[0.0, 0.5], [0.2, 0.5]]
    assert flight_path(air, 0.0, 0.0, 0.1, 0.0) is None  # the destination lies inside the wall
    assert flight_path(None, 0.0, 0.0, 0.2, 0.0).tolist() == [[0.0, 0.0], [0.2, 0.0]]


def test_a_blocked_flight_with_no_corner_in_reach_is_unreachable():
    """Corners farther than 600 km from every given place are left out of the graph: placed 2,000 km away, the
    wall keeps none, so the flight across it has nowhere to turn, while the clear one flies direct."""
    air = closed_airspace([WALL], margin_km=0, ends_lonlat=np.array([[20.0, 0.0], [20.1, 0.0]]))
    assert len(air.vertices) == 0
    assert flight_path(air, 0.0, 0.0, 0.2, 0.0) is None
    assert flight_path(air, 0.0, 0.5, 0.2, 0.5).tolist() == [[0.0, 0.5], [0.2, 0.5]]


def test_the_margin_keeps_flights_away():
    """With a 5 km margin no point of the way round comes within 5 km (less the 0.5 km graze) of the wall."""
    air = closed_airspace([WALL], margin_km=5, ends_lonlat=np.array([[-0.2, 0.0], [0.4, 0.0]]))
    corners = flight_path(air, -0.2, 0.0, 0.4, 0.0)
    line = shapely.linestrings(corners)
    nearest = shapely.ops.nearest_points(line, WALL)
    assert km(nearest[0].x, nearest[0].y, nearest[1].x, nearest[1].y) >= 4.5


def test_travel_times_route_flights_round_an_avoided_region(tmp_path):
    """The tiny network's air bases A (0, 0) and C (0.2, 0) with the wall as an avoided region: the ferry
    flight takes the way round at cruise speed plus preparation, longer than the 22.24 km great circle."""
    regions = write_regions(tmp_path, wall=WALL)
    inputs = tiny_inputs({"a": (0.0, 0.0, "air_base")}, profile="air")
    scenario = tiny_scenario(FIXTURES / "tiny.osm", avoid_regions=["wall"], airspace_margin_km=0)
    scenario = scenario.model_copy(update={"data": scenario.data.model_copy(update={"regions": regions})})
    leg = travel_times(inputs, scenario, use_cache=False).legs["a", "c", "x"]
    flown = km(*leg.path[0], *leg.path[1]) + sum(km(*a, *b) for a, b in zip(leg.path[1:-1], leg.path[2:], strict=True))
    assert leg.hours == pytest.approx(flown / 750 + 4.0, rel=1e-3)
    assert leg.hours > 2 * KM_PER_TENTH_DEGREE / 750 + 4.0 + 0.01
    assert not shapely.linestrings(leg.path).intersects(WALL)


def test_roads_inside_an_avoided_region_are_removed(tmp_path):
    """A region around B removes node B: A reaches C only by the direct residential road, 22.24 km at 40 km/h,
    plus the border hour (A in AA, C in BB)."""
    regions = write_regions(tmp_path, around_b=box(0.09, -0.01, 0.11, 0.01))
    scenario = tiny_scenario(FIXTURES / "tiny.osm", avoid_regions=["around_b"])
    scenario = scenario.model_copy(update={"data": scenario.data.model_copy(update={"regions": regions})})
    leg = travel_times(tiny_inputs({"a": (0.0, 0.0, "army_base")}), scenario, use_cache=False).legs["a", "c", "x"]
    assert leg.hours == pytest.approx(2 * KM_PER_TENTH_DEGREE / 40 + 1.0, rel=1e-6)
    assert [round(lon, 6) for lon, _ in leg.path] == [0.0, 0.0, 0.2, 0.2]


def test_unknown_or_unset_regions_are_input_errors(tmp_path):
    regions = write_regions(tmp_path, wall=WALL)
    assert region_problems(regions, ("wal",)) == [
        f"[network] avoid_regions: unknown region 'wal'; {regions} holds wall"
    ]
    assert region_problems(None, ("wall",)) == [
        "[network] avoid_regions names wall but no [data] regions file; set [data] regions (the shipped one is "
        "data/regions.geojson)"
    ]
    assert region_problems(None, ()) == []
    (tmp_path / "bad.geojson").write_text('{"type": "FeatureCollection", "features": [{"properties": {}}]}')
    assert region_problems(tmp_path / "bad.geojson", ("wall",)) == [
        f"{tmp_path / 'bad.geojson'}: not a GeoJSON FeatureCollection with a 'region_id' property and a polygon on "
        "every feature; check [data] regions"
    ]


def test_the_shipped_transnistria_holds_its_towns_and_not_the_right_bank():
    """Tiraspol, Bender, Rîbnița, Dubăsari and Camenca lie in it; Chișinău, Rezina and Soroca (right bank) do
    not (town positions rounded to 0.01 degree)."""
    region = read_regions(ROOT / "data" / "regions.geojson")["transnistria"]
    inside = {
        "Tiraspol": (29.63, 46.84),
        "Bender": (29.48, 46.83),
        "Ribnita": (29.00, 47.77),
        "Dubasari": (29.16, 47.27),
        "Camenca": (28.70, 48.03),
    }
    outside = {"Chisinau": (28.83, 47.02), "Rezina": (28.96, 47.75), "Soroca": (28.30, 48.16)}
    assert all(region.contains(shapely.points(*xy)) for xy in inside.values())
    assert not any(region.contains(shapely.points(*xy)) for xy in outside.values())


@pytest.mark.slow
def test_no_route_of_the_base_run_crosses_belarus_russia_or_transnistria(base_run):
    """Every route of the base run, road or air, stays out of the avoided countries and the region; flights
    from the Baltic states to Ukraine are longer than their great circle (they go round Belarus)."""
    out, _ = base_run
    countries = json.loads((ROOT / "data" / "boundaries" / "countries.geojson").read_text())["features"]
    closed = [shape(f["geometry"]) for f in countries if f["properties"]["country_id"] in ("BY", "RU")]
    closed.append(read_regions(ROOT / "data" / "regions.geojson")["transnistria"])
    routes = json.loads((out / "routes.geojson").read_text())["features"]
    assert routes
    for route in routes:
        line = shape(route["geometry"])
        assert not any(line.intersects(area) for area in closed), route["properties"]
    baltic_flights = [
        r
        for r in routes
        if r["properties"]["site_id"].split("_")[0] in ("lt", "lv", "ee") and r["properties"]["system_id"] == "f16"
    ]
    for route in baltic_flights:
        (lon1, lat1), (lon2, lat2) = route["geometry"]["coordinates"][0], route["geometry"]["coordinates"][-1]
        assert (
            GEOD.line_length(*zip(*route["geometry"]["coordinates"], strict=True))
            > GEOD.inv(lon1, lat1, lon2, lat2)[2] * 1.05
        )


def test_every_flight_of_one_call_is_the_shortest_way_round_the_shipped_closed_airspace():
    """``flight_paths`` works the visibility graph's ways out once for all flights. Each flight from 60 seeded
    points of the hosts and Ukraine (and two inside Belarus) to the base's air bases is checked against a
    shortest path searched on its own graph (networkx, both places joined to every vertex they see): the
    same length, no leg entering the closed area, None exactly where no way exists."""
    import networkx as nx

    from depotsite.network.airspace import _to_m, flight_paths
    from depotsite.network.graph import load_network
    from depotsite.network.routing import _closed_polygons, avoided_regions
    from depotsite.scenario import load_scenario
    from depotsite.sources import read_inputs

    scenario = load_scenario(ROOT / "models" / "base.toml")
    inputs = read_inputs(scenario)
    network = load_network(scenario.data.roads, scenario.data.boundaries)
    rng = np.random.default_rng(11)
    hosts = np.flatnonzero(np.isin(network.country.astype(str), ["PL", "RO", "LT", "LV", "EE", "UA"]))
    picked = rng.choice(hosts, size=60, replace=False)
    starts = [(float(network.lon[k]), float(network.lat[k])) for k in picked] + [(27.56, 53.90), (30.33, 53.90)]
    ends = [(d.lon, d.lat) for d in inputs.destinations.values() if d.kind == "air_base"]
    pairs = np.array([(*a, *b) for a in starts for b in ends])
    everything = np.vstack([pairs[:, :2], pairs[:, 2:]])
    air = closed_airspace(
        _closed_polygons(network, avoided_regions(scenario), list(scenario.network.avoid_countries)),
        margin_km=scenario.network.airspace_margin_km,
        ends_lonlat=everything,
    )
    found = flight_paths(air, pairs[:, :2], pairs[:, 2:])

    def metres(points):
        return np.column_stack(_to_m(points[:, 0], points[:, 1]))

    graph = nx.Graph()
    vertices = air.vertices
    for i, j, m in zip(*air.graph.nonzero(), air.graph.data, strict=True):
        graph.add_edge(i, j, m=m)
    round_about = unreachable = 0
    for (lon1, lat1, lon2, lat2), corners in zip(pairs, found, strict=True):
        a, b = metres(np.array([[lon1, lat1], [lon2, lat2]]))
        if not air.blocked(a[None], b[None])[0]:
            assert corners.tolist() == [[lon1, lat1], [lon2, lat2]]
            continue
        round_about += 1
        g = graph.copy()
        for end, place in (("a", a), ("b", b)):
            if shapely.intersects(air.closed, shapely.points(place)):
                continue
            for k, v in enumerate(vertices):
                if not air.blocked(place[None], v[None])[0]:
                    g.add_edge(end, k, m=float(np.hypot(*(v - place))))
        try:
            best = nx.dijkstra_path_length(g, "a", "b", weight="m")
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            assert corners is None
            unreachable += 1
            continue
        assert corners is not None
        assert corners[0].tolist() == [lon1, lat1] and corners[-1].tolist() == [lon2, lat2]
        flown = metres(corners)
        assert np.hypot(*np.diff(flown, axis=0).T).sum() == pytest.approx(best, rel=1e-9)
        assert not shapely.intersects(air.closed, shapely.linestrings(np.stack([flown[:-1], flown[1:]], axis=1))).any()
    assert round_about > 20 and unreachable >= 2 * len(ends)  # the two places in Belarus reach nothing
