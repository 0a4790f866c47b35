"""Ferry flights around closed airspace: the avoided countries and regions, kept at a margin.

The closed area is the union of the avoided polygons in the LAEA Europe projection (EPSG:3035, metres),
buffered by ``[network] airspace_margin_km``. A flight whose straight leg stays out of it flies the great
circle. Otherwise it takes the shortest path of a visibility graph: its nodes are the two ends and the
convex corners of the closed area's outline (pushed a little outward and simplified to a few kilometres,
within reach of the flights; a shortest path turns at no other vertex), its edges the straight legs between
them that do not enter the closed area, and the path's length is measured on the WGS84 ellipsoid. Straight
lines in this projection stay within a few kilometres of the great circle over the distances flown here. A
flight with no such path is unreachable.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely
from pyproj import Geod
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.geometry.polygon import orient

from depotsite.network import laea

OUTLINE_OFFSET_M = 5_000.0  # the graph's vertices lie this far outside the closed area
SIMPLIFY_M = 3_000.0  # the outline's tolerance: its chords stay 2 km outside, so neighbours see each other
GRAZE_M = 500.0  # a leg may graze the closed area by this much (the outline's own simplification)
REACH_M = 600_000.0  # outline vertices farther than this from every flight's ends are left out
_TO_M, _TO_DEG = laea.transformers(**laea.EPSG_3035)  # lon/lat <-> EPSG:3035 metres
_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class Airspace:
    """The closed area (metres, EPSG:3035) and the visibility graph among its outline's vertices."""

    closed: shapely.Geometry  # the area a leg must not enter (already shrunk by GRAZE_M), prepared
    vertices: np.ndarray  # (n, 2) outline vertices in metres
    graph: csr_matrix  # metres between vertices that see each other

    def blocked(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Whether each straight leg a[i] -> b[i] (metres) enters the closed area."""
        legs = shapely.linestrings(np.stack([a, b], axis=1))
        return shapely.intersects(self.closed, legs)  # the prepared area first: GEOS uses its index

    @cached_property
    def between(self) -> tuple[np.ndarray, np.ndarray]:
        """Metres of the shortest way between every two vertices, and each way's predecessors (Dijkstra)."""
        return dijkstra(self.graph, directed=False, return_predecessors=True)

    def sight(self, places: np.ndarray) -> np.ndarray:
        """Which vertices each place (metres, one per row) sees: an (places, vertices) boolean array, a row
        of False for a place inside the closed area."""
        n = len(self.vertices)
        if not len(places) or not n:
            return np.zeros((len(places), n), dtype=bool)
        free = ~self.blocked(np.repeat(places, n, axis=0), np.tile(self.vertices, (len(places), 1)))
        free = free.reshape(len(places), n)
        free[shapely.intersects(self.closed, shapely.points(places))] = False
        return free


def closed_airspace(polygons: list, *, margin_km: float, ends_lonlat: np.ndarray) -> Airspace | None:
    """The closed area of ``polygons`` (longitude/latitude) buffered by ``margin_km``, with its graph.

    Parameters
    ----------
    polygons
        The avoided countries' and regions' polygons.
    margin_km
        How far flights keep from them.
    ends_lonlat
        (n, 2) longitude/latitude of every place a flight starts or ends: outline vertices farther than
        ``REACH_M`` from all of them are left out of the graph.

    Returns
    -------
    Airspace or None
        None when nothing is avoided.
    """
    if not polygons:
        return None
    area = shapely.union_all([shapely.transform(p, _to_m, interleaved=False) for p in polygons])
    area = area.buffer(margin_km * 1000.0)
    outline = area.buffer(OUTLINE_OFFSET_M).simplify(SIMPLIFY_M)
    ends = np.column_stack(_to_m(ends_lonlat[:, 0], ends_lonlat[:, 1]))
    box = shapely.box(*ends.min(axis=0) - REACH_M, *ends.max(axis=0) + REACH_M)
    rings = [ring for part in shapely.get_parts(outline) for ring in (orient(part).exterior, *orient(part).interiors)]
    points = np.vstack([_convex_corners(ring) for ring in rings]) if rings else np.empty((0, 2))
    points = points[shapely.contains_xy(box, points[:, 0], points[:, 1])]
    closed = area.buffer(-GRAZE_M)
    shapely.prepare(closed)
    n = len(points)
    i, j = np.triu_indices(n, k=1)
    free = ~shapely.intersects(closed, shapely.linestrings(np.stack([points[i], points[j]], axis=1))) if n else []
    i, j = i[free], j[free]
    metres = np.hypot(*(points[i] - points[j]).T)
    graph = csr_matrix((np.r_[metres, metres], (np.r_[i, j], np.r_[j, i])), shape=(n, n))
    return Airspace(closed=closed, vertices=points, graph=graph)


def _convex_corners(ring: shapely.LinearRing) -> np.ndarray:
    """The vertices of a ring (of a polygon oriented with its interior on the left) where the polygon's interior
    angle is under 180 degrees: a shortest path round the polygon only ever turns at those, so the others
    would add edges to the visibility graph (and its cost, quadratic in the vertices) that no path uses."""
    corners = np.asarray(ring.coords)[:-1, :2]
    before, after = np.roll(corners, 1, axis=0), np.roll(corners, -1, axis=0)
    turn = (corners[:, 0] - before[:, 0]) * (after[:, 1] - corners[:, 1]) - (corners[:, 1] - before[:, 1]) * (
        after[:, 0] - corners[:, 0]
    )
    return corners[turn > 0]


def _to_m(lon, lat):
    return _TO_M.transform(lon, lat)


def flight_path(airspace: Airspace | None, lon1: float, lat1: float, lon2: float, lat2: float) -> np.ndarray | None:
    """The (lon, lat) corners of the shortest flight between two places that keeps out of the closed area
    (``flight_paths`` for one flight)."""
    return flight_paths(airspace, np.array([[lon1, lat1]]), np.array([[lon2, lat2]]))[0]


def flight_paths(airspace: Airspace | None, starts: np.ndarray, ends: np.ndarray) -> list[np.ndarray | None]:
    """The (lon, lat) corners of the shortest flight from each ``starts[i]`` to ``ends[i]`` that keeps out of
    the closed area.

    A flight whose straight leg is blocked leaves its start for a vertex it sees, follows the visibility
    graph's shortest way to a vertex its end sees, and flies on to its end: the shortest of these over every
    such pair of vertices (the graph's ways are worked out once, for all flights; each end's best way on from
    every vertex once per end).

    Parameters
    ----------
    airspace
        From ``closed_airspace``; None for no closed area (every flight direct).
    starts, ends
        (k, 2) longitude/latitude of each flight's two places, in degrees.

    Returns
    -------
    list of numpy.ndarray or None
        Per flight, (m, 2) corners with its two places exactly as given (two rows for a direct leg); None when
        no way round exists or a place lies inside the closed area.
    """
    starts, ends = np.asarray(starts, dtype=float).reshape(-1, 2), np.asarray(ends, dtype=float).reshape(-1, 2)
    found: list[np.ndarray | None] = [np.array([a, b]) for a, b in zip(starts, ends, strict=True)]
    if airspace is None or not len(starts):
        return found
    a_m = np.column_stack(_to_m(starts[:, 0], starts[:, 1]))
    b_m = np.column_stack(_to_m(ends[:, 0], ends[:, 1]))
    blocked = airspace.blocked(a_m, b_m)
    if not len(airspace.vertices):  # nowhere to turn: a blocked flight has no way round
        return [None if cut else path for cut, path in zip(blocked, found, strict=True)]
    round_about = np.flatnonzero(blocked)
    places, code = np.unique(np.vstack([a_m[round_about], b_m[round_about]]), axis=0, return_inverse=True)
    code = code.reshape(2, -1)
    seen = airspace.sight(places)
    span = np.where(seen, np.hypot(*(places[:, None, :] - airspace.vertices[None, :, :]).transpose(2, 0, 1)), np.inf)
    metres, pred = airspace.between
    for end in np.unique(code[1]):
        # on[i]: the shortest way from vertex i to this end, through the vertex ``last[i]`` the end sees
        via = metres + span[end][None, :]
        last = np.argmin(via, axis=1)
        on = via[np.arange(len(last)), last]
        flights = np.flatnonzero(code[1] == end)
        total = span[code[0, flights]] + on[None, :]
        first = np.argmin(total, axis=1)
        for row, (flight, i) in enumerate(zip(round_about[flights], first, strict=True)):
            if np.isfinite(total[row, i]):
                found[flight] = _corners(airspace, pred, int(i), int(last[i]), starts[flight], ends[flight])
            else:
                found[flight] = None
    return found


def _corners(airspace: Airspace, pred: np.ndarray, first: int, last: int, start: np.ndarray, end: np.ndarray):
    """The flight's corners: its start, the graph's vertices from ``first`` to ``last``, its end (lon, lat)."""
    order, node = [last], last
    while node != first:
        node = int(pred[first, node])
        order.append(node)
    turns = airspace.vertices[order[::-1]]
    lon, lat = _TO_DEG.transform(turns[:, 0], turns[:, 1])
    return np.vstack([start, np.column_stack([lon, lat]), end])  # the ends exactly as given


def path_km(corners: np.ndarray) -> float:
    """Length of a flight through its corners, each leg a geodesic on the WGS84 ellipsoid, in km."""
    return float(_GEOD.line_length(corners[:, 0], corners[:, 1])) / 1000.0
