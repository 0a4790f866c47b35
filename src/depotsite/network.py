"""Travel times over the real OpenStreetMap road network (the only module that imports osmnx).

``load_network`` reads the shipped extract (``nodes.csv.gz``/``edges.csv.gz``) or a user's tagged
``.osm`` (through osmnx) or ``.osm.pbf`` (through pyosmium) file into arrays, each node tagged with its
country. ``travel_times`` removes avoided territory, snaps every site and destination to the road graph,
and runs one multi-source Dijkstra per profile from the destinations over the reversed graph
(``scipy.sparse.csgraph``), keeping predecessors so the routes used become LineStrings. Results are
cached on disk under a hash of everything they depend on.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import math
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from depotsite.errors import NetworkError
from depotsite.inputs import Inputs
from depotsite.scenario import Profile, Scenario
from depotsite.traveltimes import Leg, TravelTimes

log = logging.getLogger(__name__)

EARTH_RADIUS_KM = 6371.009  # the same mean radius osmnx uses
CACHE_FORMAT = 1
MIN_COMPONENT_NODES = 100  # smaller road fragments (islands without ferries) are never snapped to

# Speeds for OSM ways without a usable maxspeed tag, by highway class (km/h).
HIGHWAY_SPEED_KPH = {
    "motorway": 110, "motorway_link": 60, "trunk": 90, "trunk_link": 50, "primary": 80, "primary_link": 40,
    "secondary": 70, "secondary_link": 40, "tertiary": 60, "tertiary_link": 30, "unclassified": 50,
    "residential": 30, "living_street": 10, "service": 20, "track": 20, "road": 50,
}
DEFAULT_SPEED_KPH = 50.0


@dataclass(frozen=True)
class RoadNetwork:
    """A directed road graph in array form."""

    lat: np.ndarray
    lon: np.ndarray
    country: np.ndarray  # ISO code per node, "" where no boundary covers it
    u: np.ndarray  # edge tails (node positions)
    v: np.ndarray  # edge heads
    length_m: np.ndarray
    maxspeed_kph: np.ndarray  # per edge, NaN where the source has no speed information
    source: str
    boundaries: gpd.GeoDataFrame | None = None

    @property
    def n_nodes(self) -> int:
        return len(self.lat)


def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance in km (vectorised)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dlmb = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


# --- loading --------------------------------------------------------------------------------------------


def load_boundaries(path: Path) -> gpd.GeoDataFrame:
    frame = gpd.read_file(path)
    if "country_id" not in frame.columns:
        raise NetworkError([f"{path}: boundaries need a 'country_id' property on every feature"])
    return frame


def tag_countries(lat: np.ndarray, lon: np.ndarray, boundaries: gpd.GeoDataFrame | None, *,
                  nearest: bool = True) -> np.ndarray:
    """Country of each point; with ``nearest``, points outside every polygon (coasts) take the nearest."""
    country = np.full(len(lat), "", dtype=object)
    if boundaries is None or len(lat) == 0:
        return country
    points = shapely.points(lon, lat)
    tree = shapely.STRtree(boundaries.geometry.values)
    point_idx, poly_idx = tree.query(points, predicate="within")
    ids = boundaries["country_id"].to_numpy()
    country[point_idx] = ids[poly_idx]
    missing = np.flatnonzero(country == "")
    if nearest and len(missing):
        _, nearest = tree.query_nearest(points[missing], all_matches=False)
        country[missing[_]] = ids[nearest]
    return country


def _read_extract(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    nodes = pd.read_csv(folder / "nodes.csv.gz", dtype={"node_id": np.int64, "lat": float, "lon": float})
    edges = pd.read_csv(folder / "edges.csv.gz", dtype={"u": np.int64, "v": np.int64, "length_m": float})
    return nodes, edges


def _parse_maxspeed(value) -> float:
    """A maxspeed tag in km/h ('50', '30 mph', '50;70' takes the first); NaN if not a number."""
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    match = re.match(r"\s*(\d+(?:\.\d+)?)\s*(mph)?", str(value).split(";")[0])
    if not match:
        return math.nan
    speed = float(match.group(1))
    return speed * 1.609344 if match.group(2) else speed


def _class_speed(highway) -> float:
    if isinstance(highway, list):
        return max((HIGHWAY_SPEED_KPH.get(h, DEFAULT_SPEED_KPH) for h in highway), default=DEFAULT_SPEED_KPH)
    return float(HIGHWAY_SPEED_KPH.get(str(highway), DEFAULT_SPEED_KPH))


def _read_osm_xml(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    import osmnx as ox  # heavy import; only for user files

    if "maxspeed" not in ox.settings.useful_tags_way:
        ox.settings.useful_tags_way = [*ox.settings.useful_tags_way, "maxspeed"]
    graph = ox.graph_from_xml(path, simplify=False, retain_all=True)
    node_ids = list(graph.nodes)
    nodes = pd.DataFrame({"node_id": node_ids, "lat": [graph.nodes[n]["y"] for n in node_ids],
                          "lon": [graph.nodes[n]["x"] for n in node_ids]})
    rows = []
    for u, v, data in graph.edges(data=True):
        speed = _parse_maxspeed(data.get("maxspeed"))
        if math.isnan(speed):
            speed = _class_speed(data.get("highway"))
        rows.append((u, v, float(data["length"]), speed))
    edges = pd.DataFrame(rows, columns=["u", "v", "length_m", "maxspeed_kph"])
    return nodes, edges


def _read_osm_pbf(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    import osmium

    coords: dict[int, tuple[float, float]] = {}
    rows = []
    processor = osmium.FileProcessor(str(path)).with_locations().with_filter(osmium.filter.KeyFilter("highway"))
    for obj in processor:
        if not isinstance(obj, osmium.osm.Way):
            continue
        tags = dict(obj.tags)
        speed = _parse_maxspeed(tags.get("maxspeed"))
        if math.isnan(speed):
            speed = _class_speed(tags.get("highway"))
        oneway = tags.get("oneway") in ("yes", "true", "1")  # as osmnx reads it
        reverse_only = tags.get("oneway") == "-1"
        refs = [(n.ref, n.lat, n.lon) for n in obj.nodes if n.location.valid()]
        for (a, alat, alon), (b, blat, blon) in itertools.pairwise(refs):
            coords[a], coords[b] = (alat, alon), (blat, blon)
            metres = 1000.0 * float(haversine_km(alat, alon, blat, blon))
            if not reverse_only:
                rows.append((a, b, metres, speed))
            if not oneway or reverse_only:
                rows.append((b, a, metres, speed))
    nodes = pd.DataFrame([(n, lat, lon) for n, (lat, lon) in coords.items()], columns=["node_id", "lat", "lon"])
    return nodes, pd.DataFrame(rows, columns=["u", "v", "length_m", "maxspeed_kph"])


def road_files(roads: Path) -> list[Path]:
    """The files a road source consists of (hashed for the manifest and the cache key)."""
    roads = Path(roads)
    if roads.is_dir():
        return [roads / "nodes.csv.gz", roads / "edges.csv.gz"]
    return [roads]


def load_network(roads: Path, boundaries: Path | None) -> RoadNetwork:
    """Read a road source into arrays, both directions for the undirected extract.

    Parameters
    ----------
    roads
        The shipped extract's folder, or a tagged ``.osm`` / ``.osm.pbf`` file.
    boundaries
        GeoJSON of country polygons with a ``country_id`` property (used to tag nodes).
    """
    started = time.perf_counter()
    roads = Path(roads)
    missing = [str(p) for p in road_files(roads) if not p.is_file()]
    if missing:
        raise NetworkError([f"{p}: road file not found; check [data] roads in the scenario" for p in missing])
    name = roads.name.lower()
    if roads.is_dir():
        nodes, edges = _read_extract(roads)
        directed = False
    elif name.endswith(".osm.pbf") or name.endswith(".pbf"):
        nodes, edges = _read_osm_pbf(roads)
        directed = True
    elif name.endswith(".osm") or name.endswith(".xml"):
        nodes, edges = _read_osm_xml(roads)
        directed = True
    else:
        raise NetworkError([f"{roads}: unknown road source; give the extract folder, a .osm or a .osm.pbf file"])
    position = pd.Series(np.arange(len(nodes)), index=nodes["node_id"].to_numpy())
    u = position.reindex(edges["u"].to_numpy()).to_numpy()
    v = position.reindex(edges["v"].to_numpy()).to_numpy()
    if np.isnan(u.astype(float)).any() or np.isnan(v.astype(float)).any():
        raise NetworkError([f"{roads}: some edges name nodes that the node table does not have"])
    length = edges["length_m"].to_numpy(dtype=float)
    speed = edges["maxspeed_kph"].to_numpy(dtype=float) if "maxspeed_kph" in edges else np.full(len(edges), np.nan)
    if not directed:
        u, v = np.concatenate([u, v]), np.concatenate([v, u])
        length, speed = np.concatenate([length, length]), np.concatenate([speed, speed])
    lat, lon = nodes["lat"].to_numpy(dtype=float), nodes["lon"].to_numpy(dtype=float)
    frame = load_boundaries(boundaries) if boundaries else None
    country = tag_countries(lat, lon, frame)
    network = RoadNetwork(lat=lat, lon=lon, country=country, u=u.astype(np.int64), v=v.astype(np.int64),
                          length_m=length, maxspeed_kph=speed, source=str(roads), boundaries=frame)
    log.info("load_network read %s nodes and %s directed edges from %s in %.2f s", f"{network.n_nodes:,}",
             f"{len(network.u):,}", roads.name, time.perf_counter() - started)
    return network


def to_networkx(network: RoadNetwork) -> nx.MultiDiGraph:
    """The network as an osmnx ``MultiDiGraph`` (built by ``osmnx.convert.graph_from_gdfs``).

    Nodes carry ``x``, ``y`` and ``country``; edges ``length`` (metres), ``maxspeed_kph`` and a straight
    ``geometry``; the graph's CRS is EPSG:4326. For analysts and the per-pair baseline; routing itself
    runs on the arrays.
    """
    import osmnx as ox

    nodes = gpd.GeoDataFrame({"x": network.lon, "y": network.lat, "country": network.country},
                             geometry=gpd.points_from_xy(network.lon, network.lat), crs="EPSG:4326")
    nodes.index.name = "osmid"
    ends = np.stack([np.column_stack([network.lon[network.u], network.lat[network.u]]),
                     np.column_stack([network.lon[network.v], network.lat[network.v]])], axis=1)
    edges = gpd.GeoDataFrame({"u": network.u, "v": network.v, "length": network.length_m,
                              "maxspeed_kph": network.maxspeed_kph}, geometry=shapely.linestrings(ends),
                             crs="EPSG:4326")
    edges["key"] = edges.groupby(["u", "v"]).cumcount()
    return ox.convert.graph_from_gdfs(nodes, edges.set_index(["u", "v", "key"]))


# --- routing --------------------------------------------------------------------------------------------


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


def _edge_hours(network: RoadNetwork, profile: Profile) -> np.ndarray:
    speed = np.fmin(profile.speed_kph, np.where(np.isnan(network.maxspeed_kph), np.inf, network.maxspeed_kph))
    return network.length_m / 1000.0 / speed


def _march_h(driving_h: float, profile: Profile) -> float:
    """Rest stops: ``rest_h`` after each full ``max_driving_h_per_day`` of driving."""
    if profile.max_driving_h_per_day is None:
        return 0.0
    full_days = math.floor(driving_h / profile.max_driving_h_per_day - 1e-9)
    return max(full_days, 0) * profile.rest_h


def _walk(pred_row: np.ndarray, start: int) -> list[int]:
    path = [start]
    while pred_row[path[-1]] >= 0:
        path.append(int(pred_row[path[-1]]))
    return path


@dataclass(frozen=True)
class _ProfileGraph:
    """One profile's forward edges (parallel edges reduced to the fastest) as arrays and CSR lookups."""

    reverse: csr_matrix  # weights on reversed edges, for Dijkstra from the destinations
    hours: csr_matrix  # forward driving hours per edge
    length_km: csr_matrix


def _profile_graph(network: RoadNetwork, kept: np.ndarray, profile: Profile) -> _ProfileGraph:
    n = network.n_nodes
    u, v = network.u[kept], network.v[kept]
    hours = _edge_hours(network, profile)[kept]
    crossing = network.country[u] != network.country[v]
    weight = hours + profile.border_crossing_h * crossing
    order = np.lexsort((weight, v, u))
    u, v, weight, hours, km = u[order], v[order], weight[order], hours[order], network.length_m[kept][order] / 1000
    first = np.ones(len(u), dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    u, v, weight, hours, km = u[first], v[first], weight[first], hours[first], km[first]
    tiny = 1e-9  # scipy drops explicit zeros; a zero-length edge must still connect
    return _ProfileGraph(
        reverse=csr_matrix((weight + tiny, (v, u)), shape=(n, n)),
        hours=csr_matrix((hours + tiny, (u, v)), shape=(n, n)),
        length_km=csr_matrix((km + tiny, (u, v)), shape=(n, n)),
    )


def _along(matrix: csr_matrix, steps: np.ndarray) -> float:
    if len(steps) < 2:
        return 0.0
    return float(np.asarray(matrix[steps[:-1], steps[1:]]).sum())


def route_legs(network: RoadNetwork, inputs: Inputs, scenario: Scenario) -> tuple[dict, dict, list[str]]:
    """Legs of every (site, destination, profile) pair, the unreachable pairs with reasons, and warnings."""
    avoid = sorted(set(scenario.network.avoid_countries))
    keep = ~np.isin(network.country.astype(str), avoid)
    kept_edges = keep[network.u] & keep[network.v]
    n = network.n_nodes
    structure = csr_matrix((np.ones(kept_edges.sum()), (network.u[kept_edges], network.v[kept_edges])), shape=(n, n))
    _, component = connected_components(structure, directed=True, connection="strong")

    sites, dests = list(inputs.sites.values()), list(inputs.destinations.values())
    ids = [s.site_id for s in sites] + [d.destination_id for d in dests]
    lat = np.array([s.lat for s in sites] + [d.lat for d in dests])
    lon = np.array([s.lon for s in sites] + [d.lon for d in dests])
    inside = tag_countries(lat, lon, network.boundaries, nearest=False)
    in_avoided = np.where(np.isin(inside.astype(str), avoid), inside, "")
    snap = _snap(network, keep, component, lat, lon, in_avoided)
    warnings = [
        f"{point_id} is {snap.km[i]:.1f} km from the nearest road of the network; its times include an "
        "access leg of that length"
        for i, point_id in enumerate(ids) if snap.node[i] >= 0 and snap.km[i] > scenario.network.snap_warn_km
    ]
    index = {point_id: i for i, point_id in enumerate(ids)}

    legs: dict[tuple[str, str, str], Leg] = {}
    unreachable: dict[tuple[str, str, str], str] = {}
    for name in sorted({inputs.systems[w].profile for w in inputs.systems}):
        profile = scenario.network.profiles[name]
        if profile.mode == "air":
            for s in sites:
                for d in dests:
                    if s.kind == "air_base" and d.kind == "air_base":
                        km = float(haversine_km(s.lat, s.lon, d.lat, d.lon))
                        legs[s.site_id, d.destination_id, name] = Leg(
                            hours=km / profile.cruise_kph + profile.prep_h, profile=name,
                            path=np.array([[s.lon, s.lat], [d.lon, d.lat]]))
            continue
        graph = _profile_graph(network, kept_edges, profile)
        target_nodes = np.unique([snap.node[index[d.destination_id]] for d in dests
                                  if snap.node[index[d.destination_id]] >= 0]).astype(np.int64)
        row_of = {int(t): r for r, t in enumerate(target_nodes)}
        if len(target_nodes):
            dist, pred = dijkstra(graph.reverse, directed=True, indices=target_nodes, return_predecessors=True)
        for d in dests:
            di = index[d.destination_id]
            for s in sites:
                si = index[s.site_id]
                key = (s.site_id, d.destination_id, name)
                if snap.node[si] < 0 or snap.node[di] < 0:
                    who = si if snap.node[si] < 0 else di
                    unreachable[key] = f"{ids[who]} {snap.reason[who]}"
                    continue
                row = row_of[int(snap.node[di])]
                if not np.isfinite(dist[row, snap.node[si]]):
                    unreachable[key] = (f"no road from {s.site_id} to {d.destination_id} that avoids "
                                        f"{', '.join(avoid) or 'nothing'}")
                    continue
                steps = np.array(_walk(pred[row], int(snap.node[si])))
                borders = int(np.count_nonzero(network.country[steps[:-1]] != network.country[steps[1:]]))
                access_km = float(snap.km[si] + snap.km[di])
                driving = _along(graph.hours, steps) + access_km / profile.access_speed_kph
                coords = np.vstack([[s.lon, s.lat], np.column_stack([network.lon[steps], network.lat[steps]]),
                                    [d.lon, d.lat]])
                legs[key] = Leg(
                    hours=driving + _march_h(driving, profile) + borders * profile.border_crossing_h,
                    profile=name, road_km=_along(graph.length_km, steps) + access_km,
                    borders_crossed=borders, snap_km=access_km, path=coords,
                )
    return legs, unreachable, warnings


# --- the stage function and its cache -------------------------------------------------------------------


def _file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def cache_key(inputs: Inputs, scenario: Scenario) -> str:
    """Hash of everything a matrix depends on: road and boundary files, profiles, avoidance, points."""
    data = scenario.data
    assert data.roads is not None and data.boundaries is not None
    payload = {
        "format": CACHE_FORMAT,
        "roads": [_file_digest(p) for p in road_files(data.roads)],
        "boundaries": _file_digest(data.boundaries),
        "profiles": {k: v.model_dump(mode="json") for k, v in sorted(scenario.network.profiles.items())},
        "avoid": sorted(scenario.network.avoid_countries),
        "snap_warn_km": scenario.network.snap_warn_km,
        "sites": [(s.site_id, s.lat, s.lon, s.kind) for s in inputs.sites.values()],
        "destinations": [(d.destination_id, d.lat, d.lon, d.kind) for d in inputs.destinations.values()],
        "systems": sorted((w.system_id, w.profile) for w in inputs.systems.values()),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def cache_dir() -> Path:
    """``$DEPOTSITE_CACHE``, else ``$XDG_CACHE_HOME/depotsite``, else ``~/.cache/depotsite``."""
    if os.environ.get("DEPOTSITE_CACHE"):
        return Path(os.environ["DEPOTSITE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "depotsite"


def _save(path: Path, legs: dict, unreachable: dict, warnings: list[str]) -> None:
    keys = list(legs)
    lengths = np.array([len(legs[k].path) for k in keys], dtype=np.int64)
    coords = np.concatenate([legs[k].path for k in keys]) if keys else np.empty((0, 2))
    meta = {
        "keys": keys, "profiles": [legs[k].profile for k in keys],
        "unreachable": [[*k, r] for k, r in unreachable.items()], "warnings": warnings,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez_compressed(
        tmp, meta=np.array(json.dumps(meta)), hours=np.array([legs[k].hours for k in keys]),
        road_km=np.array([np.nan if legs[k].road_km is None else legs[k].road_km for k in keys]),
        borders=np.array([legs[k].borders_crossed for k in keys]), snap_km=np.array([legs[k].snap_km for k in keys]),
        path_len=lengths, coords=coords,
    )
    os.replace(tmp, path)  # readers never see a half-written cache file


def _load(path: Path) -> tuple[dict, dict, list[str]]:
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}  # each data[name] access re-reads the zip member
    meta = json.loads(str(arrays["meta"]))
    offsets = np.concatenate([[0], np.cumsum(arrays["path_len"])]).tolist()
    coords = arrays["coords"]
    hours, road_km = arrays["hours"].tolist(), arrays["road_km"].tolist()
    borders, snap_km = arrays["borders"].tolist(), arrays["snap_km"].tolist()
    legs = {
        tuple(key): Leg(
            hours=hours[i], profile=meta["profiles"][i], road_km=None if math.isnan(road_km[i]) else road_km[i],
            borders_crossed=int(borders[i]), snap_km=snap_km[i], path=coords[offsets[i]:offsets[i + 1]],
        )
        for i, key in enumerate(meta["keys"])
    }
    unreachable = {tuple(row[:3]): row[3] for row in meta["unreachable"]}
    return legs, unreachable, list(meta["warnings"])


def travel_times(inputs: Inputs, scenario: Scenario, *, use_cache: bool = True) -> TravelTimes:
    """Transit hours for every (site, destination, system) pair from the scenario's road network.

    Raises
    ------
    NetworkError
        When the road or boundary files are missing or unreadable.
    """
    started = time.perf_counter()
    data = scenario.data
    if data.roads is None or data.boundaries is None:
        raise NetworkError(["name [data] roads and [data] boundaries, or a [data] travel_times matrix"])
    problems = []
    if not Path(data.roads).exists():
        problems.append(f"{data.roads}: road source not found; set [data] roads to the extract folder "
                        "(nodes.csv.gz, edges.csv.gz) or to a .osm / .osm.pbf file")
    else:
        problems += [f"{p}: file not found; check [data] roads" for p in road_files(data.roads) if not p.is_file()]
    if not Path(data.boundaries).is_file():
        problems.append(f"{data.boundaries}: file not found; check [data] boundaries")
    if problems:
        raise NetworkError(problems)
    key = cache_key(inputs, scenario)
    cached = cache_dir() / f"travel-{key[:32]}.npz"
    source = "cache"
    if use_cache and cached.is_file():
        legs, unreachable, warnings = _load(cached)
    else:
        network = load_network(data.roads, data.boundaries)
        legs, unreachable, warnings = route_legs(network, inputs, scenario)
        source = "roads"
        if use_cache:
            _save(cached, legs, unreachable, warnings)
    for warning in warnings:
        log.info(warning)  # kept in TravelTimes.warnings; the CLI prints them once, with the results
    by_system, lost = {}, {}
    for w, system in inputs.systems.items():
        for (s, d, name), leg in legs.items():
            if name == system.profile:
                by_system[s, d, w] = leg
        for (s, d, name), reason in unreachable.items():
            if name == system.profile:
                lost[s, d, w] = reason
    log.info("travel_times: %d reachable and %d unreachable pairs from %s in %.2f s", len(by_system), len(lost),
             source, time.perf_counter() - started)
    return TravelTimes(legs=MappingProxyType(by_system), unreachable=MappingProxyType(lost),
                       source=f"{data.roads} ({source})", warnings=tuple(warnings))
