"""A GeoPackage (OGC 12-128r18, version 1.4) of GeoJSON feature collections, written with the standard
library's sqlite3 alone.

A run's layers are a few hundred points and lines with flat properties, so the file needs only the core of
the standard: the two required metadata tables with the EPSG:4326 definition, one feature table per layer
and its GeoPackage geometry blobs (the header and the envelope, then standard WKB). Writing it this way
takes milliseconds, where writing through geopandas took over a second, most of it importing pandas; QGIS,
GDAL (pyogrio, geopandas) and any SQLite client read it. GDAL's own ``gpkg_ogr_contents`` (the feature
counts) is written as well; the optional R-tree spatial index is not (a reader builds one if it needs it).
"""

from __future__ import annotations

import json
import math
import sqlite3
import struct
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10400  # GeoPackage 1.4
SRS_ID = 4326
WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],'
    'AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,'
    'AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]'
)
WKB_TYPES = {
    "Point": 1,
    "LineString": 2,
    "Polygon": 3,
    "MultiPoint": 4,
    "MultiLineString": 5,
    "MultiPolygon": 6,
}
"""The GeoJSON geometry types a layer may hold, with their WKB type codes (2D)."""

_METADATA = """
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE gpkg_ogr_contents (table_name TEXT NOT NULL PRIMARY KEY, feature_count INTEGER DEFAULT NULL);
"""


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _points(geometry: Mapping[str, Any]) -> Iterator[Sequence[float]]:
    """Every position of a GeoJSON geometry, however deeply nested."""

    def walk(coords: Any) -> Iterator[Sequence[float]]:
        if coords and isinstance(coords[0], int | float):
            yield coords
        else:
            for c in coords:
                yield from walk(c)

    return walk(geometry["coordinates"])


def _wkb(kind: str, coords: Any) -> bytes:
    """Little-endian 2D WKB of one GeoJSON geometry."""
    code = WKB_TYPES[kind]
    head = struct.pack("<BI", 1, code)
    if kind == "Point":
        return head + struct.pack("<2d", *coords[:2])
    if kind == "LineString":
        return head + struct.pack(f"<I{2 * len(coords)}d", len(coords), *(v for xy in coords for v in xy[:2]))
    if kind == "Polygon":
        rings = b"".join(
            struct.pack(f"<I{2 * len(ring)}d", len(ring), *(v for xy in ring for v in xy[:2])) for ring in coords
        )
        return head + struct.pack("<I", len(coords)) + rings
    part = kind.removeprefix("Multi")
    return head + struct.pack("<I", len(coords)) + b"".join(_wkb(part, c) for c in coords)


def geometry_blob(geometry: Mapping[str, Any]) -> bytes:
    """A GeoJSON geometry as a GeoPackage geometry blob: ``GP``, version 0, the flags (little-endian; an
    envelope [min x, max x, min y, max y] except for a point, as GDAL writes them), the SRS id, then WKB."""
    kind = geometry["type"]
    if kind not in WKB_TYPES:
        raise ValueError(f"a GeoPackage layer here holds {', '.join(WKB_TYPES)}; not {kind}")
    if kind == "Point":
        return b"GP" + struct.pack("<BBi", 0, 0b00000001, SRS_ID) + _wkb(kind, geometry["coordinates"])
    xs, ys = zip(*((p[0], p[1]) for p in _points(geometry)), strict=True)
    envelope = struct.pack("<4d", min(xs), max(xs), min(ys), max(ys))
    return b"GP" + struct.pack("<BBi", 0, 0b00000011, SRS_ID) + envelope + _wkb(kind, geometry["coordinates"])


def column_type(values: Sequence[Any]) -> str:
    """The SQLite column type of a property: BOOLEAN, INTEGER or REAL when every value that is not null is
    one (integers among reals make a REAL), otherwise TEXT (also when every value is null)."""
    present = [v for v in values if v is not None]
    if not present:
        return "TEXT"
    if all(isinstance(v, bool) for v in present):
        return "BOOLEAN"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "INTEGER"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "REAL"
    return "TEXT"


def _cell(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "BOOLEAN":
        return int(value)
    if kind == "REAL":
        return None if isinstance(value, float) and math.isnan(value) else float(value)
    if kind == "TEXT" and not isinstance(value, str):
        return json.dumps(value) if isinstance(value, list | dict) else str(value)
    return value


def write_geopackage(path: Path, layers: Mapping[str, Mapping[str, Any]]) -> None:
    """Every feature collection as a table of one GeoPackage in lon/lat (EPSG:4326).

    Parameters
    ----------
    path
        The ``.gpkg`` file (replaced if it exists).
    layers
        Table name -> a GeoJSON FeatureCollection; each feature becomes a row, its properties the columns
        (in the order of the first feature that has them), its geometry the ``geom`` column, typed by the
        collection's first geometry (``GEOMETRY`` for an empty or mixed collection).

    Raises
    ------
    ValueError
        A geometry type outside ``WKB_TYPES``.
    """
    path.unlink(missing_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    con = sqlite3.connect(path)
    try:
        con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        con.execute(f"PRAGMA user_version = {USER_VERSION}")
        con.executescript(_METADATA)
        con.executemany(
            "INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    "Undefined Cartesian SRS",
                    -1,
                    "NONE",
                    -1,
                    "undefined",
                    "undefined Cartesian coordinate reference system",
                ),
                (
                    "Undefined geographic SRS",
                    0,
                    "NONE",
                    0,
                    "undefined",
                    "undefined geographic coordinate reference system",
                ),
                (
                    "WGS 84 geodetic",
                    SRS_ID,
                    "EPSG",
                    SRS_ID,
                    WGS84_WKT,
                    "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid",
                ),
            ],
        )
        for name, collection in layers.items():
            _write_layer(con, name, list(collection["features"]), stamp)
        con.commit()
    finally:
        con.close()


def _write_layer(con: sqlite3.Connection, name: str, features: list[Mapping[str, Any]], stamp: str) -> None:
    columns: dict[str, None] = {}
    for f in features:
        columns.update(dict.fromkeys(f.get("properties") or {}))
    types = {c: column_type([(f.get("properties") or {}).get(c) for f in features]) for c in columns}
    kinds = {f["geometry"]["type"] for f in features if f.get("geometry")}
    geometry_type = next(iter(kinds)).upper() if len(kinds) == 1 else "GEOMETRY"
    definition = ", ".join(
        ['"fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL', f'"geom" {geometry_type}']
        + [f"{_quoted(c)} {t}" for c, t in types.items()]
    )
    con.execute(f"CREATE TABLE {_quoted(name)} ({definition})")
    placeholders = ", ".join("?" * (1 + len(types)))
    con.executemany(
        f"INSERT INTO {_quoted(name)} ({', '.join(['geom', *map(_quoted, types)])}) VALUES ({placeholders})",
        [
            [
                None if not f.get("geometry") else geometry_blob(f["geometry"]),
                *(_cell((f.get("properties") or {}).get(c), t) for c, t in types.items()),
            ]
            for f in features
        ],
    )
    points = [p for f in features if f.get("geometry") for p in _points(f["geometry"])]
    bounds = (
        (min(p[0] for p in points), min(p[1] for p in points), max(p[0] for p in points), max(p[1] for p in points))
        if points
        else (None, None, None, None)
    )
    con.execute(
        "INSERT INTO gpkg_contents VALUES (?, 'features', ?, '', ?, ?, ?, ?, ?, ?)",
        (name, name, stamp, *bounds, SRS_ID),
    )
    con.execute("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, ?, 0, 0)", (name, geometry_type, SRS_ID))
    con.execute("INSERT INTO gpkg_ogr_contents VALUES (?, ?)", (name, len(features)))
