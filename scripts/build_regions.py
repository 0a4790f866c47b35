"""Build ``data/regions.geojson``: regions a scenario can avoid besides whole countries.

One region today, Transnistria (the breakaway left bank of the Dniester in Moldova, with Russian troops
stationed there, and the city of Bender on the right bank). No boundary dataset of it is published in the
package registries, so it is drawn from public facts: the part of the shipped Moldova polygon (Natural
Earth, ``data/boundaries/countries.geojson``) east of a line along the Dniester through the positions of
named riverside towns, together with the Bender enclave (circles around Bender and Chițcani, clipped to
Moldova). Precision about 5 km: a planning outline, not a survey; the villages on the left bank that
Chișinău administers (Cocieri, Molovata Nouă, Corjova near Dubăsari) are inside it.

Usage::

    python scripts/build_regions.py
"""

from __future__ import annotations

import json
from pathlib import Path

import shapely
from pyproj import Transformer
from shapely.geometry import Point, Polygon, mapping, shape

ROOT = Path(__file__).resolve().parents[1]
COUNTRIES = ROOT / "data" / "boundaries" / "countries.geojson"
OUT = ROOT / "data" / "regions.geojson"

# The Dniester from north of Soroca to below Slobozia, by riverside towns (lat, lon, rounded to 0.01 degree):
# Soroca, Camenca/Cosăuți, Rezina/Rîbnița, Dubăsari, Criuleni/Grigoriopol, Bender/Tiraspol, Slobozia, Olănești.
DNIESTER = [
    (48.30, 28.15),
    (48.16, 28.31),
    (48.03, 28.66),
    (47.90, 28.85),
    (47.76, 28.98),
    (47.52, 29.07),
    (47.27, 29.14),
    (47.16, 29.18),
    (47.05, 29.25),
    (46.93, 29.40),
    (46.84, 29.55),
    (46.74, 29.66),
    (46.62, 29.84),
    (46.45, 29.98),
]
EAST_LON = 31.0  # east of every point of Moldova: the line, closed to the east, bounds the left bank
BENDER = [(46.83, 29.48), (46.78, 29.60)]  # Bender and Chițcani, on the right bank under Tiraspol's control
BENDER_RADIUS_KM = 6.0
SOURCE = (
    "outline from named riverside towns (OpenStreetMap place positions, rounded to 0.01 degree) "
    "intersected with Natural Earth's Moldova; precision about 5 km"
)


def transnistria(moldova) -> shapely.Geometry:
    """Moldova east of the Dniester line, with the Bender enclave on the right bank."""
    line = [(lon, lat) for lat, lon in DNIESTER]
    east = Polygon([*line, (EAST_LON, line[-1][1]), (EAST_LON, line[0][1])])
    to_metres = Transformer.from_crs(4326, 3035, always_xy=True).transform
    to_degrees = Transformer.from_crs(3035, 4326, always_xy=True).transform
    circles = [
        shapely.transform(
            shapely.transform(Point(lon, lat), to_metres, interleaved=False).buffer(BENDER_RADIUS_KM * 1000),
            to_degrees,
            interleaved=False,
        )
        for lat, lon in BENDER
    ]
    whole = shapely.union(moldova.intersection(east), moldova.intersection(shapely.union_all(circles)))
    # the coarse line leaves slivers of the right bank (near Soroca, Palanca) east of it: keep the main body
    body = max(shapely.get_parts(whole), key=lambda part: part.area)
    return body.simplify(0.001)


def main() -> None:
    countries = json.loads(COUNTRIES.read_text(encoding="utf-8"))
    moldova = next(shape(f["geometry"]) for f in countries["features"] if f["properties"]["country_id"] == "MD")
    region = transnistria(moldova)
    feature = {
        "type": "Feature",
        "properties": {"region_id": "transnistria", "name": "Transnistria", "country_id": "MD", "source": SOURCE},
        "geometry": mapping(shapely.set_precision(region, 1e-5)),
    }
    OUT.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}) + "\n", encoding="utf-8")
    print(f"wrote {OUT} (transnistria, {region.area:.3f} square degrees)")


if __name__ == "__main__":
    main()
