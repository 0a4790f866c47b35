"""The routing module's small parts on hand-built inputs: great-circle points, predecessor walks, one profile's
graph (parallel edges, the gauge break of a rail profile) and ferry flights, each value worked out by hand."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import box

from depotsite.countries import CountryKind
from depotsite.errors import NetworkError
from depotsite.inputs import Destination, Host, Inputs, Site, System
from depotsite.network.airspace import closed_airspace, flight_path
from depotsite.network.graph import RoadNetwork, haversine_km, load_network
from depotsite.network.routing import (
    _air_legs,
    _profile_graph,
    _road_legs,
    _snap,
    _walk,
    avoided_regions,
    great_circle,
    kept_network,
    route_legs,
)
from depotsite.network.routing import (
    _area as routing_area,
)
from depotsite.network.transit import build_area
from depotsite.scenario import Profile
from test_airspace import write_regions
from test_network import tiny_scenario
from tinynet import scenario_on, write_network

FIXTURES = Path(__file__).parent / "fixtures"
ZERO = {"internal": 0.0, "external": 0.0, "non_eu": 0.0}
TINY = 1e-9  # what _profile_graph adds to every edge so that scipy keeps zero-length ones
WALL = box(0.08, -0.1, 0.12, 0.1)  # across the equator between A (0, 0) and C (0.2, 0) of tiny.osm


def test_great_circle_points_along_the_equator():
    """The equator is a geodesic, so the points from (0, 0) to (0.4, 0) are evenly spaced in longitude: with
    ``points=5`` they are 0, 0.1, 0.2, 0.3, 0.4 at latitude 0; the default is 32 points, ends included."""
    path = great_circle(0.0, 0.0, 0.4, 0.0, points=5)
    assert path.shape == (5, 2)
    assert path[:, 0] == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4], abs=1e-9)
    assert path[:, 1] == pytest.approx([0.0] * 5, abs=1e-9)
    assert great_circle(0.0, 0.0, 0.4, 0.0, points=3) == pytest.approx(np.array([[0, 0], [0.2, 0], [0.4, 0]]), abs=1e-9)
    default = great_circle(0.0, 0.0, 0.4, 0.0)
    assert default.shape == (32, 2)
    assert default[:, 0] == pytest.approx([0.4 * i / 31 for i in range(32)], abs=1e-9)


@pytest.mark.parametrize("row", [[-9999, 0, 1, 2], np.array([-9999, 0, 1, 2])])
def test_walk_follows_the_predecessors_through_node_zero(row):
    """Node 3's predecessor is 2, 2's is 1, 1's is 0, and 0 is the source (scipy's -9999): the walk from 3
    ends at node 0, which is a position like any other."""
    assert _walk(row, 3) == [3, 2, 1, 0]
    assert _walk(row, 1) == [1, 0]
    assert _walk(row, 0) == [0]


def _network(edges: list[tuple[int, int, float]], country: list[str]) -> RoadNetwork:
    """Nodes 0.1 degrees apart on the equator, directed (u, v, km) edges, no maxspeed, no boundaries."""
    n = len(country)
    return RoadNetwork(
        lat=np.zeros(n),
        lon=np.arange(n) * 0.1,
        country=np.array(country, dtype=object),
        u=np.array([e[0] for e in edges], dtype=np.int64),
        v=np.array([e[1] for e in edges], dtype=np.int64),
        length_m=np.array([e[2] * 1000.0 for e in edges]),
        maxspeed_kph=np.full(len(edges), np.nan),
        source="test",
    )


def _area(network: RoadNetwork, kinds: dict[str, CountryKind]):
    return build_area(
        network, kinds=kinds, destination_countries=set(), centre=(0.0, 0.0), hostile=[], exposure_km=100, regions={}
    )


# Two parallel pairs: 0 -> 2 (5 and 8 km) and 1 -> 2 (4 and 6 km); 0 -> 2 and 1 -> 2 share their head.
PARALLEL = [(0, 1, 10.0), (0, 2, 8.0), (0, 2, 5.0), (1, 2, 6.0), (1, 2, 4.0), (2, 3, 3.0)]


def test_parallel_edges_keep_the_fastest_only():
    """At 60 km/h each pair keeps its shortest edge: keys u * 4 + v = 1, 2, 6, 11 with 10, 5, 4, 3 km; the
    reversed matrix holds each pair's hours once (v, u), not the sum of its parallel edges."""
    network = _network(PARALLEL, ["AA"] * 4)
    graph = _profile_graph(network, np.ones(len(PARALLEL), dtype=bool), Profile(border_h=ZERO), _area(network, {}))
    assert graph.keys.tolist() == [1, 2, 6, 11]
    assert graph.edge_km == pytest.approx([10 + TINY, 5 + TINY, 4 + TINY, 3 + TINY], abs=1e-12)
    assert graph.edge_hours == pytest.approx([km / 60 + TINY for km in (10, 5, 4, 3)], abs=1e-12)
    expected = np.zeros((4, 4))
    for u, v, km in [(0, 1, 10), (0, 2, 5), (1, 2, 4), (2, 3, 3)]:
        expected[v, u] = km / 60 + TINY
    assert graph.reverse.toarray() == pytest.approx(expected, abs=1e-12)


def test_hours_and_km_along_a_path():
    """Along 0 -> 1 -> 2 -> 3: 10/60, 4/60 and 3/60 h, 17 km; 0 -> 1 alone is 10 km; a single node has no edge:
    no hours and 0 km."""
    network = _network(PARALLEL, ["AA"] * 4)
    graph = _profile_graph(network, np.ones(len(PARALLEL), dtype=bool), Profile(border_h=ZERO), _area(network, {}))
    assert graph.hours(np.array([0, 1, 2, 3])) == pytest.approx([10 / 60 + TINY, 4 / 60 + TINY, 3 / 60 + TINY])
    assert graph.km(np.array([0, 1, 2, 3])) == pytest.approx(17 + 3 * TINY, abs=1e-12)
    assert graph.km(np.array([0, 1])) == pytest.approx(10 + TINY, abs=1e-12)
    single = graph.hours(np.array([2]))
    assert single.shape == (0,)
    assert graph.km(np.array([2])) == 0.0


def test_a_node_without_edges_still_has_its_row_and_column():
    """Node 4 has no edge: the reversed matrix is still 5 x 5, so that Dijkstra's rows index every node."""
    network = _network(PARALLEL, ["AA"] * 5)
    graph = _profile_graph(network, np.ones(len(PARALLEL), dtype=bool), Profile(border_h=ZERO), _area(network, {}))
    assert graph.reverse.shape == (5, 5)


def test_a_point_snaps_to_the_nearest_node_far_from_greenwich():
    """On the equator the distance is the longitude difference: from 50 E the node at 59 E (9 degrees) is
    nearer than the one at 40 E (10 degrees), 9 * 111.195 km away (haversine on the mean radius)."""
    network = RoadNetwork(
        lat=np.zeros(2),
        lon=np.array([40.0, 59.0]),
        country=np.array(["AA", "AA"], dtype=object),
        u=np.array([0, 1]),
        v=np.array([1, 0]),
        length_m=np.array([1e6, 1e6]),
        maxspeed_kph=np.full(2, np.nan),
        source="test",
    )
    kept = kept_network(network, [], {})
    snap = _snap(network, kept.nodes, kept.component, np.array([0.0]), np.array([50.0]), [""])
    assert snap.node.tolist() == [1]
    assert snap.km[0] == pytest.approx(9 * 2 * math.pi * 6371.0088 / 360, rel=1e-4)
    assert snap.reason == [""]


def test_a_rail_profile_pays_the_gauge_break_and_a_road_profile_does_not():
    """One 10 km edge 0 -> 1 from AA (1435 mm) into BB (1520 mm), no border delay: by rail at 100 km/h it
    weighs 0.1 h + the 5 h gauge break; by road at 60 km/h 10/60 h, gauges being the trains' concern. The
    driving hours of the edge are the same 0.1 h by rail either way."""
    network = _network([(0, 1, 10.0)], ["AA", "BB"])
    kinds = {"AA": CountryKind("A", True, True, 1435), "BB": CountryKind("B", False, False, 1520)}
    kept = np.ones(1, dtype=bool)
    rail = Profile(mode="rail", speed_kph=100, gauge_break_h=5, border_h=ZERO)
    graph = _profile_graph(network, kept, rail, _area(network, kinds))
    assert graph.reverse[1, 0] == pytest.approx(0.1 + 5 + TINY, abs=1e-12)
    assert graph.edge_hours == pytest.approx([0.1 + TINY], abs=1e-12)
    road = Profile(speed_kph=60, gauge_break_h=5, border_h=ZERO)
    graph = _profile_graph(network, kept, road, _area(network, kinds))
    assert graph.reverse[1, 0] == pytest.approx(10 / 60 + TINY, abs=1e-12)


def _air_base(site_id: str, lon: float) -> Site:
    return Site(site_id, site_id, "AA", 0.0, lon, "air_base", 10, 10, 24, 0, "test")


def test_ferry_flights_round_a_wall_direct_and_cut_off():
    """tiny.osm's boundaries: AA west of lon 0.15, BB east. Sites A (0, 0) and E (0.16, 0) in BB; the
    destinations W (0.1, 0), inside the closed wall, and C (0.2, 0). W is unreachable from both, with the
    reason; C is still flown to from A after A's flight to W failed. E to C is clear: the 32-point great
    circle, 0.04 degrees = 4.448 km at 750 km/h plus 4 h, all inside BB (the destinations' country). A to C
    goes round the wall: each leg between corners drawn with 8 points, the shared corner once."""
    network = load_network(FIXTURES / "tiny.osm", FIXTURES / "tiny_countries.geojson")
    area = build_area(
        network, kinds={}, destination_countries={"BB"}, centre=(0.2, 0.0), hostile=[], exposure_km=100, regions={}
    )
    ends = np.array([[0.0, 0.0], [0.16, 0.0], [0.1, 0.0], [0.2, 0.0]])
    airspace = closed_airspace([WALL], margin_km=0, ends_lonlat=ends)
    sites = [_air_base("a", 0.0), _air_base("e", 0.16)]
    dests = [Destination("w", "W", 0.0, 0.1, "air_base"), Destination("c", "C", 0.0, 0.2, "air_base")]
    profile = Profile(mode="air", cruise_kph=750, prep_h=4.0)
    legs, unreachable = _air_legs(sites, dests, "air", profile, airspace, network, area)
    assert unreachable == {
        ("a", "w", "air"): "no flight from a to w that keeps out of closed airspace",
        ("e", "w", "air"): "no flight from e to w that keeps out of closed airspace",
    }
    assert set(legs) == {("a", "c", "air"), ("e", "c", "air")}
    direct = legs["e", "c", "air"]
    km = 2 * math.pi * 6371.0088 / 360 * 0.04  # haversine on the equator, the mean Earth radius
    assert km == pytest.approx(float(haversine_km(0.0, 0.16, 0.0, 0.2)), rel=1e-4)
    assert direct.hours == pytest.approx(km / 750 + 4.0, rel=1e-4)
    assert direct.ukraine_h == pytest.approx(km / 750, rel=1e-3)
    assert (direct.profile, direct.mode) == ("air", "air")
    assert direct.path.shape == (32, 2)
    corners = flight_path(airspace, 0.0, 0.0, 0.2, 0.0)
    assert corners is not None and len(corners) > 2
    round_wall = legs["a", "c", "air"]
    assert (round_wall.profile, round_wall.mode) == ("air", "air")
    assert round_wall.path.shape == (7 * (len(corners) - 1) + 1, 2)
    assert round_wall.path[::7].tolist() == corners.tolist()


# Two strong components of three nodes each, 0.1 degrees apart: 0 - 1 - 2 (10 km each way, plus a one-way
# 5 km 0 -> 2) and 3 - 4 - 5 at 1 to 1.2 E, which no road joins to the first.
TWO_PARTS = [
    *((a, b, 10.0) for a, b in [(0, 1), (1, 0), (1, 2), (2, 1), (3, 4), (4, 3), (4, 5), (5, 4)]),
    (0, 2, 5.0),
]
TENTH_KM = 2 * math.pi * 6371.0088 / 360 * 0.1  # 0.1 degree of a meridian or of the equator, haversine


@pytest.mark.parametrize("avoid, named", [([], "nothing"), (["BY", "RU"], "BY, RU")])
def test_road_legs_by_hand(avoid, named):
    """Destination D 0.01 degrees north of node 0 (position 0, 1.112 km), site S 0.02 south of node 2
    (2.224 km); the one-way 0 -> 2 leads away from D, so S drives 2 -> 1 -> 0, 20 km at 60 km/h, plus the
    access legs at 30 km/h: 20/60 + 3.336/30 h, road_km 20 + 3.336. X lies in avoided territory and F on the
    other component; both come before S, whose leg is still routed."""
    lon = np.array([0.0, 0.1, 0.2, 1.0, 1.1, 1.2])
    network = RoadNetwork(
        lat=np.zeros(6),
        lon=lon,
        country=np.array(["AA"] * 6, dtype=object),
        u=np.array([e[0] for e in TWO_PARTS]),
        v=np.array([e[1] for e in TWO_PARTS]),
        length_m=np.array([e[2] * 1000.0 for e in TWO_PARTS]),
        maxspeed_kph=np.full(len(TWO_PARTS), np.nan),
        source="test",
    )
    sites = [
        Site(s, s, "AA", lat, lon, "army_base", 10, 10, 24, 0, "test")
        for s, lat, lon in [("x", 0.0, 0.1), ("f", 0.0, 1.1), ("s", -0.02, 0.2)]
    ]
    dests = [Destination("d", "D", 0.01, 0.0, "army_base")]
    ids = ["x", "f", "s", "d"]
    lat, lon = np.array([0.0, 0.0, -0.02, 0.01]), np.array([0.1, 1.1, 0.2, 0.0])
    kept = kept_network(network, [], {})
    snap = _snap(network, kept.nodes, kept.component, lat, lon, ["BY", "", "", ""])
    assert snap.node.tolist() == [-1, 4, 2, 0]
    profile = Profile(speed_kph=60, border_h=ZERO)
    area = _area(network, {})
    graph = _profile_graph(network, kept.edges, profile, area)
    legs, unreachable = _road_legs(network, graph, snap, sites, dests, ids, "wheeled", profile, avoid, area)
    assert unreachable == {
        ("x", "d", "wheeled"): "x lies in avoided territory (BY)",
        ("f", "d", "wheeled"): f"no road from f to d that avoids {named}",
    }
    assert set(legs) == {("s", "d", "wheeled")}
    leg = legs["s", "d", "wheeled"]
    access_km = 2 * TENTH_KM / 10 + TENTH_KM / 10
    assert leg.snap_km == pytest.approx(access_km, rel=1e-4)
    assert leg.road_km == pytest.approx(20 + access_km, rel=1e-5)
    assert leg.hours == pytest.approx(20 / 60 + access_km / 30, rel=1e-5)
    assert (leg.profile, leg.mode, leg.borders_crossed) == ("wheeled", "road", 0)
    assert leg.path.tolist() == [[0.2, -0.02], [0.2, 0.0], [0.1, 0.0], [0.0, 0.0], [0.0, 0.01]]


def _line_network(n: int) -> RoadNetwork:
    """``n`` nodes 0.1 degrees apart on the equator, joined both ways by 10 km edges."""
    pairs = [(a, a + 1) for a in range(n - 1)] + [(a + 1, a) for a in range(n - 1)]
    return RoadNetwork(
        lat=np.zeros(n),
        lon=np.arange(n) * 0.1,
        country=np.array(["AA"] * (n - 1) + ["BY"] if n else [], dtype=object),
        u=np.array([p[0] for p in pairs], dtype=np.int64),
        v=np.array([p[1] for p in pairs], dtype=np.int64),
        length_m=np.full(len(pairs), 10_000.0),
        maxspeed_kph=np.full(len(pairs), np.nan),
        source="test",
    )


def test_a_point_never_snaps_to_a_removed_node():
    """Nodes 0, 1 in AA and 2 (0.2 E) in the avoided BY: a point at 0.19 E, outside BY's territory, is nearest
    node 2 but snaps to node 1 (0.09 degrees, 10.008 km)."""
    network = _line_network(3)
    kept = kept_network(network, ["BY"], {})
    assert kept.nodes.tolist() == [True, True, False]
    snap = _snap(network, kept.nodes, kept.component, np.array([0.0]), np.array([0.19]), [""])
    assert snap.node.tolist() == [1]
    assert snap.km[0] == pytest.approx(0.9 * TENTH_KM, rel=1e-4)


@pytest.mark.parametrize("n_nodes", [0, 1])
def test_no_point_snaps_when_no_road_is_left(n_nodes):
    """No node at all, or the only one in the avoided BY: neither point is snapped (node -1, no distance),
    each with the reason."""
    network = _line_network(n_nodes)
    kept = kept_network(network, ["BY"], {})
    snap = _snap(network, kept.nodes, kept.component, np.zeros(2), np.array([0.0, 0.1]), ["", ""])
    assert snap.node.tolist() == [-1, -1]
    assert np.isnan(snap.km).all()
    assert snap.reason == ["no road is left outside the avoided countries"] * 2


def test_avoided_regions_need_both_the_key_and_the_file(tmp_path):
    """The wall's polygon only when [network] avoid_regions names it and [data] regions holds it: without the
    file (refused before routing, with a message) or without the key there is nothing to avoid."""
    regions = write_regions(tmp_path, wall=WALL)
    named = tiny_scenario(FIXTURES / "tiny.osm", avoid_regions=["wall"])
    assert named.data.regions is None
    assert avoided_regions(named) == {}
    with_file = named.model_copy(update={"data": named.data.model_copy(update={"regions": regions})})
    assert {r: g.equals(WALL) for r, g in avoided_regions(with_file).items()} == {"wall": True}
    unnamed = tiny_scenario(FIXTURES / "tiny.osm")
    unnamed = unnamed.model_copy(update={"data": unnamed.data.model_copy(update={"regions": regions})})
    assert avoided_regions(unnamed) == {}


def test_exposure_is_measured_in_a_projection_centred_on_the_destinations(tmp_path):
    """BY (avoided) west of 59.5 E, UA east of it; the destination at 60 E. A node at 60 E is 0.5 degrees =
    55.6 km from BY, one at 60.45 E 0.95 degrees = 105.6 km: with a 100 km reach the first is exposed and the
    second is not. The equal-area projection is exact near its centre; one centred on (0, 0) would shorten
    east-west lengths at 60 E by cos(30 degrees) = 0.87 and bring the second node within reach. The area
    holds the countries table; a destination at 62.5 E, in no polygon, makes no country the destinations'."""
    paths = write_network(
        tmp_path,
        {1: 59.0, 2: 60.0, 3: 60.45},
        [(1, 2, 100.0), (2, 3, 50.0)],
        {"BY": (58.0, 59.5), "UA": (59.5, 62.0)},
        kinds={"BY": (False, False), "UA": (False, False)},
    )
    network = load_network(paths["roads"], paths["boundaries"])
    scenario = scenario_on(paths, profiles={"wheeled": {"border_h": ZERO}}, exposure_km=100)
    area = routing_area(network, scenario, {}, ["BY"], np.array([0.0]), np.array([60.0]))
    assert area.node_inside.tolist() == [False, True, True]
    assert area.node_exposed.tolist() == [False, True, False]
    assert {c: (k.eu, k.schengen) for c, k in area.kinds.items()} == {"BY": (False, False), "UA": (False, False)}
    beyond = routing_area(network, scenario, {}, ["BY"], np.array([0.0]), np.array([62.5]))
    assert not beyond.node_inside.any()  # a destination east of every polygon lies in no country


def test_a_region_and_a_country_both_remove_their_nodes():
    """Nodes 0, 1, 2 at 0, 0.1, 0.2 E, node 2 in the avoided BY and a region round node 0: only node 1 is
    kept, and no edge (each touches node 0 or 2); node 1 is then its own strong component."""
    network = _line_network(3)
    kept = kept_network(network, ["BY"], {"west": box(-0.01, -0.01, 0.01, 0.01)})
    assert kept.nodes.tolist() == [False, True, False]
    assert not kept.edges.any()


def test_the_area_tags_nodes_with_every_region_avoided_or_not(tmp_path):
    """tiny.osm's node B (0.1 E) lies in the region round it, which is not avoided: the area still knows the
    region, and tags B with it (code 1) and A and C with none (0)."""
    around_b = box(0.09, -0.01, 0.11, 0.01)
    scenario = tiny_scenario(FIXTURES / "tiny.osm")
    files = {"regions": write_regions(tmp_path, around_b=around_b)}
    scenario = scenario.model_copy(update={"data": scenario.data.model_copy(update=files)})
    network = load_network(FIXTURES / "tiny.osm", FIXTURES / "tiny_countries.geojson")
    area = routing_area(network, scenario, {}, [], np.array([0.0]), np.array([0.2]))
    assert area.region_ids == ("", "around_b")
    assert area.region_code[np.argsort(network.lon)].tolist() == [0, 1, 0]


def test_components_are_strong_a_one_way_road_does_not_join():
    """0 <-> 1 both ways, 1 -> 2 one way: 2 cannot get back, so it is its own strong component, not part of
    0 and 1's (as it would be of a weak one)."""
    network = _network([(0, 1, 10.0), (1, 0, 10.0), (1, 2, 10.0)], ["AA"] * 3)
    component = kept_network(network, [], {}).component
    assert component[0] == component[1] != component[2]


def test_routes_go_round_an_avoided_country_and_only_points_inside_it_are_cut(tmp_path):
    """A (0 E) - B (0.1 E, in the avoided XX) - C (0.2 E) is 20 km, the direct road A - C 100 km: at 60 km/h
    without border delays A drives 100/60 h. N (1.01 N, 0.1 E) lies north of every polygon, nearest XX: it is
    in no country, so it is routed, snapping to A or C (the same distance, about 112.9 km)."""
    paths = write_network(
        tmp_path,
        {1: 0.0, 2: 0.1, 3: 0.2},
        [(1, 2, 10.0), (2, 3, 10.0), (1, 3, 100.0)],
        {"AA": (-1.0, 0.05), "XX": (0.05, 0.15), "CC": (0.15, 1.0)},
        kinds={"AA": (True, True), "XX": (False, False), "CC": (True, True)},
    )
    inputs = Inputs.build(
        hosts=[Host("AA", "A", "", 0.0)],
        sites=[
            Site(s, s, "AA", lat, lon, "army_base", 10, 10, 24, 0, "test")
            for s, lat, lon in [("a", 0.0, 0.0), ("n", 1.01, 0.1)]
        ],
        systems=[System("x", "x", "I", "wheeled", 1, 0, 1, 1, 1, frozenset({"army_base"}))],
        destinations=[Destination("c", "C", 0.0, 0.2, "army_base")],
        demand={("c", "x"): 1},
    )
    scenario = scenario_on(
        paths, profiles={"wheeled": {"speed_kph": 60, "border_h": ZERO}}, avoid_countries=["XX"], snap_max_km=200
    )
    legs, unreachable, _ = route_legs(load_network(paths["roads"], paths["boundaries"]), inputs, scenario)
    assert unreachable == {}
    assert legs["a", "c", "wheeled"].hours == pytest.approx(100 / 60, rel=1e-9)
    assert legs["n", "c", "wheeled"].snap_km == pytest.approx(float(haversine_km(1.01, 0.1, 0.0, 0.0)), rel=1e-6)


def _snap_line(tmp_path: Path, *, table: bool = True, profile: str = "wheeled", **network):
    """Nodes A, B, C at 0, 0.1, 0.2 E (10 km roads both ways) in AA, the avoided region R (0.3 to 0.4 N over B)
    and sites P 0.5 N of A, Q on B, S in R; the destination at C. ``table``: write the countries table."""
    paths = write_network(
        tmp_path,
        {1: 0.0, 2: 0.1, 3: 0.2},
        [(1, 2, 10.0), (2, 3, 10.0)],
        {"AA": (-1.0, 1.0)},
        kinds={"AA": (True, True)} if table else None,
    )
    paths["regions"] = write_regions(tmp_path, r=box(0.05, 0.3, 0.15, 0.4))
    points = {"p": (0.5, 0.0), "q": (0.0, 0.1), "s": (0.35, 0.1)}
    inputs = Inputs.build(
        hosts=[Host("AA", "A", "", 0.0)],
        sites=[Site(s, s, "AA", lat, lon, "army_base", 10, 10, 24, 0, "test") for s, (lat, lon) in points.items()],
        systems=[System("x", "x", "I", profile, 1, 0, 1, 1, 1, frozenset({"army_base"}))],
        destinations=[Destination("c", "C", 0.0, 0.2, "army_base")],
        demand={("c", "x"): 1},
    )
    profiles = {"wheeled": {"speed_kph": 60, "border_h": ZERO}, "rail": {"mode": "rail", "border_h": ZERO}}
    scenario = scenario_on(paths, profiles=profiles, avoid_regions=["r"], **network)
    return load_network(paths["roads"], paths["boundaries"]), inputs, scenario


def test_snap_warnings_limits_and_avoided_regions(tmp_path):
    """P is 0.5 degrees = 55.6 km from A (node position 0): over the 25 km warning, under the 100 km limit, so
    it warns; Q on B does not; S lies in R and is cut off, with the reason. With the warning and the limit at
    exactly P's snap distance P neither warns nor is refused (both are "farther than"); at a 50 km limit it
    is refused, with the message."""
    network, inputs, scenario = _snap_line(tmp_path, snap_warn_km=25)
    legs, unreachable, warnings = route_legs(network, inputs, scenario)
    p_km = float(haversine_km(0.5, 0.0, 0.0, 0.0))
    assert p_km == pytest.approx(5 * TENTH_KM, rel=1e-6)
    assert warnings == [
        f"p is {p_km:.1f} km from the nearest road of the network; its times include an access leg of that length"
    ]
    assert unreachable == {("s", "c", "wheeled"): "s lies in avoided territory (r)"}
    assert set(legs) == {("p", "c", "wheeled"), ("q", "c", "wheeled")}
    exact = legs["p", "c", "wheeled"].snap_km  # the very distance the limit is compared with
    network, inputs, scenario = _snap_line(tmp_path, snap_warn_km=exact, snap_max_km=exact)
    found, _, warnings = route_legs(network, inputs, scenario)
    assert set(found) == set(legs)
    assert warnings == []
    network, inputs, scenario = _snap_line(tmp_path, snap_warn_km=25, snap_max_km=50)
    with pytest.raises(NetworkError) as caught:
        route_legs(network, inputs, scenario)
    assert caught.value.problems == [
        f"p at (0.5000, 0.0000) is {p_km:,.0f} km from the nearest road of the network (limit [network] "
        "snap_max_km = 50); check its coordinates (lat, lon order) or use a road file that covers it"
    ]


def test_rail_profiles_are_left_to_the_rail_router_and_a_missing_table_warns(tmp_path):
    """A system that may go by rail or road: route_legs routes its road profile only (rail legs come from
    ``depotsite.network.rail``); without a countries table it says every crossing counts as non_eu."""
    network, inputs, scenario = _snap_line(tmp_path, table=False, profile="rail;wheeled")
    legs, _, warnings = route_legs(network, inputs, scenario)
    assert {profile for _, _, profile in legs} == {"wheeled"}
    assert warnings[-1] == (
        "no [data] countries table: every border crossing counts as non_eu (neither side in the EU or "
        "Schengen); set [data] countries (the shipped one is data/countries.csv)"
    )


def test_every_profile_keeps_its_legs_and_unreachable_pairs(tmp_path):
    """Two road components, 0 - 0.1 - 0.2 E and 1 - 1.1 - 1.2 E (10 km roads), ZZ avoided between them (no
    node in it); air bases C (0 E, the destination) and S (0.2 E), and F (1.1 E), an army base. Profiles in
    name order tracked, wheeled (road) and zair (air): each road profile has S's leg (20 km) and F's reason,
    the air profile S's flight, and no profile's pairs replace another's."""
    paths = write_network(
        tmp_path,
        {1: 0.0, 2: 0.1, 3: 0.2, 4: 1.0, 5: 1.1, 6: 1.2},
        [(1, 2, 10.0), (2, 3, 10.0), (4, 5, 10.0), (5, 6, 10.0)],
        {"AA": (-1.0, 0.5), "ZZ": (0.5, 0.6), "BB": (0.6, 2.0)},
        kinds={"AA": (True, True), "ZZ": (False, False), "BB": (True, True)},
    )
    points = {"s": (0.2, "air_base"), "f": (1.1, "army_base")}
    inputs = Inputs.build(
        hosts=[Host("AA", "A", "", 0.0)],
        sites=[Site(s, s, "AA", 0.0, lon, kind, 10, 10, 24, 0, "test") for s, (lon, kind) in points.items()],
        systems=[System("x", "x", "I", "tracked;wheeled;zair", 1, 0, 1, 1, 1, frozenset({"army_base", "air_base"}))],
        destinations=[Destination("c", "C", 0.0, 0.0, "air_base")],
        demand={("c", "x"): 1},
    )
    profiles = {
        "tracked": {"speed_kph": 40, "border_h": ZERO},
        "wheeled": {"speed_kph": 60, "border_h": ZERO},
        "zair": {"mode": "air", "cruise_kph": 750, "prep_h": 0.0},
    }
    scenario = scenario_on(paths, profiles=profiles, avoid_countries=["ZZ"], airspace_margin_km=0)
    legs, unreachable, _ = route_legs(load_network(paths["roads"], paths["boundaries"]), inputs, scenario)
    assert {k: round(leg.hours, 6) for k, leg in legs.items()} == {
        ("s", "c", "tracked"): round(20 / 40, 6),
        ("s", "c", "wheeled"): round(20 / 60, 6),
        ("s", "c", "zair"): round(float(haversine_km(0.0, 0.2, 0.0, 0.0)) / 750, 6),
    }
    assert unreachable == {
        ("f", "c", "tracked"): "no road from f to c that avoids ZZ",
        ("f", "c", "wheeled"): "no road from f to c that avoids ZZ",
    }


def test_a_great_circle_of_two_points_is_its_ends_and_of_one_an_error():
    """points counts the ends: 2 gives just the two places; fewer is refused by name."""
    from depotsite.network.routing import great_circle

    ends = great_circle(10.0, 50.0, 20.0, 45.0, points=2)
    assert ends.tolist() == [[10.0, 50.0], [20.0, 45.0]]
    with pytest.raises(ValueError, match="a great circle needs at least 2 points"):
        great_circle(10.0, 50.0, 20.0, 45.0, points=1)
