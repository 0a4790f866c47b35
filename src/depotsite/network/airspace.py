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

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import shapely
from pyproj import Geod, Transformer
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.geometry.polygon import orient

OUTLINE_OFFSET_M = 5_000.0  # the graph's vertices lie this far outside the closed area
SIMPLIFY_M = 3_000.0  # the outline's tolerance: its chords stay 2 km outside, so neighbours see each other
GRAZE_M = 500.0  # a leg may graze the closed area by this much (the outline's own simplification)
REACH_M = 600_000.0  # outline vertices farther than this from every flight's ends are left out
_TO_M = Transformer.from_crs(4326, 3035, always_xy=True)
_TO_DEG = Transformer.from_crs(3035, 4326, always_xy=True)
_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class Airspace:
    """The closed area (metres, EPSG:3035) and the visibility graph among its outline's vertices."""

    closed: shapely.Geometry  # the area a leg must not enter (already shrunk by GRAZE_M)
    vertices: np.ndarray  # (n, 2) outline vertices in metres
    graph: csr_matrix  # metres between vertices that see each other
    _sight: dict[bytes, np.ndarray | None] = field(default_factory=dict, compare=False, repr=False)

    def blocked(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Whether each straight leg a[i] -> b[i] (metres) enters the closed area."""
        legs = shapely.linestrings(np.stack([a, b], axis=1))
        return shapely.intersects(legs, self.closed)

    @cached_property
    def padded(self) -> csr_matrix:
        """The graph with two more nodes (rows and columns ``n`` and ``n + 1``) for a flight's two ends."""
        n = len(self.vertices)
        known = self.graph.tocoo()
        return csr_matrix((known.data, (known.row, known.col)), shape=(n + 2, n + 2))

    def sight(self, end: np.ndarray) -> np.ndarray | None:
        """The vertices a place (metres) sees, by position; None when it lies inside the closed area.

        Worked out once per place: an air base starts or ends many flights.
        """
        key = end.tobytes()
        if key not in self._sight:
            inside = bool(shapely.intersects(shapely.points(end), self.closed))
            n = len(self.vertices)
            self._sight[key] = (
                None if inside else np.flatnonzero(~self.blocked(np.repeat(end[None], n, axis=0), self.vertices))
            )
        return self._sight[key]


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
    free = ~shapely.intersects(shapely.linestrings(np.stack([points[i], points[j]], axis=1)), closed) if n else []
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
    """The (lon, lat) corners of the shortest flight between two places that keeps out of the closed area.

    Parameters
    ----------
    airspace
        From ``closed_airspace``; None for no closed area (the direct leg).
    lon1, lat1, lon2, lat2
        The two places, in degrees.

    Returns
    -------
    numpy.ndarray or None
        (k, 2) corners, the ends included (two rows for a direct leg); None when no path exists or an end
        lies inside the closed area.
    """
    ends = np.column_stack(_to_m(np.array([lon1, lon2]), np.array([lat1, lat2])))
    if airspace is None or not airspace.blocked(ends[:1], ends[1:])[0]:
        return np.array([[lon1, lat1], [lon2, lat2]])
    rows = [airspace.sight(end) for end in ends]
    if rows[0] is None or rows[1] is None:
        return None
    n = len(airspace.vertices)
    a, b = n, n + 1  # the two ends join the graph as its last two nodes
    span = [np.hypot(*(airspace.vertices[r] - ends[k]).T) for k, r in enumerate(rows)]
    extra = csr_matrix(
        (
            np.r_[span[0], span[0], span[1], span[1]],
            (
                np.r_[np.full(len(rows[0]), a), rows[0], np.full(len(rows[1]), b), rows[1]],
                np.r_[rows[0], np.full(len(rows[0]), a), rows[1], np.full(len(rows[1]), b)],
            ),
        ),
        shape=(n + 2, n + 2),
    )
    graph = extra + airspace.padded
    dist, pred = dijkstra(graph, directed=False, indices=a, return_predecessors=True)
    if not np.isfinite(dist[b]):
        return None
    order, node = [], b
    while node != a:
        order.append(node)
        node = pred[node]
    turns = np.array([airspace.vertices[k] for k in reversed(order[1:])])
    lon, lat = _TO_DEG.transform(turns[:, 0], turns[:, 1])
    return np.vstack([[lon1, lat1], np.column_stack([lon, lat]), [lon2, lat2]])  # the ends exactly as given


def path_km(corners: np.ndarray) -> float:
    """Length of a flight through its corners, each leg a geodesic on the WGS84 ellipsoid, in km."""
    return float(_GEOD.line_length(corners[:, 0], corners[:, 1])) / 1000.0
