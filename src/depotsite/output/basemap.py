"""What both maps share: the palettes, the extent of the instance and the shipped country boundaries.

The base layer is the instance's own boundaries file (``[data] boundaries``), never a web map, so
air-gapped machines draw exactly what connected ones do.
"""

from __future__ import annotations

import functools
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
    found = _boundaries_file(p)
    return None if found is None else [(dict(props), g) for props, g in _countries(*found, simplified=False)]


def simplified_boundaries(p: Instance) -> list[tuple[dict[str, Any], shapely.Geometry]] | None:
    """``boundary_shapes`` with each geometry simplified to ``OUTLINE_TOLERANCE_DEG`` (topology kept): what
    both maps draw. Read and simplified once per file, version and extent in a process, so the two maps of a
    run share the work (about 0.1 s on the shipped boundaries); the geometries are immutable."""
    found = _boundaries_file(p)
    return None if found is None else [(dict(props), g) for props, g in _countries(*found, simplified=True)]


def _boundaries_file(p: Instance) -> tuple[str, int, int, tuple[float, float, float, float]] | None:
    """The boundaries file's resolved path, modification time and size (the cache's key: a rewritten file is
    read again) and the extent of the instance with a 4-degree margin; None when there is no file."""
    path = p.scenario.data.boundaries
    if path is None or not Path(path).is_file():
        return None
    stat = Path(path).stat()
    return str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size, extent(p, 4.0)


@functools.lru_cache(maxsize=8)
def _countries(
    path: str, mtime_ns: int, size: int, box: tuple[float, float, float, float], *, simplified: bool
) -> tuple[tuple[dict[str, Any], shapely.Geometry], ...]:
    """The features of the boundaries file that meet ``box`` (``extent``'s order), simplified or not."""
    import shapely
    from shapely.geometry import shape

    if simplified:
        return tuple(
            (props, geometry.simplify(OUTLINE_TOLERANCE_DEG, preserve_topology=True))
            for props, geometry in _countries(path, mtime_ns, size, box, simplified=False)
        )
    features = json.loads(Path(path).read_text(encoding="utf-8"))["features"]
    x0, x1, y0, y1 = box
    near = shapely.box(x0, y0, x1, y1)
    shapes = [(f.get("properties") or {}, shape(f["geometry"])) for f in features if f.get("geometry")]
    return tuple((props, geometry) for props, geometry in shapes if geometry.intersects(near))


def colours(keys: Iterable[str], palette: Sequence[str]) -> dict[str, str]:
    """A colour per key, stable for a set of keys whatever their order (the two maps agree)."""
    return {k: palette[i % len(palette)] for i, k in enumerate(sorted(keys))}
