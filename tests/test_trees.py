"""Shortest-path trees as arrays (``depotsite.network.trees``) by hand, and the road legs read off them against
the same legs walked node by node with ``road_facts`` on the shipped road network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import box

from depotsite.countries import read_countries
from depotsite.inputs import Site
from depotsite.network import travel_times
from depotsite.network.graph import load_network
from depotsite.network.routing import _march_h, _profile_graph, _road_legs, _snap, _walk, kept_network
from depotsite.network.transit import build_area, road_facts
from depotsite.network.trees import Tree
from depotsite.scenario import load_scenario
from depotsite.sources import read_inputs

ROOT = Path(__file__).resolve().parents[1]
HOSTS = ("PL", "RO", "DE", "CZ", "LT", "LV", "EE")

# Root 0; 1 and 3 hang from 1's branch: 0 <- 1 <- 2 and 0 <- 1 <- 3 <- 4 <- 6; node 5 is not reached.
PRED = np.array([-9999, 0, 1, 1, 3, -9999, 4])
SENTINEL = len(PRED)


def test_the_tree_of_a_predecessor_row_by_hand():
    """Each node's parent is its predecessor; the root, the unreached node 5 and the sentinel point to the
    sentinel 7. The deepest path (6 -> 4 -> 3 -> 1 -> 0) is four steps, so the tables double three times:
    ``up[1]`` two steps on, ``up[2]`` four, ``up[3]`` all the sentinel."""
    tree = Tree.from_predecessors(PRED, 0)
    assert tree.parent.tolist() == [7, 0, 1, 1, 3, 7, 4, 7]
    assert tree.up[1].tolist() == [7, 7, 0, 0, 1, 7, 3, 7]
    assert tree.up[2].tolist() == [7, 7, 7, 7, 7, 7, 0, 7]
    assert tree.up[3].tolist() == [7] * 8
    assert len(tree.up) == 4


def test_sums_along_every_path_by_hand():
    """With node i worth i (and 10 i in a second row): node 6 sums 6 + 4 + 3 + 1 + 0 = 14, node 2 sums 3, node 5
    (not reached) only itself, the root 0, the sentinel 0."""
    values = np.vstack([np.arange(7.0), 10 * np.arange(7.0)])
    sums = Tree.from_predecessors(PRED, 0).sums(values)
    assert sums[0].tolist() == [0, 1, 3, 4, 8, 5, 14, 0]
    assert sums[1].tolist() == [0, 10, 30, 40, 80, 50, 140, 0]


def test_sums_along_a_long_chain_cover_every_node():
    """A chain of 1,000 nodes (i's predecessor i - 1): the doubling must cover the whole depth, so node i sums
    0 + 1 + ... + i."""
    n = 1000
    pred = np.arange(-1, n - 1)
    sums = Tree.from_predecessors(pred, 0).sums(np.arange(float(n))[None, :])
    assert sums[0, :n].tolist() == [i * (i + 1) / 2 for i in range(n)]


def test_the_nearest_marked_node_on_each_path_by_hand():
    """Only node 3 is marked: 6, 4 and 3 find it; 2, 1, 0 and 5 have none on their path (the sentinel)."""
    marked = np.zeros(7, dtype=bool)
    marked[3] = True
    found = Tree.from_predecessors(PRED, 0).nearest_marked(marked)
    assert found.tolist() == [7, 7, 7, 3, 3, 7, 3, 7]
    marked[[6, 1]] = True
    assert Tree.from_predecessors(PRED, 0).nearest_marked(marked).tolist() == [7, 1, 1, 3, 3, 7, 6, 7]


def test_the_first_node_low_enough_by_hand():
    """Levels (hours to the root): 1 -> 0 is 1 h, 2 -> 1 is 1 h, 3 -> 1 2 h, 4 -> 3 1 h, 6 -> 4 1 h, so 0, 1, 2, 3,
    4 and 5 h for nodes 0, 1, 2, 3, 4, 6. From 6: at most 5 h is 6 itself, 4.5 h is node 4, 3 h node 3, 0 h the
    root, -1 h nothing (the root, the path's last node); from 2, at most 1.5 h is node 1."""
    level = np.array([0.0, 1, 2, 3, 4, 99, 5, 0])
    tree = Tree.from_predecessors(PRED, 0)
    found = tree.first_at_most(np.array([6, 6, 6, 6, 6, 2]), level, np.array([5, 4.5, 3, 0, -1, 1.5]))
    assert found.tolist() == [6, 4, 3, 0, 0, 1]


@pytest.fixture(scope="module")
def shipped():
    """The base scenario's tables and the shipped road network, with 80 seeded road nodes of the hosts as
    extra army bases (long drives from the Baltics and Germany: rests on the way)."""
    scenario = load_scenario(ROOT / "models" / "base.toml")
    inputs = read_inputs(scenario)
    network = load_network(scenario.data.roads, scenario.data.boundaries)
    rng = np.random.default_rng(7)
    nodes = rng.choice(np.flatnonzero(np.isin(network.country.astype(str), HOSTS)), size=80, replace=False)
    extra = [
        Site(
            f"n{k}",
            f"n{k}",
            str(network.country[k]),
            float(network.lat[k]),
            float(network.lon[k]),
            "army_base",
            10,
            0,
            24,
            0,
            "test",
        )
        for k in nodes
    ]
    return scenario, inputs, network, [*inputs.sites.values(), *extra]


@pytest.mark.slow  # routes the shipped road network
def test_legs_read_off_the_trees_match_the_walked_routes(shipped):
    """Every road leg of every profile, from the base's sites and 80 more to the base's destinations, has the
    hours, km, countries, regions, crossings and hours inside Ukraine and exposed that walking its path with
    ``road_facts`` gives (two regions across Poland and Ukraine and a hostile box in the east, so that every
    fact is exercised: the test checks that some routes cross two borders or more, enter a region, are
    exposed and rest on the way)."""
    scenario, inputs, network, sites = shipped
    dests = list(inputs.destinations.values())
    ids = [s.site_id for s in sites] + [d.destination_id for d in dests]
    lat = np.array([p.lat for p in [*sites, *dests]])
    lon = np.array([p.lon for p in [*sites, *dests]])
    area = build_area(
        network,
        kinds=read_countries(scenario.data.countries),
        destination_countries={"UA"},
        centre=(float(np.mean(lon[len(sites) :])), float(np.mean(lat[len(sites) :]))),
        hostile=[box(33.0, 46.0, 41.0, 53.0)],
        exposure_km=150.0,
        regions={"west": box(20.0, 49.0, 25.0, 51.0), "south": box(24.0, 46.0, 30.0, 48.5)},
    )
    kept = kept_network(network, ["BY", "RU"], {})
    snap = _snap(network, kept.nodes, kept.component, lat, lon, [""] * len(ids))
    seen = {"crossings": 0, "regions": 0, "exposed": 0, "rests": 0}
    for name in ("wheeled", "tracked", "het"):
        profile = scenario.network.profiles[name]
        graph = _profile_graph(network, kept.edges, profile, area)
        legs, unreachable = _road_legs(network, graph, snap, sites, dests, ids, name, profile, ["BY", "RU"], area)
        assert not unreachable
        targets = [int(snap.node[len(sites) + j]) for j in range(len(dests))]
        _, pred = dijkstra(graph.reverse, directed=True, indices=targets, return_predecessors=True)
        for j, d in enumerate(dests):
            di = len(sites) + j
            for si, s in enumerate(sites):
                steps = np.array(_walk(pred[j], int(snap.node[si])))
                hours_along = graph.hours(steps)
                access = (snap.km[si] / profile.access_speed_kph, snap.km[di] / profile.access_speed_kph)
                facts = road_facts(network, area, steps, hours_along, access_h=access, profile=profile)
                driving = float(hours_along.sum()) + sum(access)
                leg = legs[s.site_id, d.destination_id, name]
                crossing_h = sum(c.hours for c in facts.crossings)
                assert leg.hours == pytest.approx(driving + _march_h(driving, profile) + crossing_h + profile.load_h)
                assert leg.road_km == pytest.approx(graph.km(steps) + snap.km[si] + snap.km[di])
                assert (leg.countries, leg.regions, leg.crossings) == (facts.countries, facts.regions, facts.crossings)
                assert leg.borders_crossed == len(facts.crossings)
                assert (leg.ukraine_h, leg.exposure_h) == pytest.approx((facts.ukraine_h, facts.exposure_h))
                assert leg.path[1:-1].tolist() == np.column_stack([network.lon[steps], network.lat[steps]]).tolist()
                seen["crossings"] += len(facts.crossings) >= 2
                seen["regions"] += len(facts.regions) >= 2
                seen["exposed"] += facts.exposure_h > 0
                seen["rests"] += profile.max_driving_h_per_day is not None and driving > profile.max_driving_h_per_day
    assert min(seen.values()) > 0, seen


@pytest.mark.slow  # routes the shipped road network
def test_a_matrix_without_paths_has_the_same_legs_and_is_not_cached(tmp_path, monkeypatch):
    """``paths=False`` gives legs equal to the full matrix's in everything but their (empty) road paths, and
    leaves the cache empty, so a later run with paths cannot read a matrix without them."""
    monkeypatch.setenv("DEPOTSITE_CACHE", str(tmp_path))
    scenario = load_scenario(ROOT / "models" / "base.toml")
    inputs = read_inputs(scenario)
    bare = travel_times(inputs, scenario, paths=False)
    assert not any(tmp_path.rglob("*.*"))
    full = travel_times(inputs, scenario)
    assert full.source.endswith("(roads)")
    assert bare.legs == full.legs
    road = [k for k, leg in full.legs.items() if leg.mode == "road"]
    assert road and all(bare.legs[k].path.shape == (0, 2) and len(full.legs[k].path) >= 2 for k in road)
    assert travel_times(inputs, scenario).source.endswith("(cache)")
