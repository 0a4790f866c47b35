"""Travel times: a hand-written tagged OSM fixture whose times are computed by hand, and the shipped
OpenStreetMap extract checked against the real world."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString

from depotsite.errors import InputError, NetworkError
from depotsite.inputs import Destination, Host, Inputs, Site, System
from depotsite.network import haversine_km, load_network, travel_times
from depotsite.network.cache import CACHE_FORMAT
from depotsite.scenario import BorderHours, Scenario, load_scenario
from depotsite.traveltimes import read_matrix

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
KM_PER_TENTH_DEGREE = 2 * math.pi * 6371.009 / 360 * 0.1  # 11.1195 km along the equator
ONE_HOUR = {"internal": 1.0, "external": 1.0, "non_eu": 1.0}  # one hour at every crossing, whatever its kind
NO_DELAY = {"internal": 0.0, "external": 0.0, "non_eu": 0.0}


def tiny_inputs(site_points: dict[str, tuple[float, float, str]], *, profile: str = "wheeled") -> Inputs:
    """Sites as {id: (lat, lon, kind)}; one destination at node C (0, 0.2), an air base."""
    return Inputs.build(
        hosts=[Host("AA", "West", "", 0.0)],
        sites=[Site(s, s, "AA", lat, lon, kind, 10, 10, 24, 0, "test") for s, (lat, lon, kind) in site_points.items()],
        systems=[System("x", "x", "I", profile, 1, 0, 1, 1, 1, frozenset({"air_base", "army_base"}))],
        destinations=[Destination("c", "C", 0.0, 0.2, "air_base")],
        demand={("c", "x"): 1},
    )


def tiny_scenario(roads: Path, **network) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "tiny",
            "data": {
                "hosts": "h.csv",
                "sites": "s.csv",
                "systems": "w.csv",
                "destinations": "d.csv",
                "demand": "x.csv",
                "roads": str(roads),
                "boundaries": str(FIXTURES / "tiny_countries.geojson"),
            },
            "network": {
                "avoid_countries": [],
                "profiles": {
                    "wheeled": {"speed_kph": 60, "border_h": ONE_HOUR},
                    "tracked": {"speed_kph": 45, "border_h": ONE_HOUR},
                    "air": {"mode": "air", "cruise_kph": 750, "prep_h": 4.0},
                },
                **network,
            },
        }
    )


@pytest.fixture(params=["tiny.osm", "tiny.osm.pbf"])
def tiny_roads(request, tmp_path):
    """The XML fixture, and the same data converted to PBF (read through pyosmium)."""
    if request.param == "tiny.osm":
        return FIXTURES / "tiny.osm"
    import osmium

    pbf = tmp_path / "tiny.osm.pbf"
    writer = osmium.SimpleWriter(str(pbf))
    for obj in osmium.FileProcessor(str(FIXTURES / "tiny.osm")):
        writer.add(obj)
    writer.close()
    return pbf


def test_wheeled_time_by_hand(tiny_roads):
    """A-B at min(60, 50) = 50 km/h, B-C at min(60, 90) = 60 km/h, one border (B in AA, C in BB): beats the
    direct 40 km/h road (0.556 h + 1 h)."""
    inputs = tiny_inputs({"a": (0.0, 0.0, "army_base")})
    leg = travel_times(inputs, tiny_scenario(tiny_roads), use_cache=False).legs["a", "c", "x"]
    assert leg.hours == pytest.approx(KM_PER_TENTH_DEGREE / 50 + KM_PER_TENTH_DEGREE / 60 + 1.0, rel=1e-6)
    assert leg.road_km == pytest.approx(2 * KM_PER_TENTH_DEGREE, rel=1e-6)
    assert leg.borders_crossed == 1
    assert [round(lon, 6) for lon, _ in leg.path] == [0.0, 0.0, 0.1, 0.2, 0.2]


def test_tracked_time_by_hand(tiny_roads):
    """Tracked convoys run at 45 km/h on both legs: 2 * 11.1195 / 45 + 1 border hour."""
    inputs = tiny_inputs({"a": (0.0, 0.0, "army_base")}, profile="tracked")
    leg = travel_times(inputs, tiny_scenario(tiny_roads), use_cache=False).legs["a", "c", "x"]
    assert leg.hours == pytest.approx(2 * KM_PER_TENTH_DEGREE / 45 + 1.0, rel=1e-6)


def test_maxspeed_makes_the_direct_road_faster(tiny_roads):
    """With the wheeled convoy at 100 km/h the direct road (40) is 0.556 h, via B 0.222 + 0.124 = 0.346 h;
    at 35 km/h the A-B cap (50) no longer binds: via B 2 * 11.1195 / 35 = 0.635 h, direct 22.239 / 35 the same
    length: a tie broken either way gives the same hours."""
    inputs = tiny_inputs({"a": (0.0, 0.0, "army_base")})
    fast = tiny_scenario(tiny_roads, profiles={"wheeled": {"speed_kph": 100, "border_h": NO_DELAY}})
    leg = travel_times(inputs, fast, use_cache=False).legs["a", "c", "x"]
    assert leg.hours == pytest.approx(KM_PER_TENTH_DEGREE / 50 + KM_PER_TENTH_DEGREE / 90, rel=1e-6)
    slow = tiny_scenario(tiny_roads, profiles={"wheeled": {"speed_kph": 35, "border_h": NO_DELAY}})
    leg = travel_times(inputs, slow, use_cache=False).legs["a", "c", "x"]
    assert leg.hours == pytest.approx(2 * KM_PER_TENTH_DEGREE / 35, rel=1e-6)


def test_air_profile_is_great_circle_over_cruise_plus_prep(tiny_roads):
    inputs = tiny_inputs({"a": (0.0, 0.0, "air_base"), "b": (0.0, 0.1, "army_base")}, profile="air")
    times = travel_times(inputs, tiny_scenario(tiny_roads), use_cache=False)
    assert times.legs["a", "c", "x"].hours == pytest.approx(2 * KM_PER_TENTH_DEGREE / 750 + 4.0, rel=1e-6)
    assert ("b", "c", "x") not in times.legs  # ferry flights only between air bases


def test_snap_access_leg_and_march_discipline(tiny_roads):
    """A site 0.01 degrees north of B snaps to B (1.112 km at the 30 km/h access speed). With at most 0.3 h of
    driving a day and 2 h rest, the 0.222 h of driving needs no rest; from A (0.408 h) one rest is due."""
    inputs = tiny_inputs({"n": (0.01, 0.1, "army_base"), "a": (0.0, 0.0, "army_base")})
    march = tiny_scenario(
        tiny_roads,
        profiles={"wheeled": {"speed_kph": 60, "border_h": ONE_HOUR, "max_driving_h_per_day": 0.3, "rest_h": 2.0}},
    )
    times = travel_times(inputs, march, use_cache=False)
    near = times.legs["n", "c", "x"]
    snap_km = KM_PER_TENTH_DEGREE / 10
    assert near.snap_km == pytest.approx(snap_km, rel=1e-4)
    assert near.hours == pytest.approx(snap_km / 30 + KM_PER_TENTH_DEGREE / 60 + 1.0, rel=1e-4)
    far = times.legs["a", "c", "x"]
    assert far.hours == pytest.approx(KM_PER_TENTH_DEGREE / 50 + KM_PER_TENTH_DEGREE / 60 + 2.0 + 1.0, rel=1e-6)


def test_avoided_country_cuts_the_route_and_is_reported(tiny_roads):
    inputs = tiny_inputs({"a": (0.0, 0.0, "army_base")})
    times = travel_times(inputs, tiny_scenario(tiny_roads, avoid_countries=["BB"]), use_cache=False)
    assert ("a", "c", "x") not in times.legs
    assert times.unreachable["a", "c", "x"] == "c lies in avoided territory (BB)"


# --- the shipped network ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base():
    from depotsite.inputs import load_inputs

    scenario = load_scenario(ROOT / "models" / "base.toml")
    d = scenario.data
    inputs = load_inputs(hosts=d.hosts, sites=d.sites, systems=d.systems, destinations=d.destinations, demand=d.demand)
    return scenario, inputs


@pytest.fixture(scope="module")
def base_times(base, tmp_path_factory):
    scenario, inputs = base
    return travel_times(inputs, scenario, use_cache=False)


@pytest.fixture(scope="module")
def countries():
    return gpd.read_file(ROOT / "data" / "boundaries" / "countries.geojson").set_index("country_id")


@pytest.mark.slow  # routes or loads the shipped road network
def test_baltic_route_to_lviv_avoids_belarus(base, base_times, countries):
    """Through the Suwałki gap, not Belarus. With Belarus open its roads are shorter, but its two borders
    (LT>BY external, BY>UA non_eu) cost more than PL>UA alone, so only with every crossing free does the
    route go through it."""
    scenario, inputs = base
    leg = base_times.legs["lt_rukla", "ua_lviv", "leopard2"]
    route = LineString(leg.path)
    assert not route.intersects(countries.loc["BY"].geometry)
    assert route.intersects(countries.loc["PL"].geometry)  # through the Suwałki gap
    assert leg.countries == ("LT", "PL", "UA")

    def open_belarus(**border_h):
        tracked = scenario.network.profiles["tracked"]
        profiles = {**scenario.network.profiles, "tracked": tracked.model_copy(update=border_h)}
        network = scenario.network.model_copy(update={"avoid_countries": ("RU",), "profiles": profiles})
        return travel_times(inputs, scenario.model_copy(update={"network": network}), use_cache=False).legs[
            "lt_rukla", "ua_lviv", "leopard2"
        ]

    assert open_belarus().countries == ("LT", "PL", "UA")
    through_belarus = open_belarus(border_h=BorderHours(internal=0, external=0, non_eu=0))
    assert LineString(through_belarus.path).intersects(countries.loc["BY"].geometry)
    assert "BY" in through_belarus.countries
    assert leg.road_km > through_belarus.road_km


@pytest.mark.slow  # routes or loads the shipped road network
def test_road_km_is_never_shorter_than_great_circle(base, base_times):
    _, inputs = base
    checked = 0
    for (s, d, _w), leg in base_times.legs.items():
        if leg.road_km is None:
            continue
        site, dest = inputs.sites[s], inputs.destinations[d]
        assert leg.road_km >= float(haversine_km(site.lat, site.lon, dest.lat, dest.lon)) - 1e-6
        checked += 1
    assert checked > 1000


@pytest.mark.slow  # routes or loads the shipped road network
def test_border_crossings_from_germany_to_ukraine(base_times, countries):
    leg = base_times.legs["de_grafenwoehr", "ua_kyiv", "himars"]
    assert leg.borders_crossed >= 2
    # recount independently: the country of every road node on the route, in order
    points = shapely.points(np.array(leg.path[1:-1]))
    tree = shapely.STRtree(countries.geometry.values)
    names = []
    for point in points:
        hits = tree.query(point, predicate="within")
        hit = hits[0] if len(hits) else tree.query_nearest(point)[0]
        names.append(countries.index[hit])
    changes = sum(1 for a, b in itertools.pairwise(names) if a != b)
    assert names[0] == "DE" and names[-1] == "UA"
    assert leg.borders_crossed == changes


@pytest.mark.slow  # routes or loads the shipped road network
def test_unreachable_pairs_are_reported_not_filled(base):
    scenario, inputs = base
    cut = scenario.model_copy(
        update={
            "network": scenario.network.model_copy(
                update={"avoid_countries": ("BY", "RU", "PL", "SK", "HU", "RO", "MD")}
            )
        }
    )
    times = travel_times(inputs, cut, use_cache=False)
    assert ("de_ramstein", "ua_kyiv", "himars") not in times.legs
    assert times.unreachable["de_ramstein", "ua_kyiv", "himars"] == (
        "no road from de_ramstein to ua_kyiv that avoids BY, HU, MD, PL, RO, RU, SK"
    )
    assert times.unreachable["pl_rzeszow_jasionka", "ua_kyiv", "himars"] == (
        "pl_rzeszow_jasionka lies in avoided territory (PL)"
    )
    assert ("de_ramstein", "ua_vasylkiv", "f16") in times.legs  # ferry flights are not road-bound


@pytest.mark.slow  # routes or loads the shipped road network
def test_rzeszow_to_lviv_road_distance_is_plausible(base_times, base):
    _, inputs = base
    leg = base_times.legs["pl_rzeszow_jasionka", "ua_lviv", "himars"]
    site, dest = inputs.sites["pl_rzeszow_jasionka"], inputs.destinations["ua_lviv"]
    great_circle = float(haversine_km(site.lat, site.lon, dest.lat, dest.lon))
    assert 1.0 <= leg.road_km / great_circle <= 1.5


@pytest.mark.slow  # routes or loads the shipped road network
def test_cache_is_reused_and_invalidated(base, tmp_path, monkeypatch):
    monkeypatch.setenv("DEPOTSITE_CACHE", str(tmp_path))
    scenario, inputs = base
    first = travel_times(inputs, scenario)
    assert first.source.endswith("(roads)")
    again = travel_times(inputs, scenario)
    assert again.source.endswith("(cache)")
    assert again.legs == first.legs
    assert all(np.array_equal(again.legs[k].path, leg.path) for k, leg in first.legs.items())
    faster = scenario.model_copy(
        update={
            "network": scenario.network.model_copy(
                update={
                    "profiles": {
                        **scenario.network.profiles,
                        "tracked": scenario.network.profiles["tracked"].model_copy(update={"speed_kph": 50.0}),
                    }
                }
            )
        }
    )
    changed = travel_times(inputs, faster)
    assert changed.source.endswith("(roads)")
    assert changed.legs["lt_rukla", "ua_lviv", "leopard2"].hours < first.legs["lt_rukla", "ua_lviv", "leopard2"].hours
    moved = Inputs.build(
        hosts=list(inputs.hosts.values()),
        systems=list(inputs.systems.values()),
        destinations=list(inputs.destinations.values()),
        demand=inputs.demand,
        sites=[
            s if s.site_id != "lt_rukla" else Site(**{**s.__dict__, "lat": s.lat + 0.5}) for s in inputs.sites.values()
        ],
    )
    assert travel_times(moved, scenario).source.endswith("(roads)")


@pytest.mark.slow  # routes or loads the shipped road network
def test_graph_is_one_large_component_with_every_host_and_ukraine(countries):
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    network = load_network(ROOT / "data" / "roads", ROOT / "data" / "boundaries" / "countries.geojson")
    n = network.n_nodes
    _, label = connected_components(csr_matrix((np.ones(len(network.u)), (network.u, network.v)), shape=(n, n)))
    largest = np.bincount(label).argmax()
    in_largest = label == largest
    assert in_largest.mean() > 0.9
    for country in ("PL", "RO", "DE", "CZ", "LT", "LV", "EE", "UA"):
        assert (in_largest & (network.country == country)).sum() > 200, country


def test_missing_road_file_is_a_clear_error(base, tmp_path):
    scenario, inputs = base
    broken = scenario.model_copy(update={"data": scenario.data.model_copy(update={"roads": tmp_path / "none"})})
    with pytest.raises(NetworkError) as caught:
        travel_times(inputs, broken, use_cache=False)
    assert caught.value.problems == [
        f"{tmp_path / 'none'}: road source not found; set [data] roads to the extract "
        "folder (nodes.csv.gz, edges.csv.gz) or to a .osm / .osm.pbf file"
    ]


def test_bring_your_own_matrix_is_validated(base, tmp_path):
    _, inputs = base
    matrix = tmp_path / "matrix.csv"
    matrix.write_text(
        "site_id,destination_id,system_id,hours\n"
        "pl_lask,ua_kyiv,patriot,12.5\n"
        "pl_nowhere,ua_kyiv,patriot,3\n"
        "pl_lask,ua_kyiv,patriot,4\n"
        "pl_lask,ua_kyiv,tank,-1\n"
    )
    with pytest.raises(InputError) as caught:
        read_matrix(matrix, inputs)
    assert caught.value.problems == [
        "matrix.csv line 5 (pl_lask): hours must be a number between 0 and 1,000,000, got '-1'",
        "matrix.csv line 3: unknown site_id 'pl_nowhere'; use an id from the site table",
        "matrix.csv line 4: duplicate pair pl_lask/ua_kyiv/patriot (first on line 2); keep one row per pair",
    ]
    matrix.write_text("site_id,destination_id,system_id,hours\npl_lask,ua_kyiv,patriot,12.5\n")
    assert read_matrix(matrix, inputs).hours(("pl_lask", "ua_kyiv", "patriot")) == 12.5


@pytest.mark.slow  # routes or loads the shipped road network
def test_site_far_from_roads_warns(base):
    """Myrhorod air base's distance to the nearest node of the shipped road file, computed here on the WGS84
    ellipsoid (pyproj.Geod; the code uses a spherical haversine), is above the warning threshold, and the
    warning reports it to within the sphere-ellipsoid difference (under 0.5 %) and the printed rounding."""
    import gzip

    import pandas as pd
    from pyproj import Geod

    scenario, inputs = base
    with gzip.open(ROOT / "data" / "roads" / "nodes.csv.gz", "rt") as stream:
        nodes = pd.read_csv(stream)
    myrhorod = inputs.destinations["ua_myrhorod"]
    _, _, metres = Geod(ellps="WGS84").inv(
        np.full(len(nodes), myrhorod.lon),
        np.full(len(nodes), myrhorod.lat),
        nodes["lon"].to_numpy(),
        nodes["lat"].to_numpy(),
    )
    nearest_km = float(metres.min()) / 1000
    assert nearest_km > scenario.network.snap_warn_km
    times = travel_times(inputs, scenario, use_cache=False)
    found = [w for w in times.warnings if w.startswith("ua_myrhorod is ")]
    assert len(found) == 1 and found[0].endswith(
        "km from the nearest road of the network; its times include an access leg of that length"
    )
    reported_km = float(found[0].split()[2])
    assert reported_km == pytest.approx(nearest_km, rel=0.005, abs=0.05)
    # every other site and destination is within the threshold of some node: no other warning
    assert [w for w in times.warnings if "from the nearest road" in w] == found


def test_network_as_an_osmnx_graph_routes_like_the_arrays():
    """The osmnx MultiDiGraph of the fixture: both directions, lengths in metres, and osmnx's own shortest
    path by length is the direct A-C road (one edge of 22.239 km)."""
    import osmnx as ox

    from depotsite.network import to_networkx

    graph = to_networkx(load_network(FIXTURES / "tiny.osm", FIXTURES / "tiny_countries.geojson"))
    assert graph.graph["crs"] == "EPSG:4326"
    assert graph.number_of_nodes() == 3 and graph.number_of_edges() == 6
    assert {graph.nodes[n]["country"] for n in graph.nodes} == {"AA", "BB"}
    path = ox.routing.shortest_path(graph, 0, 2, weight="length")
    assert path == [0, 2]
    assert graph.edges[0, 2, 0]["length"] == pytest.approx(2 * KM_PER_TENTH_DEGREE * 1000, rel=1e-9)


@pytest.mark.slow  # routes or loads the shipped road network
def test_ferry_flight_route_follows_the_great_circle(base, base_times):
    """Ramstein to Vasylkiv: the path runs from the site to the destination, every point lies on the
    geodesic between them (distance via the point = direct distance, on the WGS84 ellipsoid), and its middle
    is north of the straight lon/lat segment, as eastbound great circles at these latitudes are."""
    from pyproj import Geod

    _, inputs = base
    geod = Geod(ellps="WGS84")
    leg = base_times.legs["de_ramstein", "ua_vasylkiv", "f16"]
    site, dest = inputs.sites["de_ramstein"], inputs.destinations["ua_vasylkiv"]
    assert leg.road_km is None and len(leg.path) >= 3
    (lon0, lat0), (lon1, lat1) = leg.path[0], leg.path[-1]
    assert (lon0, lat0, lon1, lat1) == pytest.approx((site.lon, site.lat, dest.lon, dest.lat))
    direct = geod.inv(lon0, lat0, lon1, lat1)[2]
    for lon, lat in leg.path[1:-1]:
        via = geod.inv(lon0, lat0, lon, lat)[2] + geod.inv(lon, lat, lon1, lat1)[2]
        assert via == pytest.approx(direct, rel=1e-6)
    middle = leg.path[len(leg.path) // 2]
    straight_lat = lat0 + (lat1 - lat0) * (middle[0] - lon0) / (lon1 - lon0)
    assert middle[1] > straight_lat + 0.1


@pytest.mark.slow  # routes or loads the shipped road network
def test_unwritable_cache_does_not_stop_a_run(base, tmp_path, monkeypatch, caplog):
    scenario, inputs = base
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("DEPOTSITE_CACHE", str(blocker))
    times = travel_times(inputs, scenario)
    # one leg per (site, destination, system) the system may use: air legs between air bases, road legs
    # between every site and destination (all reachable on the shipped network)
    air = [w for w in inputs.systems.values() if scenario.network.profiles[w.profile].mode == "air"]
    air_pairs = sum(s.kind == "air_base" for s in inputs.sites.values()) * sum(
        d.kind == "air_base" for d in inputs.destinations.values()
    )
    road_pairs = len(inputs.sites) * len(inputs.destinations)
    expected = len(air) * air_pairs + (len(inputs.systems) - len(air)) * road_pairs
    assert times.source.endswith("(roads)") and not times.unreachable and len(times.legs) == expected
    assert "could not write the travel-time cache" in caplog.text


@pytest.mark.slow  # routes or loads the shipped road network
def test_points_far_from_every_road_are_input_errors(base):
    """Swapped coordinates put a Polish base in the Indian Ocean; both bad points are reported at once."""
    scenario, inputs = base
    swapped = {"pl_lask": (19.1792, 51.5517), "ee_tapa": (25.96, 59.26)}
    moved = Inputs.build(
        hosts=list(inputs.hosts.values()),
        systems=list(inputs.systems.values()),
        destinations=list(inputs.destinations.values()),
        demand=inputs.demand,
        sites=[
            Site(**{**s.__dict__, "lat": swapped[s.site_id][0], "lon": swapped[s.site_id][1]})
            if s.site_id in swapped
            else s
            for s in inputs.sites.values()
        ],
    )
    with pytest.raises(NetworkError) as caught:
        travel_times(moved, scenario, use_cache=False)
    assert len(caught.value.problems) == 2
    assert caught.value.problems[0].startswith("pl_lask at (19.1792, 51.5517) is ")
    assert caught.value.problems[0].endswith(
        "km from the nearest road of the network (limit [network] "
        "snap_max_km = 100); check its coordinates (lat, lon order) or use a "
        "road file that covers it"
    )


def _tiny_cached(tmp_path, monkeypatch):
    """The tiny fixture with two sites, a private cache folder, and the matrix computed without any cache."""
    monkeypatch.setenv("DEPOTSITE_CACHE", str(tmp_path / "cache"))
    inputs = tiny_inputs({"a": (0.0, 0.0, "army_base"), "b": (0.0, 0.1, "army_base")})
    scenario = tiny_scenario(FIXTURES / "tiny.osm")
    fresh = travel_times(inputs, scenario, use_cache=False)
    first = travel_times(inputs, scenario)
    assert first.source.endswith("(roads)")
    assert travel_times(inputs, scenario).source.endswith("(cache)")
    (entry,) = (tmp_path / "cache").glob("travel-*.npz")
    return inputs, scenario, fresh, entry


def _heals(inputs, scenario, fresh, entry, caplog, problem: str) -> None:
    """The damaged entry is named in a warning, moved aside, recomputed right and saved again."""
    caplog.clear()
    healed = travel_times(inputs, scenario)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1, warnings
    assert f"discarded the travel-time cache entry {entry}: {problem}" in warnings[0]
    assert f"moved aside to {entry.name}.corrupt" in warnings[0]
    assert healed.source.endswith("(roads)")
    assert {k: leg.hours for k, leg in healed.legs.items()} == {k: leg.hours for k, leg in fresh.legs.items()}
    assert healed.legs["a", "c", "x"].hours == pytest.approx(
        KM_PER_TENTH_DEGREE / 50 + KM_PER_TENTH_DEGREE / 60 + 1.0, rel=1e-6
    )
    assert (entry.parent / f"{entry.name}.corrupt").is_file()
    again = travel_times(inputs, scenario)
    assert again.source.endswith("(cache)") and again.legs == fresh.legs


def test_truncated_cache_entry_heals(tmp_path, monkeypatch, caplog):
    inputs, scenario, fresh, entry = _tiny_cached(tmp_path, monkeypatch)
    entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])
    _heals(inputs, scenario, fresh, entry, caplog, "not a zip archive (truncated or overwritten)")


def test_garbage_cache_entry_heals(tmp_path, monkeypatch, caplog):
    inputs, scenario, fresh, entry = _tiny_cached(tmp_path, monkeypatch)
    entry.write_bytes(np.random.default_rng(1).bytes(5000))
    _heals(inputs, scenario, fresh, entry, caplog, "not a zip archive (truncated or overwritten)")


def test_entry_of_another_key_copied_over_heals(tmp_path, monkeypatch, caplog):
    inputs, scenario, fresh, entry = _tiny_cached(tmp_path, monkeypatch)
    other = tiny_inputs({"a": (0.0, 0.0, "army_base")})  # another matrix: one site only
    travel_times(other, scenario)
    (foreign,) = [p for p in (tmp_path / "cache").glob("travel-*.npz") if p != entry]
    entry.write_bytes(foreign.read_bytes())
    _heals(inputs, scenario, fresh, entry, caplog, f"holds the matrix of another cache key ({foreign.name[7:39]})")


def test_tampered_hours_with_the_old_checksum_heal(tmp_path, monkeypatch, caplog):
    inputs, scenario, fresh, entry = _tiny_cached(tmp_path, monkeypatch)
    with np.load(entry) as data:
        arrays = {name: data[name] for name in data.files}
    arrays["hours"] = arrays["hours"] / 2  # faster routes, same stored checksum
    np.savez_compressed(entry, **arrays)
    _heals(inputs, scenario, fresh, entry, caplog, "its arrays do not match their checksum")


def test_entry_of_an_older_format_heals(tmp_path, monkeypatch, caplog):
    inputs, scenario, fresh, entry = _tiny_cached(tmp_path, monkeypatch)
    with np.load(entry) as data:
        arrays = {name: data[name] for name in data.files if name != "checksum"}
    np.savez_compressed(entry, **arrays)  # what format 2 wrote: no checksum
    _heals(
        inputs,
        scenario,
        fresh,
        entry,
        caplog,
        f"not a depotsite cache entry of format {CACHE_FORMAT} (missing checksum)",
    )


def test_road_files_that_do_not_read_are_input_errors_naming_the_file(tmp_path):
    """A .osm that is not XML, one with no data, one whose node lacks its coordinates, and an extract whose
    tables are not gzip: each is a NetworkError (exit 1 from the command line) naming the file and what to
    give instead, never a parser's exception (which the command line reports as an internal error). The
    parsers' own words are computed here from the same bytes with the standard library."""
    import gzip
    from xml.etree import ElementTree

    from depotsite.errors import NetworkError
    from depotsite.network.graph import load_network

    def problems(path):
        with pytest.raises(NetworkError) as caught:
            load_network(path, None)
        return caught.value.problems

    garbage = tmp_path / "garbage.osm"
    garbage.write_text("this is not xml <<<")
    with pytest.raises(ElementTree.ParseError) as parsed:
        ElementTree.parse(garbage)
    assert problems(garbage) == [
        f"{garbage}: road file is not OpenStreetMap XML ({parsed.value}); give a .osm export, a .osm.pbf or an extract"
    ]
    empty = tmp_path / "empty.osm"
    empty.write_text('<?xml version="1.0"?><osm version="0.6"></osm>')
    assert problems(empty) == [
        f"{empty}: road file holds no OpenStreetMap nodes or ways; export an area with roads into it"
    ]
    how = "give the extract folder (nodes.csv.gz, edges.csv.gz as data/README.md describes), a .osm or a .osm.pbf file"
    nameless = tmp_path / "nameless.osm"
    nameless.write_text(
        '<?xml version="1.0"?><osm version="0.6"><node id="1"/><node id="2" lat="50" lon="20"/>'
        '<way id="3"><nd ref="1"/><nd ref="2"/><tag k="highway" v="primary"/></way></osm>'
    )
    assert problems(nameless) == [f"{nameless}: road data cannot be read (KeyError: 'lat'); {how}"]
    extract = tmp_path / "extract"
    extract.mkdir()
    for table in ("nodes.csv.gz", "edges.csv.gz"):
        (extract / table).write_text("node_id,lat,lon\n")
    with pytest.raises(gzip.BadGzipFile) as unzipped, gzip.open(extract / "nodes.csv.gz") as stream:
        stream.read()
    assert problems(extract) == [f"{extract}: road data cannot be read (BadGzipFile: {unzipped.value}); {how}"]


def test_a_fifo_given_as_the_road_file_is_refused_without_blocking(tmp_path):
    """Opening a FIFO blocks until a writer appears: it must be refused by its file type, before any open."""
    import os

    from depotsite.errors import NetworkError
    from depotsite.network.graph import load_network

    fifo = tmp_path / "roads.osm"
    os.mkfifo(fifo)
    with pytest.raises(NetworkError) as caught:
        load_network(fifo, None)
    assert caught.value.problems == [
        f"{fifo}: road file is a named pipe (FIFO), not a regular file; check [data] roads in the scenario"
    ]
