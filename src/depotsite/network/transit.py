"""What a route passes through: countries, regions, border crossings by kind, and its exposure in Ukraine.

Every road node is tagged once with the kind of country it lies in (``depotsite.countries``), the region of
``[data] regions`` holding it, whether it lies in the destinations' country (Ukraine), and whether it is
*exposed*: in that country and within ``[network] exposure_km`` of avoided territory (the avoided countries
and regions) or of the ``[data] front_line``. The hostile area is buffered once in a Lambert azimuthal
equal-area projection centred on Ukraine (distances there within 1 % of the ellipsoid's), after clipping it
to the destinations' country and simplifying it to 1 km.

A road route's hours inside Ukraine are its driving hours on edges there (an edge with one end inside counts
half), its access legs, the rests its march discipline puts there (each rest where the driving hours it
follows run out) and half its loading hours (the unloading at the destination); its exposure hours the same
on exposed nodes. Border waits are not counted (they are spent at the crossing). A flight's hours are its
length inside the area over its cruise speed; its border crossings cost nothing.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer

from depotsite.countries import KINDS, CountryKind, breaks_gauge, crossing_kind
from depotsite.network import laea
from depotsite.network.graph import RoadNetwork, tag_countries
from depotsite.network.trees import Tree
from depotsite.scenario import Profile
from depotsite.traveltimes import Crossing


@dataclass(frozen=True)
class Projection:
    """A Lambert azimuthal equal-area projection centred on the destinations (metres), both ways."""

    to_m: Transformer
    to_deg: Transformer

    @classmethod
    def centred(cls, lon: float, lat: float) -> Projection:
        """The projection centred on (lon, lat): scale error under 1 % within 800 km of it."""
        return cls(*laea.transformers(lat_0=lat, lon_0=lon))

    def project(self, geometry: shapely.Geometry) -> shapely.Geometry:
        """The geometry (lon/lat) in metres."""
        return shapely.transform(geometry, lambda xy: np.column_stack(self.to_m.transform(xy[:, 0], xy[:, 1])))


SIMPLIFY_M = 1_000.0  # the hostile area's outline is simplified to this before it is buffered
AIR_STEP_M = 5_000.0  # flight paths are tagged with countries every this many metres
TILE_M = 100_000.0  # for many flights the areas are cut into squares this big (``_length_inside``)
TILES_FROM_LINES = 200  # from this many flights on: the cut costs about as much as 100 flights (0.03 s)


@dataclass(frozen=True)
class Area:
    """The parts of the map a route is measured against, with every road node tagged once."""

    kinds: Mapping[str, CountryKind]
    projection: Projection  # centred on the destinations
    inside: shapely.Geometry | None  # the destinations' country, projected (metres)
    exposed: shapely.Geometry | None  # its part within exposure_km of hostile territory, projected
    regions: Mapping[str, shapely.Geometry]  # every region of [data] regions (lon/lat)
    node_inside: np.ndarray  # bool per road node
    node_exposed: np.ndarray  # bool per road node
    node_country: np.ndarray  # index into ``country_ids`` per road node
    country_ids: tuple[str, ...]  # the countries of the road nodes ("" for none)
    region_code: np.ndarray  # index into ``region_ids`` per road node (0: no region)
    region_ids: tuple[str, ...]  # "" first, then the regions


_SHAPES: dict[str, tuple[shapely.Geometry | None, shapely.Geometry | None]] = {}
"""The projected inside and exposed areas by a hash of what they are made of: the road and the rail network
of one matrix share them (the buffers take about 0.4 s)."""


def _shapes(
    projection: Projection,
    centre: tuple[float, float],
    chosen: list[shapely.Geometry],
    hostile: list[shapely.Geometry],
    exposure_km: float,
) -> tuple[shapely.Geometry | None, shapely.Geometry | None]:
    """The destinations' country and its exposed part, projected (each None when there is none)."""
    digest = hashlib.sha256(repr((centre, exposure_km, len(chosen), len(hostile))).encode())
    for geometry in (*chosen, *hostile):
        digest.update(shapely.to_wkb(geometry))
    key = digest.hexdigest()
    if key in _SHAPES:
        return _SHAPES[key]
    inside = exposed = None
    if chosen:
        inside = projection.project(shapely.union_all(chosen))
    if inside is not None and hostile:
        reach = inside.buffer(exposure_km * 1000.0 + SIMPLIFY_M)
        near = shapely.union_all([projection.project(g) for g in hostile]).intersection(reach).simplify(SIMPLIFY_M)
        if not near.is_empty:
            exposed = near.buffer(exposure_km * 1000.0).intersection(inside)
            shapely.prepare(exposed)
    if len(_SHAPES) >= 4:  # a few scenarios' worth; a sweep varies exposure_km
        _SHAPES.pop(next(iter(_SHAPES)))
    _SHAPES[key] = (inside, exposed)
    return inside, exposed


def build_area(
    network: RoadNetwork,
    *,
    kinds: Mapping[str, CountryKind],
    destination_countries: set[str],
    centre: tuple[float, float],
    hostile: list[shapely.Geometry],
    exposure_km: float,
    regions: Mapping[str, shapely.Geometry],
) -> Area:
    """Tag the road nodes and build the areas every route is measured against.

    Parameters
    ----------
    network
        The road network with its boundaries (the destinations' country polygon comes from them).
    kinds
        The countries table (``depotsite.countries.read_countries``); empty for none.
    destination_countries
        The countries the destinations lie in (Ukraine).
    centre
        (lon, lat) of the projection's centre: the middle of the destinations.
    hostile
        Polygons of the avoided countries and regions and the front line's geometry (lon/lat).
    exposure_km
        A point of the destinations' country within this distance of ``hostile`` is exposed.
    regions
        Every region of ``[data] regions`` (lon/lat), avoided or not.

    Returns
    -------
    Area
        The projected areas and the per-node tags.
    """
    n = network.n_nodes
    projection = Projection.centred(*centre)
    node_inside = np.isin(network.country.astype(str), sorted(destination_countries))
    chosen: list[shapely.Geometry] = []
    frame = network.boundaries
    if frame is not None and destination_countries:
        chosen = list(frame.geometry[frame["country_id"].astype(str).isin(sorted(destination_countries))])
    inside, exposed = _shapes(projection, centre, chosen, hostile, exposure_km)
    node_exposed = np.zeros(n, dtype=bool)
    if exposed is not None:
        which = np.flatnonzero(node_inside)
        x, y = projection.to_m.transform(network.lon[which], network.lat[which])
        node_exposed[which] = shapely.contains_xy(exposed, x, y)
    region_code = np.zeros(n, dtype=np.int64)
    for code, geometry in enumerate(regions.values(), 1):
        held = shapely.contains_xy(geometry, network.lon, network.lat)
        region_code[held] = code
    country_ids, node_country = np.unique(network.country.astype(str), return_inverse=True)
    return Area(
        projection=projection,
        node_country=node_country.astype(np.int64),
        country_ids=tuple(str(c) for c in country_ids),
        region_code=region_code,
        region_ids=("", *regions),
        kinds=kinds,
        inside=inside,
        exposed=exposed,
        regions=regions,
        node_inside=node_inside,
        node_exposed=node_exposed,
    )


def edge_border_hours(
    network: RoadNetwork, u: np.ndarray, v: np.ndarray, profile: Profile, kinds: Mapping[str, CountryKind]
) -> np.ndarray:
    """The border delay of every edge u -> v: 0 within a country, else the profile's hours for its kind.

    Parameters
    ----------
    network
        The road network, nodes tagged with countries.
    u, v
        Edge tails and heads (node positions).
    profile
        Its ``border_h``.
    kinds
        The countries table (``depotsite.countries.read_countries``); empty for none.

    Returns
    -------
    numpy.ndarray
        Hours per edge.
    """
    if not len(u):
        return np.zeros(0)
    countries, code = _country_codes(network)
    table = np.array(
        [
            [getattr(profile.border_h, crossing_kind(a, b, kinds)) if a != b else 0.0 for b in countries]
            for a in countries
        ]
    )
    return table[code[u], code[v]]


def _country_codes(network: RoadNetwork) -> tuple[list[str], np.ndarray]:
    """The countries of the network's nodes, and each node's index into them."""
    countries, code = np.unique(network.country.astype(str), return_inverse=True)
    return [str(c) for c in countries], code


def edge_gauge_hours(
    network: RoadNetwork, u: np.ndarray, v: np.ndarray, profile: Profile, kinds: Mapping[str, CountryKind]
) -> np.ndarray:
    """The gauge-break delay of every rail edge u -> v: the profile's ``gauge_break_h`` where the edge crosses
    between two countries of different track gauge (``depotsite.countries.breaks_gauge``), else 0.

    Parameters
    ----------
    network
        The rail network, nodes tagged with countries.
    u, v
        Edge tails and heads (node positions).
    profile
        Its ``gauge_break_h``.
    kinds
        The countries table with its ``rail_gauge_mm``; empty for none (no breaks).

    Returns
    -------
    numpy.ndarray
        Hours per edge.
    """
    if not len(u):
        return np.zeros(0)
    countries, code = _country_codes(network)
    table = np.array([[profile.gauge_break_h * breaks_gauge(a, b, kinds) for b in countries] for a in countries])
    return table[code[u], code[v]]


def _runs(values: list[str]) -> tuple[str, ...]:
    """The values with consecutive repeats and empty strings removed."""
    return tuple(k for k, _ in itertools.groupby(x for x in values if x))


def _runs_by_part(values: np.ndarray, part: np.ndarray, parts: int) -> list[tuple[str, ...]]:
    """``_runs`` of each part's values at once: ``part`` numbers the part of each value, in order."""
    keep = values != ""
    values, part = values[keep], part[keep]
    new = np.ones(len(values), dtype=bool)
    new[1:] = (values[1:] != values[:-1]) | (part[1:] != part[:-1])
    values, part = values[new].tolist(), part[new]
    bounds = np.searchsorted(part, np.arange(parts + 1))
    return [tuple(values[bounds[i] : bounds[i + 1]]) for i in range(parts)]


def _crossings(countries: tuple[str, ...], profile: Profile | None, area: Area) -> tuple[Crossing, ...]:
    found = []
    for a, b in itertools.pairwise(countries):
        kind = crossing_kind(a, b, area.kinds)
        found.append(Crossing(a, b, kind, getattr(profile.border_h, kind) if profile is not None else 0.0))
    return tuple(found)


@dataclass(frozen=True)
class RouteFacts:
    """What one route passes through, and its hours inside Ukraine and exposed."""

    countries: tuple[str, ...]
    regions: tuple[str, ...]
    crossings: tuple[Crossing, ...]
    ukraine_h: float
    exposure_h: float

    def leg_fields(self) -> dict[str, Any]:
        """The facts as the keyword arguments of the ``Leg`` they describe (its fields of the same names)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def road_facts(
    network: RoadNetwork,
    area: Area,
    steps: np.ndarray,
    edge_hours: np.ndarray,
    *,
    access_h: tuple[float, float],
    profile: Profile,
    arrival_h: float | None = None,
) -> RouteFacts:
    """Countries, regions, crossings and hours in Ukraine and exposed of one road (or rail) route.

    Parameters
    ----------
    network, area
        The road network and its tags (``build_area``).
    steps
        The route's node positions, from the site's node to the destination's.
    edge_hours
        Driving hours of each edge between consecutive ``steps``.
    access_h
        Driving hours of the access legs at the site and at the destination.
    profile
        Its border hours, march discipline and loading hours.
    arrival_h
        Hours spent at the destination end after the last node (unloading); half the profile's ``load_h``
        when not given (a road trip's load and unload).

    Returns
    -------
    RouteFacts
        The route's facts; crossings in route order.
    """
    codes = area.node_country[steps]
    turns = np.flatnonzero(codes[1:] != codes[:-1])
    names = area.country_ids
    crossings = tuple(
        Crossing(a, b, kind, getattr(profile.border_h, kind))
        for a, b in ((names[codes[i]], names[codes[i + 1]]) for i in turns)
        for kind in (crossing_kind(a, b, area.kinds),)
    )
    countries = _runs([names[c] for c in codes[np.r_[0, turns + 1]]]) if len(steps) else ()
    held = area.region_code[steps]
    region_turns = np.r_[0, np.flatnonzero(held[1:] != held[:-1]) + 1] if len(steps) else np.zeros(0, dtype=int)
    regions = _runs([area.region_ids[c] for c in held[region_turns]])
    totals = []
    for flag in (area.node_inside[steps].astype(float), area.node_exposed[steps].astype(float)):
        hours = float(np.dot(edge_hours, (flag[:-1] + flag[1:]) / 2)) if len(steps) > 1 else 0.0
        at_end = profile.load_h / 2 if arrival_h is None else arrival_h
        hours += access_h[0] * flag[0] + access_h[1] * flag[-1] + at_end * flag[-1]
        if profile.max_driving_h_per_day is not None and profile.rest_h > 0:
            driven = access_h[0] + np.concatenate([[0.0], np.cumsum(edge_hours)])
            total = driven[-1] + access_h[1]
            rests = math.floor(total / profile.max_driving_h_per_day - 1e-9)
            for k in range(1, max(rests, 0) + 1):
                at = min(int(np.searchsorted(driven, k * profile.max_driving_h_per_day)), len(steps) - 1)
                hours += profile.rest_h * flag[at]
        totals.append(hours)
    return RouteFacts(countries, regions, crossings, totals[0], totals[1])


@dataclass(frozen=True)
class TreeRoutes:
    """The hours, km and facts of many nodes' routes to one destination (``TreeFacts.routes``), one per node."""

    driving_h: np.ndarray  # hours at the wheel, access legs included
    km: np.ndarray  # road km between the two snapped nodes
    ukraine_h: np.ndarray
    exposure_h: np.ndarray


class TreeFacts:
    """What the route of every node to one destination passes through, read off its shortest-path tree.

    The same facts as ``road_facts`` gives one walked path, for all nodes at once: the hours, km and half-edge
    hours inside Ukraine and exposed are sums along the tree (``depotsite.network.trees.Tree.sums``), each rest
    of the march discipline is found by climbing the tree to where the driving hours run out, and a route's
    countries, regions and crossings follow it from one border (or region edge) to the next, each chain
    worked out once for all the routes that share it.

    Parameters
    ----------
    area
        The per-node tags (``build_area``).
    tree
        The destination's shortest-path tree.
    edge_h, edge_km
        Per node, the driving hours and km of its edge to its parent (0 at the root and unreached nodes).
    profile
        Its border hours, march discipline and loading hours.
    """

    def __init__(self, area: Area, tree: Tree, *, edge_h: np.ndarray, edge_km: np.ndarray, profile: Profile):
        n = len(edge_h)
        parent = tree.parent[:n]
        linked = parent < n
        self._area, self._tree, self._profile, self._n = area, tree, profile, n
        self._inside = np.append(area.node_inside, False).astype(float)
        self._exposed = np.append(area.node_exposed, False).astype(float)
        halves = [
            np.where(linked, edge_h * (flag[:n] + flag[parent]) / 2, 0.0) for flag in (self._inside, self._exposed)
        ]
        self._sums = tree.sums(np.vstack([edge_h, edge_km, *halves]))
        self._codes = np.append(area.node_country, -1)
        self._held = np.append(area.region_code, -1)
        self._next_crossing = tree.nearest_marked(linked & (self._codes[:n] != self._codes[parent]))
        self._next_region = tree.nearest_marked(linked & (self._held[:n] != self._held[parent]))
        # by (the next crossing or region edge, the node's own country or region): the crossings and countries,
        # and the regions, of every route from a node of that pair
        self._crossings: dict[tuple[int, int], tuple[tuple[Crossing, ...], tuple[str, ...]]] = {}
        self._regions: dict[tuple[int, int], tuple[str, ...]] = {}

    def routes(self, nodes: np.ndarray, *, access_h: np.ndarray, end_access_h: float) -> TreeRoutes:
        """The hours, km and hours inside Ukraine and exposed of the routes from ``nodes`` to the root.

        Parameters
        ----------
        nodes
            Start nodes (snapped sites), each reached by the tree.
        access_h
            Per start, the driving hours of its access leg.
        end_access_h
            The driving hours of the access leg at the destination.

        Returns
        -------
        TreeRoutes
            One entry per start, in order.
        """
        profile, root = self._profile, self._tree.root
        hours_left = self._sums[0]
        driven = hours_left[nodes]
        totals = []
        at_end = profile.load_h / 2
        for column, flag in ((2, self._inside), (3, self._exposed)):
            totals.append(
                self._sums[column, nodes] + access_h * flag[nodes] + end_access_h * flag[root] + at_end * flag[root]
            )
        if profile.max_driving_h_per_day is not None and profile.rest_h > 0:
            day = profile.max_driving_h_per_day
            rests = np.maximum(np.floor((access_h + driven + end_access_h) / day - 1e-9), 0).astype(np.int64)
            for k in range(1, int(rests.max(initial=0)) + 1):  # the k-th rest, where the k-th day's driving ends
                some = np.flatnonzero(rests >= k)
                at = self._tree.first_at_most(nodes[some], hours_left, access_h[some] + driven[some] - k * day)
                for total, flag in zip(totals, (self._inside, self._exposed), strict=True):
                    total[some] += profile.rest_h * flag[at]
        return TreeRoutes(
            driving_h=driven + (access_h + end_access_h),
            km=self._sums[1, nodes],
            ukraine_h=totals[0],
            exposure_h=totals[1],
        )

    def passes(self, node: int) -> tuple[tuple[Crossing, ...], tuple[str, ...], tuple[str, ...]]:
        """The crossings (in order), countries and regions of the route from ``node`` to the root."""
        at_crossing = (int(self._next_crossing[node]), int(self._codes[node]))  # the routes that share it
        if at_crossing not in self._crossings:
            crossings, entered = self._crossing_chain(at_crossing[0])
            self._crossings[at_crossing] = crossings, _runs([self._area.country_ids[at_crossing[1]], *entered])
        at_region = (int(self._next_region[node]), int(self._held[node]))
        if at_region not in self._regions:
            entered = self._region_chain(at_region[0])
            self._regions[at_region] = _runs([self._area.region_ids[at_region[1]], *entered])
        return *self._crossings[at_crossing], self._regions[at_region]

    def _crossing_chain(self, at: int) -> tuple[tuple[Crossing, ...], tuple[str, ...]]:
        """The crossings from the crossing edge leaving ``at`` to the root, and the countries each enters."""
        names, parent, found = self._area.country_ids, self._tree.parent, []
        while at < self._n:
            a, b = names[self._codes[at]], names[self._codes[parent[at]]]
            kind = crossing_kind(a, b, self._area.kinds)
            found.append(Crossing(a, b, kind, getattr(self._profile.border_h, kind)))
            at = int(self._next_crossing[parent[at]])
        return tuple(found), tuple(c.to_country for c in found)

    def _region_chain(self, at: int) -> tuple[str, ...]:
        """The regions entered from the region edge leaving ``at`` to the root."""
        parent, entered = self._tree.parent, []
        while at < self._n:
            entered.append(self._area.region_ids[self._held[parent[at]]])
            at = int(self._next_region[parent[at]])
        return tuple(entered)


def air_facts(network: RoadNetwork, area: Area, paths: list[np.ndarray], *, flight_h: list[float]) -> list[RouteFacts]:
    """Countries, regions and crossings overflown, and hours in Ukraine and exposed, of flights.

    Parameters
    ----------
    network, area
        The boundaries (through the network) and the areas (``build_area``).
    paths
        Each flight's (lon, lat) points, from the site to the destination.
    flight_h
        Each flight's hours in the air (without the preparation on the ground).

    Returns
    -------
    list of RouteFacts
        One per flight. Crossings cost nothing; hours are the flight's share of its projected length inside
        each area. The points of all flights are tagged with countries at once.
    """
    if not paths:
        return []
    lines = area.projection.project(
        shapely.linestrings(np.vstack(paths), indices=np.repeat(np.arange(len(paths)), [len(p) for p in paths]))
    )
    every, which = shapely.get_coordinates(shapely.segmentize(lines, AIR_STEP_M), return_index=True)
    lon, lat = area.projection.to_deg.transform(every[:, 0], every[:, 1])
    lon, lat = np.asarray(lon), np.asarray(lat)
    country = tag_countries(lat, lon, network.boundaries, nearest=False)
    region = np.full(len(every), "", dtype=object)
    for region_id, geometry in area.regions.items():
        region[shapely.contains_xy(geometry, lon, lat)] = region_id
    countries_of = _runs_by_part(country, which, len(paths))
    regions_of = _runs_by_part(region, which, len(paths))
    length = shapely.length(lines)
    length = np.where(length > 0, length, 1.0)  # a flight of no length has nothing inside
    shares = [
        np.zeros(len(paths)) if geometry is None else _length_inside(lines, geometry) / length
        for geometry in (area.inside, area.exposed)
    ]
    found = []
    for i, hours in enumerate(flight_h):
        countries = countries_of[i]
        found.append(
            RouteFacts(
                countries,
                regions_of[i],
                _crossings(countries, None, area),
                float(shares[0][i]) * hours,
                float(shares[1][i]) * hours,
            )
        )
    return found


def _length_inside(lines: np.ndarray, area: shapely.Geometry) -> np.ndarray:
    """The length of each line inside the area (metres).

    GEOS intersects a line with the whole area, at a cost in proportion to all of its vertices (about 0.3 ms
    for Ukraine). For many lines the area is first cut into squares of ``TILE_M``, and each line is only
    intersected with the pieces it meets, each holding a few of the outline's vertices: about half the time.
    The pieces' lengths add up to the whole to rounding (a line running exactly along a square's side would
    count twice; no flight does).
    """
    if len(lines) < TILES_FROM_LINES:
        return shapely.length(shapely.intersection(lines, area))
    pieces = _tiles(area)
    line, piece = shapely.STRtree(pieces).query(lines, predicate="intersects")
    inside = shapely.length(shapely.intersection(lines[line], pieces[piece]))
    return np.bincount(line, weights=inside, minlength=len(lines))


def _tiles(area: shapely.Geometry) -> np.ndarray:
    """The polygons the area falls into in a grid of ``TILE_M`` squares over its bounds."""
    x0, y0, x1, y1 = area.bounds
    x, y = np.meshgrid(np.arange(x0, x1, TILE_M), np.arange(y0, y1, TILE_M))
    pieces = shapely.intersection(shapely.box(x.ravel(), y.ravel(), x.ravel() + TILE_M, y.ravel() + TILE_M), area)
    parts = shapely.get_parts(pieces)  # a square's piece may be several polygons, or touch it in a line
    return parts[shapely.get_type_id(parts) == shapely.GeometryType.POLYGON]


__all__ = [
    "KINDS",
    "Area",
    "RouteFacts",
    "TreeFacts",
    "TreeRoutes",
    "air_facts",
    "build_area",
    "edge_border_hours",
    "edge_gauge_hours",
    "road_facts",
]
