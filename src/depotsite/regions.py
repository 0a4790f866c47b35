"""Regions a scenario may avoid besides whole countries (``[data] regions``, ``[network] avoid_regions``).

A regions file is GeoJSON: one feature per region with ``region_id``, ``name`` and ``source`` properties and
a polygon geometry in longitude/latitude. The shipped ``data/regions.geojson`` holds Transnistria.
"""

from __future__ import annotations

import json
from pathlib import Path

import shapely
from shapely.geometry import shape

from depotsite.errors import InputError
from depotsite.tables import unreadable


def read_regions(path: Path) -> dict[str, shapely.Geometry]:
    """The polygons of a regions file, by ``region_id``.

    Parameters
    ----------
    path
        A GeoJSON FeatureCollection with a ``region_id`` property on every feature.

    Returns
    -------
    dict
        Region id -> polygon (longitude, latitude).

    Raises
    ------
    InputError
        Naming the file when it cannot be read, is not such a collection, or holds an invalid polygon.
    """
    reason = unreadable(Path(path))
    if reason is not None:
        raise InputError([f"{path}: {reason}; check [data] regions"])
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        regions = {str(f["properties"]["region_id"]): shape(f["geometry"]) for f in doc["features"]}
    except (ValueError, KeyError, TypeError, AttributeError, shapely.errors.GEOSException):
        raise InputError(
            [
                f"{path}: not a GeoJSON FeatureCollection with a 'region_id' property and a polygon on "
                "every feature; check [data] regions"
            ]
        ) from None
    bad = sorted(r for r, g in regions.items() if g.geom_type not in ("Polygon", "MultiPolygon") or not g.is_valid)
    if bad:
        raise InputError([f"{path}: region {r!r} is not a valid polygon" for r in bad])
    return regions


def region_problems(path: Path | None, avoid: tuple[str, ...]) -> list[str]:
    """Every avoided region the scenario names that its regions file does not hold (all at once).

    Parameters
    ----------
    path
        The scenario's ``[data] regions`` file, or None.
    avoid
        ``[network] avoid_regions``.

    Returns
    -------
    list of str
        One line per problem; empty when every region is known.
    """
    if not avoid:
        return []
    if path is None:
        return [
            f"[network] avoid_regions names {', '.join(avoid)} but no [data] regions file; set [data] regions "
            "(the shipped one is data/regions.geojson)"
        ]
    try:
        known = read_regions(path)
    except InputError as exc:
        return list(exc.problems)
    return [
        f"[network] avoid_regions: unknown region {r!r}; {path} holds {', '.join(sorted(known)) or 'none'}"
        for r in avoid
        if r not in known
    ]


FRONT_LINE_TYPES = ("LineString", "MultiLineString", "Polygon", "MultiPolygon")


def read_front_line(path: Path) -> shapely.Geometry:
    """The front line of ``[data] front_line``: the union of every feature's geometry (longitude/latitude).

    Parameters
    ----------
    path
        A GeoJSON FeatureCollection of lines (the line of contact) or polygons (occupied territory).

    Returns
    -------
    shapely.Geometry
        The union of the features' geometries.

    Raises
    ------
    InputError
        Naming the file when it cannot be read, holds no feature, or a feature is not a valid line or polygon.
    """
    reason = unreadable(Path(path))
    if reason is not None:
        raise InputError([f"{path}: {reason}; check [data] front_line"])
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        shapes = [shape(f["geometry"]) for f in doc["features"]]
    except (ValueError, KeyError, TypeError, AttributeError, shapely.errors.GEOSException):
        raise InputError(
            [f"{path}: not a GeoJSON FeatureCollection of lines or polygons; check [data] front_line"]
        ) from None
    bad = [i for i, g in enumerate(shapes, 1) if g.geom_type not in FRONT_LINE_TYPES or not g.is_valid or g.is_empty]
    problems = [
        f"{path}: feature {i} is not a valid line or polygon ({shapes[i - 1].geom_type}); use "
        f"{', '.join(FRONT_LINE_TYPES)}"
        for i in bad
    ]
    if not shapes:
        problems.append(f"{path}: holds no feature; give the front line as one or more lines or polygons")
    if problems:
        raise InputError(problems)
    return shapely.union_all(shapes)


def front_line_problems(path: Path | None) -> list[str]:
    """Why the scenario's ``[data] front_line`` cannot be used (empty when it can, or when none is named)."""
    if path is None:
        return []
    try:
        read_front_line(path)
    except InputError as exc:
        return list(exc.problems)
    return []
