"""The road graph: the shipped extract or a user's tagged OSM file, as arrays tagged with countries."""

import itertools
import logging
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from depotsite.errors import NetworkError
from depotsite.network.files import road_files
from depotsite.tables import unreadable

log = logging.getLogger(__name__)

EARTH_RADIUS_KM = 6371.009  # the same mean radius osmnx uses
HIGHWAY_SPEED_KPH = {
    "motorway": 110,
    "motorway_link": 60,
    "trunk": 90,
    "trunk_link": 50,
    "primary": 80,
    "primary_link": 40,
    "secondary": 70,
    "secondary_link": 40,
    "tertiary": 60,
    "tertiary_link": 30,
    "unclassified": 50,
    "residential": 30,
    "living_street": 10,
    "service": 20,
    "track": 20,
    "road": 50,
}
DEFAULT_SPEED_KPH = 50.0


@dataclass(frozen=True)
class RoadNetwork:
    """A directed road graph in array form.

    Arrays rather than a networkx graph because routing builds scipy sparse matrices straight from them
    (``to_networkx`` converts for analysts). Nodes are numbered by position; edge i runs ``u[i]`` -> ``v[i]``.
    """

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
        """Number of nodes (the length of the node arrays)."""
        return len(self.lat)


def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance in km (vectorised), on the mean Earth radius ``EARTH_RADIUS_KM``.

    Parameters
    ----------
    lat1, lon1, lat2, lon2
        Degrees: scalars or arrays that broadcast together.

    Returns
    -------
    float or numpy.ndarray
        Kilometres, one per broadcast pair of points.
    """
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dlmb = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


# --- loading ---------------------------------------------------------------------------------------------


def load_boundaries(path: Path) -> gpd.GeoDataFrame:
    """Read the country polygons that tag nodes and points with a country.

    Parameters
    ----------
    path
        A file geopandas reads (GeoJSON) with a ``country_id`` property on its features.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per feature, as read.

    Raises
    ------
    NetworkError
        When there is no ``country_id`` column.
    """
    frame = gpd.read_file(path)
    if "country_id" not in frame.columns:
        raise NetworkError([f"{path}: boundaries need a 'country_id' property on every feature"])
    return frame


def tag_countries(
    lat: np.ndarray, lon: np.ndarray, boundaries: gpd.GeoDataFrame | None, *, nearest: bool = True
) -> np.ndarray:
    """Country of each point; with ``nearest``, points outside every polygon (coasts) take the nearest.

    Road nodes are tagged with ``nearest`` so that a coastal road outside a simplified polygon still counts
    its border crossings; sites and destinations are tagged without, to tell who lies in avoided territory.

    Parameters
    ----------
    lat, lon
        Coordinates in degrees, one per point.
    boundaries
        Country polygons with a ``country_id`` column, or None.
    nearest
        Give a point within no polygon the ``country_id`` of the nearest polygon.

    Returns
    -------
    numpy.ndarray
        Object array of country ids, one per point; "" where no polygon covers the point (and ``nearest``
        is off), and everywhere when ``boundaries`` is None.
    """
    country = np.full(len(lat), "", dtype=object)
    if boundaries is None or len(lat) == 0:
        return country
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    ids = boundaries["country_id"].to_numpy()
    # each polygon prepared and tested on the points in its bounding box: 30x faster than an STRtree query
    # with the "within" predicate (which prepares nothing); a point inside no polygon keeps ""
    for i, geometry in enumerate(boundaries.geometry.values):
        if geometry is None or geometry.is_empty:
            continue
        west, south, east, north = geometry.bounds
        box = np.flatnonzero((lon >= west) & (lon <= east) & (lat >= south) & (lat <= north))
        if len(box):
            shapely.prepare(geometry)
            country[box[shapely.contains_xy(geometry, lon[box], lat[box])]] = ids[i]
    missing = np.flatnonzero(country == "")
    if nearest and len(missing):
        tree = shapely.STRtree(boundaries.geometry.values)
        _, nearest = tree.query_nearest(shapely.points(lon[missing], lat[missing]), all_matches=False)
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
    """Node and edge tables of a ``.osm`` file through osmnx (unsimplified); speed from maxspeed or class."""
    from xml.etree.ElementTree import ParseError

    import osmnx as ox  # heavy import; only for user files

    if "maxspeed" not in ox.settings.useful_tags_way:
        ox.settings.useful_tags_way = [*ox.settings.useful_tags_way, "maxspeed"]
    try:
        graph = ox.graph_from_xml(path, simplify=False, retain_all=True)
    except ParseError as exc:  # a SyntaxError, which the command line would report as an internal error
        raise NetworkError(
            [f"{path}: road file is not OpenStreetMap XML ({exc}); give a .osm export, a .osm.pbf or an extract"]
        ) from None
    except ox._errors.InsufficientResponseError:
        raise NetworkError(
            [f"{path}: road file holds no OpenStreetMap nodes or ways; export an area with roads into it"]
        ) from None
    node_ids = list(graph.nodes)
    nodes = pd.DataFrame(
        {
            "node_id": node_ids,
            "lat": [graph.nodes[n]["y"] for n in node_ids],
            "lon": [graph.nodes[n]["x"] for n in node_ids],
        }
    )
    rows = []
    for u, v, data in graph.edges(data=True):
        speed = _parse_maxspeed(data.get("maxspeed"))
        if math.isnan(speed):
            speed = _class_speed(data.get("highway"))
        rows.append((u, v, float(data["length"]), speed))
    edges = pd.DataFrame(rows, columns=["u", "v", "length_m", "maxspeed_kph"])
    return nodes, edges


def _read_osm_pbf(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Node and edge tables of the highway ways of a ``.osm.pbf`` file through pyosmium, one edge per segment.

    Segment lengths are great-circle metres; ``oneway`` yes/true/1 keeps the way's direction only, -1 the
    reverse only, anything else both.
    """
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


def load_network(roads: Path, boundaries: Path | None, *, frame: gpd.GeoDataFrame | None = None) -> RoadNetwork:
    """Read a road source into arrays, both directions for the undirected extract.

    The road files are checked to be regular files before any is opened (a FIFO would block); the source
    kind is told by the path: a folder, ``.osm.pbf`` / ``.pbf``, or ``.osm`` / ``.xml``.

    Parameters
    ----------
    roads
        The shipped extract's folder, or a tagged ``.osm`` / ``.osm.pbf`` file.
    boundaries
        GeoJSON of country polygons with a ``country_id`` property (used to tag nodes, each with the
        nearest country when outside all), or None to leave nodes untagged.
    frame
        The same boundaries already read (another network's ``boundaries``), used instead of reading the
        file again.

    Returns
    -------
    RoadNetwork
        Nodes, directed edges with length in metres and maxspeed in km/h (NaN where unknown; the OSM files
        fall back to a speed per road class), and the boundaries.

    Raises
    ------
    NetworkError
        When a road file is not a readable regular file, the source kind is unknown, an edge names a node
        the node table lacks, or the boundaries have no ``country_id``.
    """
    started = time.perf_counter()
    roads = Path(roads)
    bad = [(p, reason) for p in road_files(roads) if (reason := unreadable(p)) is not None]  # a FIFO would block
    if bad:
        raise NetworkError([f"{p}: road file {reason}; check [data] roads in the scenario" for p, reason in bad])
    name = roads.name.lower()
    try:
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
    except NetworkError:
        raise
    except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:  # what pandas, gzip, osmnx, osmium raise
        raise NetworkError(
            [
                f"{roads}: road data cannot be read ({type(exc).__name__}: {exc}); give the extract folder "
                "(nodes.csv.gz, edges.csv.gz as data/README.md describes), a .osm or a .osm.pbf file"
            ]
        ) from None
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
    if frame is None and boundaries:
        frame = load_boundaries(boundaries)
    country = tag_countries(lat, lon, frame)
    network = RoadNetwork(
        lat=lat,
        lon=lon,
        country=country,
        u=u.astype(np.int64),
        v=v.astype(np.int64),
        length_m=length,
        maxspeed_kph=speed,
        source=str(roads),
        boundaries=frame,
    )
    log.info(
        "load_network read %s nodes and %s directed edges from %s in %.2f s",
        f"{network.n_nodes:,}",
        f"{len(network.u):,}",
        roads.name,
        time.perf_counter() - started,
    )
    return network


def to_networkx(network: RoadNetwork) -> nx.MultiDiGraph:
    """The network as an osmnx ``MultiDiGraph`` (built by ``osmnx.convert.graph_from_gdfs``).

    Nodes carry ``x``, ``y`` and ``country``; edges ``length`` (metres), ``maxspeed_kph`` and a straight
    ``geometry``; the graph's CRS is EPSG:4326. For analysts and the per-pair baseline; routing itself
    runs on the arrays.

    Parameters
    ----------
    network
        The road network in array form.

    Returns
    -------
    networkx.MultiDiGraph
        Nodes keyed by position (``osmid``), edges keyed ``(u, v, key)`` with parallel edges numbered.
    """
    import osmnx as ox

    nodes = gpd.GeoDataFrame(
        {"x": network.lon, "y": network.lat, "country": network.country},
        geometry=gpd.points_from_xy(network.lon, network.lat),
        crs="EPSG:4326",
    )
    nodes.index.name = "osmid"
    ends = np.stack(
        [
            np.column_stack([network.lon[network.u], network.lat[network.u]]),
            np.column_stack([network.lon[network.v], network.lat[network.v]]),
        ],
        axis=1,
    )
    edges = gpd.GeoDataFrame(
        {"u": network.u, "v": network.v, "length": network.length_m, "maxspeed_kph": network.maxspeed_kph},
        geometry=shapely.linestrings(ends),
        crs="EPSG:4326",
    )
    edges["key"] = edges.groupby(["u", "v"]).cumcount()
    return ox.convert.graph_from_gdfs(nodes, edges.set_index(["u", "v", "key"]))
