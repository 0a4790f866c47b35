"""What both maps share: the palettes, the extent of the instance and the shipped country boundaries.

The base layer is the instance's own boundaries file (``[data] boundaries``), never a web map, so
air-gapped machines draw exactly what connected ones do.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from depotsite.instance import Instance

if TYPE_CHECKING:
    import geopandas as gpd
    import shapely

SYSTEM_COLOURS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
OUTLINE_TOLERANCE_DEG = 0.01
"""How far a simplified country outline may stray from the boundaries file, degrees (about 1.1 km): under a
pixel of either map (``map.html`` 800 pixels high, ``map.png`` about 1.5 km a pixel at 110 dpi)."""
HOST_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]


def extent(p: Instance, margin_deg: float = 1.5) -> tuple[float, float, float, float]:
    """``(lon0, lon1, lat0, lat1)`` around every candidate site and destination, with a margin in degrees."""
    lons = [s.lon for s in p.inputs.sites.values()] + [d.lon for d in p.inputs.destinations.values()]
    lats = [s.lat for s in p.inputs.sites.values()] + [d.lat for d in p.inputs.destinations.values()]
    return min(lons) - margin_deg, max(lons) + margin_deg, min(lats) - margin_deg, max(lats) + margin_deg


def boundaries(p: Instance) -> gpd.GeoDataFrame | None:
    """The countries of the boundaries file near the instance (lon/lat), or None when it names none."""
    import geopandas as gpd
    import shapely

    path = p.scenario.data.boundaries
    if path is None or not Path(path).is_file():
        return None
    frame = gpd.read_file(path)
    x0, x1, y0, y1 = extent(p, 4.0)
    return frame[frame.intersects(shapely.box(x0, y0, x1, y1))]


def boundary_shapes(p: Instance) -> list[tuple[dict[str, Any], shapely.Geometry]] | None:
    """The countries of ``boundaries``, as each feature's properties and its shapely geometry (lon/lat),
    read with json and shapely alone (no geopandas and pandas to import for the interactive map); None when
    the scenario names no boundaries file. The boundaries file is GeoJSON (``data/README.md``)."""
    import shapely
    from shapely.geometry import shape

    path = p.scenario.data.boundaries
    if path is None or not Path(path).is_file():
        return None
    features = json.loads(Path(path).read_text(encoding="utf-8"))["features"]
    x0, x1, y0, y1 = extent(p, 4.0)
    box = shapely.box(x0, y0, x1, y1)
    shapes = [(f.get("properties") or {}, shape(f["geometry"])) for f in features if f.get("geometry")]
    return [(props, geometry) for props, geometry in shapes if geometry.intersects(box)]


def colours(keys: Iterable[str], palette: Sequence[str]) -> dict[str, str]:
    """A colour per key, stable for a set of keys whatever their order (the two maps agree)."""
    return {k: palette[i % len(palette)] for i, k in enumerate(sorted(keys))}
