"""The GeoPackage writer (sqlite3 alone) read back by GDAL: every layer, column type, value and geometry."""

from __future__ import annotations

import sqlite3

import pytest


def _feature(geometry, **properties):
    return {"type": "Feature", "geometry": geometry, "properties": properties}


LAYERS = {
    "points": {
        "type": "FeatureCollection",
        "features": [
            _feature({"type": "Point", "coordinates": [24.5, 50.25]}, name="a", open=True, units=3, km=1, note=None),
            _feature({"type": "Point", "coordinates": [-3.0, 40.0]}, name="b", open=False, units=0, km=2.5, note=None),
        ],
    },
    "lines": {
        "type": "FeatureCollection",
        "features": [
            _feature({"type": "LineString", "coordinates": [[20.0, 50.0], [21.5, 49.0], [30.0, 48.5]]}, hours=12.5),
        ],
    },
    "areas": {
        "type": "FeatureCollection",
        "features": [
            _feature({"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 1], [0, 0]]]}, region="r"),
            _feature({"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]], [[5, 5], [6, 7]]]}, region="m"),
        ],
    },
    "empty": {"type": "FeatureCollection", "features": []},
}


def test_gdal_reads_every_layer_value_and_geometry_back(tmp_path):
    import pyogrio
    import shapely

    from depotsite.output.gpkg import write_geopackage

    path = tmp_path / "layers.gpkg"
    path.write_bytes(b"an older file, replaced")
    write_geopackage(path, LAYERS)
    assert [str(name) for name, _ in pyogrio.list_layers(path)] == list(LAYERS)
    for name, collection in LAYERS.items():
        info = pyogrio.read_info(path, layer=name)
        assert info["features"] == len(collection["features"])
        assert info["crs"] == "EPSG:4326"
        if not collection["features"]:
            continue
        frame = pyogrio.read_dataframe(path, layer=name)
        expected = [shapely.geometry.shape(f["geometry"]) for f in collection["features"]]
        assert all(g.equals_exact(e, 0.0) for g, e in zip(frame.geometry, expected, strict=True))
        for column in collection["features"][0]["properties"]:
            values = [f["properties"][column] for f in collection["features"]]
            read = frame[column].tolist()
            if all(v is None for v in values):
                assert all(r is None for r in read)
            else:
                assert read == values
    points = pyogrio.read_dataframe(path, layer="points")
    # units are whole (INTEGER), km mixes 1 and 2.5 (REAL), open is True/False (BOOLEAN), as GDAL writes them
    assert str(points["units"].dtype) == "int64" and str(points["km"].dtype) == "float64"
    assert str(points["open"].dtype) == "bool"


def test_the_file_is_a_geopackage_with_extents_and_a_known_srs(tmp_path):
    from depotsite.output.gpkg import APPLICATION_ID, write_geopackage

    path = tmp_path / "layers.gpkg"
    write_geopackage(path, LAYERS)
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    extents = {
        row[0]: row[1:] for row in con.execute("SELECT table_name, min_x, min_y, max_x, max_y FROM gpkg_contents")
    }
    # the extremes of each layer's coordinates above
    assert extents["points"] == (-3.0, 40.0, 24.5, 50.25)
    assert extents["lines"] == (20.0, 48.5, 30.0, 50.0)
    assert extents["areas"] == (0.0, 0.0, 6.0, 7.0)
    assert extents["empty"] == (None, None, None, None)
    assert {row[0] for row in con.execute("SELECT srs_id FROM gpkg_spatial_ref_sys")} == {-1, 0, 4326}
    kinds = dict(con.execute("SELECT table_name, geometry_type_name FROM gpkg_geometry_columns"))
    assert kinds == {"points": "POINT", "lines": "LINESTRING", "areas": "GEOMETRY", "empty": "GEOMETRY"}
    con.close()


def test_a_geometry_it_cannot_write_is_named():
    from depotsite.output.gpkg import geometry_blob

    with pytest.raises(ValueError, match="GeometryCollection"):
        geometry_blob({"type": "GeometryCollection", "geometries": []})
