"""The files of a road source: the shipped extract's two tables, or one OSM file. No heavy imports, so a
run whose matrix is cached never loads geopandas, osmnx or the graph code."""

from __future__ import annotations

from pathlib import Path


def road_files(roads: Path) -> list[Path]:
    """The files a road source consists of (hashed for the manifest and the cache key).

    Parameters
    ----------
    roads
        The extract's folder (``nodes.csv.gz``, ``edges.csv.gz``) or a ``.osm`` / ``.osm.pbf`` file.

    Returns
    -------
    list of Path
        The two tables of a folder, or the file itself.
    """
    roads = Path(roads)
    if roads.is_dir():
        return [roads / "nodes.csv.gz", roads / "edges.csv.gz"]
    return [roads]
