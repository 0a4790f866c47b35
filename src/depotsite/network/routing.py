"""Routing on the arrays: avoided territory, snapping, one multi-source Dijkstra per profile."""

import itertools
import logging
import math
from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Geod
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from depotsite.countries import read_countries
from depotsite.errors import NetworkError
from depotsite.inputs import Inputs
from depotsite.network.airspace import closed_airspace, flight_paths, path_km
from depotsite.network.graph import RoadNetwork, haversine_km, tag_countries
from depotsite.network.transit import (
    Area,
    TreeFacts,
    air_facts,
    build_area,
    edge_border_hours,
    edge_gauge_hours,
)
from depotsite.network.trees import Tree
from depotsite.regions import read_front_line, read_regions
from depotsite.scenario import Profile, Scenario
from depotsite.traveltimes import Leg

log = logging.getLogger(__name__)

MIN_COMPONENT_NODES = 100  # smaller road fragments (islands without ferries) are never snapped to


GEOD = Geod(ellps="WGS84")


def great_circle(lon1: float, lat1: float, lon2: float, lat2: float, *, points: int = 32) -> np.ndarray:
    """(lon, lat) points along the great circle between two places, ends included (air leg paths).

    The points between the ends lie on the WGS84 geodesic, evenly spaced.

    Parameters
    ----------
    lon1, lat1, lon2, lat2
        The two places, in degrees.
    points
        How many points in all, the two ends included; at least 2.

    Returns
    -------
    numpy.ndarray
        A (points, 2) array of (lon, lat) in degrees, from the first place to the second.
    """
    if points < 2:
        raise ValueError(f"a great circle needs at least 2 points (its ends), not {points}")
    middle = GEOD.npts(lon1, lat1, lon2, lat2, points - 2) if points > 2 else []  # npts refuses 0 points
    return np.array([(lon1, lat1), *middle, (lon2, lat2)])


def _unit_xyz(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    phi, lmb = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(phi) * np.cos(lmb), np.cos(phi) * np.sin(lmb), np.sin(phi)])


@dataclass(frozen=True)
class _Snap:
    node: np.ndarray  # node position, -1 where the point cannot be snapped
    km: np.ndarray
    reason: list[str]  # why a point could not be snapped ("" if it could)


def _snap(network: RoadNetwork, keep: np.ndarray, component: np.ndarray, lat, lon, avoided) -> _Snap:
    """Nearest kept node of a major component for each point; points in avoided territory are not snapped."""
    sizes = np.bincount(component[keep], minlength=component.max() + 1 if len(component) else 1)
    major = keep & (sizes[component] >= min(MIN_COMPONENT_NODES, sizes.max(initial=0)))
    candidates = np.flatnonzero(major)
    node = np.full(len(lat), -1, dtype=np.int64)
    km = np.full(len(lat), np.nan)
    reason = [""] * len(lat)
    if len(candidates) == 0:
        return _Snap(node, km, ["no road is left outside the avoided countries"] * len(lat))
    tree = cKDTree(_unit_xyz(network.lat[candidates], network.lon[candidates]))
    _, idx = tree.query(_unit_xyz(np.asarray(lat), np.asarray(lon)))
    node[:] = candidates[idx]
    km[:] = haversine_km(np.asarray(lat), np.asarray(lon), network.lat[node], network.lon[node])
    for i, c in enumerate(avoided):
        if c:
            node[i], km[i], reason[i] = -1, np.nan, f"lies in avoided territory ({c})"
    return _Snap(node, km, reason)


def edge_hours(network: RoadNetwork, profile: Profile) -> np.ndarray:
    """Driving hours of every edge for one profile: at its speed, or the edge's maxspeed where lower.

    Parameters
    ----------
    network
        The road network; an edge without maxspeed (NaN) is driven at the profile's speed.
    profile
        A road profile; ``speed_kph`` is the convoy's cruise speed.

    Returns
    -------
    numpy.ndarray
        Hours per edge, in edge order (length in km over the speed in km/h).
    """
    speed = np.fmin(profile.speed_kph, np.where(np.isnan(network.maxspeed_kph), np.inf, network.maxspeed_kph))
    return network.length_m / 1000.0 / speed


def _march_h(driving_h: float, profile: Profile) -> float:
    """Rest stops: ``rest_h`` after each full ``max_driving_h_per_day`` of driving."""
    if profile.max_driving_h_per_day is None:
        return 0.0
    full_days = math.floor(driving_h / profile.max_driving_h_per_day - 1e-9)
    return max(full_days, 0) * profile.rest_h


def _walk(pred_row, start: int) -> list[int]:
    """Node positions from ``start`` along a Dijkstra predecessor row (an array, or the faster list of it) to the
    row's source."""
    path = [start]
    step = int(pred_row[start])
    while step >= 0:
        path.append(step)
        step = int(pred_row[step])
    return path


@dataclass(frozen=True)
class _ProfileGraph:
    """One profile's forward edges (parallel edges reduced to the fastest): the reversed CSR matrix for Dijkstra,
    and each edge's hours and km by its key ``u * n + v`` (sorted), looked up along a path by binary search."""

    reverse: csr_matrix  # weights on reversed edges, for Dijkstra from the destinations
    keys: np.ndarray  # u * n_nodes + v per edge, ascending
    edge_hours: np.ndarray  # forward driving hours per edge, in key order
    edge_km: np.ndarray
    n_nodes: int

    def edges(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """The positions (in key order) of the edges u[i] -> v[i], each of which must exist."""
        return np.searchsorted(self.keys, u * self.n_nodes + v)

    def _index(self, steps: np.ndarray) -> np.ndarray:
        return self.edges(steps[:-1], steps[1:])

    def hours(self, steps: np.ndarray) -> np.ndarray:
        """Hours of each edge between consecutive nodes of ``steps`` (empty for a single node)."""
        return self.edge_hours[self._index(steps)] if len(steps) > 1 else np.zeros(0)

    def km(self, steps: np.ndarray) -> float:
        """Length in km of the path ``steps`` (0 for a single node)."""
        return float(self.edge_km[self._index(steps)].sum()) if len(steps) > 1 else 0.0


def _profile_graph(network: RoadNetwork, kept: np.ndarray, profile: Profile, area: Area) -> _ProfileGraph:
    """The kept edges of one profile, each pair's fastest edge only, weighted by hours plus the border delay of
    the crossing's kind (and, for a rail profile, the gauge break where the gauge changes)."""
    n = network.n_nodes
    u, v = network.u[kept], network.v[kept]
    hours = edge_hours(network, profile)[kept]
    weight = hours + edge_border_hours(network, u, v, profile, area.kinds)
    if profile.mode == "rail":
        weight = weight + edge_gauge_hours(network, u, v, profile, area.kinds)
    order = np.lexsort((weight, v, u))
    u, v, weight, hours, km = u[order], v[order], weight[order], hours[order], network.length_m[kept][order] / 1000
    first = np.ones(len(u), dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    u, v, weight, hours, km = u[first], v[first], weight[first], hours[first], km[first]
    tiny = 1e-9  # scipy drops explicit zeros; a zero-length edge must still connect
    return _ProfileGraph(
        reverse=csr_matrix((weight + tiny, (v, u)), shape=(n, n)),
        keys=u.astype(np.int64) * n + v,  # sorted: the edges are in (u, v) order
        edge_hours=hours + tiny,
        edge_km=km + tiny,
        n_nodes=n,
    )


def _air_legs(sites: list, dests: list, name: str, profile, airspace, network, area) -> tuple[dict, dict]:
    """Ferry flights between air bases at cruise speed, plus preparation hours: the great circle where it
    keeps out of closed airspace, else the shortest way round it (``depotsite.network.airspace``); the
    pairs with no way round, with the reason."""
    legs, unreachable = {}, {}
    pairs = [(s, d) for s in sites if s.kind == "air_base" for d in dests if d.kind == "air_base"]
    ways = flight_paths(
        airspace, np.array([(s.lon, s.lat) for s, _ in pairs]), np.array([(d.lon, d.lat) for _, d in pairs])
    )
    flights: list[tuple[tuple[str, str, str], float, np.ndarray]] = []
    for (s, d), corners in zip(pairs, ways, strict=True):
        key = (s.site_id, d.destination_id, name)
        if corners is None:
            unreachable[key] = f"no flight from {s.site_id} to {d.destination_id} that keeps out of closed airspace"
            continue
        if len(corners) == 2:
            km = float(haversine_km(s.lat, s.lon, d.lat, d.lon))
            path = great_circle(s.lon, s.lat, d.lon, d.lat)
        else:
            km = path_km(corners)
            path = np.vstack(
                [*(great_circle(*a, *b, points=8)[:-1] for a, b in itertools.pairwise(corners)), corners[-1:]]
            )
        flights.append((key, km / profile.cruise_kph, path))
    facts = air_facts(network, area, [f[2] for f in flights], flight_h=[f[1] for f in flights])
    for (key, flight_h, path), fact in zip(flights, facts, strict=True):
        legs[key] = Leg(
            hours=flight_h + profile.prep_h,
            profile=name,
            mode="air",
            path=path,
            **fact.leg_fields(),
        )
    return legs, unreachable


def _closed_polygons(network: RoadNetwork, regions: dict, avoid: list[str]) -> list:
    """The polygons of the avoided countries (from the network's boundaries) and regions."""
    polygons = list(regions.values())
    if network.boundaries is not None:
        frame = network.boundaries
        polygons += list(frame.geometry[frame["country_id"].astype(str).isin(avoid)])
    return polygons


def _tree_facts(graph: _ProfileGraph, area: Area, profile: Profile, pred_row: np.ndarray, root: int) -> TreeFacts:
    """The facts of every node's route to ``root`` along its Dijkstra predecessor row."""
    tree = Tree.from_predecessors(pred_row, root)
    n = graph.n_nodes
    child = np.flatnonzero(tree.parent[:n] < n)
    edge = graph.edges(child, tree.parent[child])
    edge_h, edge_km = np.zeros(n), np.zeros(n)
    edge_h[child], edge_km[child] = graph.edge_hours[edge], graph.edge_km[edge]
    return TreeFacts(area, tree, edge_h=edge_h, edge_km=edge_km, profile=profile)


def _road_legs(
    network: RoadNetwork,
    graph,
    snap,
    sites: list,
    dests: list,
    ids: list[str],
    name: str,
    profile,
    avoid: list[str],
    area: Area,
    *,
    paths: bool = True,
) -> tuple[dict, dict]:
    """Road legs of one profile from every site to every destination (one multi-source Dijkstra from the
    destinations on the reversed graph), and the pairs no road joins, with the reason.

    The hours, km and facts of every site's route to a destination are read off that destination's
    shortest-path tree for all sites at once (``depotsite.network.transit.TreeFacts``); only a route's
    countries, regions and crossings are followed, from one border to the next. With ``paths`` each leg also
    carries its route's points (one walk along the tree per leg); without, its path is empty.
    """
    index = {point_id: i for i, point_id in enumerate(ids)}
    legs: dict[tuple[str, str, str], Leg] = {}
    unreachable: dict[tuple[str, str, str], str] = {}
    target_nodes = np.unique(
        [snap.node[index[d.destination_id]] for d in dests if snap.node[index[d.destination_id]] >= 0]
    ).astype(np.int64)
    row_of = {int(t): r for r, t in enumerate(target_nodes)}
    if len(target_nodes):
        dist, pred = dijkstra(graph.reverse, directed=True, indices=target_nodes, return_predecessors=True)
        dist, pred = np.atleast_2d(dist), np.atleast_2d(pred)
    site_at = np.array([index[s.site_id] for s in sites], dtype=np.int64)
    site_node = snap.node[site_at]
    trees: dict[int, TreeFacts] = {}
    for d in dests:
        di = index[d.destination_id]
        keys = [(s.site_id, d.destination_id, name) for s in sites]
        routed = np.zeros(len(sites), dtype=bool)
        if snap.node[di] >= 0:
            row = row_of[int(snap.node[di])]
            routed = (site_node >= 0) & np.isfinite(dist[row, np.maximum(site_node, 0)])
        for i in np.flatnonzero(~routed):
            si = site_at[i]
            if snap.node[si] < 0 or snap.node[di] < 0:
                who = si if snap.node[si] < 0 else di
                unreachable[keys[i]] = f"{ids[who]} {snap.reason[who]}"
            else:
                unreachable[keys[i]] = (
                    f"no road from {sites[i].site_id} to {d.destination_id} that avoids {', '.join(avoid) or 'nothing'}"
                )
        chosen = np.flatnonzero(routed)
        if not len(chosen):
            continue
        if row not in trees:
            trees[row] = _tree_facts(graph, area, profile, pred[row], int(target_nodes[row]))
        tree = trees[row]
        at = site_at[chosen]
        facts = tree.routes(
            site_node[chosen],
            access_h=snap.km[at] / profile.access_speed_kph,
            end_access_h=float(snap.km[di]) / profile.access_speed_kph,
        )
        walk_row = pred[row].tolist() if paths else None  # list indexing is several times faster in the walks
        for j, i in enumerate(chosen):
            s, si, node = sites[i], site_at[i], int(site_node[i])
            crossings, countries, regions = tree.passes(node)
            driving = float(facts.driving_h[j])
            if paths:
                steps = np.array(_walk(walk_row, node))
                path = np.vstack(
                    [[s.lon, s.lat], np.column_stack([network.lon[steps], network.lat[steps]]), [d.lon, d.lat]]
                )
            else:
                path = np.empty((0, 2))
            legs[keys[i]] = Leg(
                hours=driving + _march_h(driving, profile) + sum(c.hours for c in crossings) + profile.load_h,
                profile=name,
                mode="road",
                road_km=float(facts.km[j]) + float(snap.km[si] + snap.km[di]),
                borders_crossed=len(crossings),
                snap_km=float(snap.km[si] + snap.km[di]),
                path=path,
                countries=countries,
                regions=regions,
                crossings=crossings,
                ukraine_h=float(facts.ukraine_h[j]),
                exposure_h=float(facts.exposure_h[j]),
            )
    return legs, unreachable


def avoided_regions(scenario: Scenario) -> dict:
    """The polygons of the scenario's ``[network] avoid_regions`` (none when it avoids no region)."""
    if not scenario.network.avoid_regions or scenario.data.regions is None:
        return {}
    known = read_regions(scenario.data.regions)
    return {r: known[r] for r in scenario.network.avoid_regions if r in known}


def _area(network: RoadNetwork, scenario: Scenario, regions: dict, avoid: list[str], lat, lon) -> Area:
    """The areas routes are measured against: the destinations' country, its exposed part, every region."""
    data = scenario.data
    hostile = _closed_polygons(network, regions, avoid)
    if data.front_line is not None:
        hostile.append(read_front_line(data.front_line))
    countries = tag_countries(np.asarray(lat), np.asarray(lon), network.boundaries, nearest=False)
    return build_area(
        network,
        kinds=read_countries(data.countries) if data.countries is not None else {},
        destination_countries={str(c) for c in countries if c},
        centre=(float(np.mean(lon)), float(np.mean(lat))) if len(lon) else (0.0, 0.0),
        hostile=hostile,
        exposure_km=scenario.network.exposure_km,
        regions=read_regions(data.regions) if data.regions is not None else {},
    )


@dataclass(frozen=True)
class Kept:
    """A network without the avoided territory: the nodes and edges left, and their strong components."""

    nodes: np.ndarray  # bool per node
    edges: np.ndarray  # bool per edge
    component: np.ndarray  # strong component per node, over the kept edges


def kept_network(network: RoadNetwork, avoid: list[str], regions: dict) -> Kept:
    """Remove the nodes in avoided countries and regions, and the edges touching them.

    Parameters
    ----------
    network
        A road or rail network, nodes tagged with countries.
    avoid
        Avoided country ids.
    regions
        Avoided region polygons (lon/lat) by id.

    Returns
    -------
    Kept
        The kept nodes and edges and the strongly connected components they form.
    """
    keep = ~np.isin(network.country.astype(str), avoid)
    for geometry in regions.values():  # nodes inside an avoided region are removed like an avoided country's
        keep &= ~shapely.contains_xy(geometry, network.lon, network.lat)
    kept_edges = keep[network.u] & keep[network.v]
    n = network.n_nodes
    structure = csr_matrix((np.ones(kept_edges.sum()), (network.u[kept_edges], network.v[kept_edges])), shape=(n, n))
    _, component = connected_components(structure, directed=True, connection="strong")
    return Kept(keep, kept_edges, component)


def route_legs(
    network: RoadNetwork, inputs: Inputs, scenario: Scenario, *, paths: bool = True
) -> tuple[dict, dict, list[str]]:
    """Legs of every (site, destination, profile) pair, the unreachable pairs with reasons, and warnings.

    Nodes in avoided countries and their edges are removed first; each site and destination is snapped to
    the nearest remaining node of a strongly connected road component of at least ``MIN_COMPONENT_NODES``
    nodes (or of the largest, when none is that big), so no point is stranded on a small fragment. Road
    profiles route by one Dijkstra from the destinations; air profiles fly between air bases. Rail profiles
    are left to ``depotsite.network.rail.rail_legs``.

    Parameters
    ----------
    network
        The road network, nodes tagged with countries.
    inputs
        The tables; every profile a system of the systems table may take is routed.
    scenario
        Its ``[network]`` table: profiles, avoided countries, and the snap warning and limit in km.
    paths
        Whether the road legs carry their route's points (else each ``path`` is empty).

    Returns
    -------
    tuple of (dict, dict, list of str)
        ``Leg`` per (site_id, destination_id, profile name) with hours, road km, borders crossed, access km
        and path; a reason per road pair without a leg (a point in avoided territory, or no road joins
        them); a warning per point farther than ``snap_warn_km`` km from the nearest road.

    Raises
    ------
    NetworkError
        Naming every point farther than ``snap_max_km`` km from the nearest usable road.
    """
    avoid = sorted(set(scenario.network.avoid_countries))
    regions = avoided_regions(scenario)
    kept = kept_network(network, avoid, regions)
    keep, kept_edges, component = kept.nodes, kept.edges, kept.component

    sites, dests = list(inputs.sites.values()), list(inputs.destinations.values())
    ids = [s.site_id for s in sites] + [d.destination_id for d in dests]
    lat = np.array([s.lat for s in sites] + [d.lat for d in dests])
    lon = np.array([s.lon for s in sites] + [d.lon for d in dests])
    inside = tag_countries(lat, lon, network.boundaries, nearest=False)
    in_avoided = np.where(np.isin(inside.astype(str), avoid), inside, "").astype(object)
    for region_id, geometry in regions.items():
        in_avoided[shapely.contains_xy(geometry, lon, lat)] = region_id
    snap = _snap(network, keep, component, lat, lon, in_avoided)
    too_far = [
        f"{point_id} at ({lat[i]:.4f}, {lon[i]:.4f}) is {snap.km[i]:,.0f} km from the nearest road of the network "
        f"(limit [network] snap_max_km = {scenario.network.snap_max_km:g}); check its coordinates (lat, lon order) "
        "or use a road file that covers it"
        for i, point_id in enumerate(ids)
        if snap.node[i] >= 0 and snap.km[i] > scenario.network.snap_max_km
    ]
    if too_far:
        raise NetworkError(too_far)
    warnings = [
        f"{point_id} is {snap.km[i]:.1f} km from the nearest road of the network; its times include an "
        "access leg of that length"
        for i, point_id in enumerate(ids)
        if snap.node[i] >= 0 and snap.km[i] > scenario.network.snap_warn_km
    ]

    area = _area(network, scenario, regions, avoid, lat[len(sites) :], lon[len(sites) :])
    if scenario.data.countries is None and network.boundaries is not None:
        warnings.append(
            "no [data] countries table: every border crossing counts as non_eu (neither side in the EU or "
            "Schengen); set [data] countries (the shipped one is data/countries.csv)"
        )
    legs: dict[tuple[str, str, str], Leg] = {}
    unreachable: dict[tuple[str, str, str], str] = {}
    airspace = None
    for name in sorted({p for w in inputs.systems for p in inputs.systems[w].profiles}):
        profile = scenario.network.profiles[name]
        if profile.mode == "rail":
            continue  # depotsite.network.rail
        if profile.mode == "air":
            if airspace is None:
                ends = np.column_stack([lon, lat])
                airspace = closed_airspace(
                    _closed_polygons(network, regions, avoid),
                    margin_km=scenario.network.airspace_margin_km,
                    ends_lonlat=ends,
                )
            found, cut = _air_legs(sites, dests, name, profile, airspace, network, area)
            legs |= found
            unreachable |= cut
        else:
            graph = _profile_graph(network, kept_edges, profile, area)
            found, cut = _road_legs(network, graph, snap, sites, dests, ids, name, profile, avoid, area, paths=paths)
            legs |= found
            unreachable |= cut
    return legs, unreachable, warnings
