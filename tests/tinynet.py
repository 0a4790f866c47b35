"""Tiny synthetic road networks written as the shipped extract's files, for routing tests by hand.

A network is a few nodes on the equator with edges of chosen lengths (the extract's ``length_m`` need not
match the coordinates), countries as longitude bands, and a countries table saying which are in the EU and
in the Schengen area.
"""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path
from typing import Any

from depotsite.inputs import Destination, Host, Inputs, Site, System
from depotsite.scenario import Scenario

NO_DELAY = {"internal": 0.0, "external": 0.0, "non_eu": 0.0}


def write_rail(folder: Path, nodes: dict[int, float], edges: list[tuple[int, int, float]]) -> Path:
    """Write ``rail/`` (nodes.csv.gz, edges.csv.gz) like the roads: nodes at latitude 0, (u, v, km) edges.

    Returns
    -------
    Path
        The ``rail`` folder, for ``[data] rail``.
    """
    rail = folder / "rail"
    rail.mkdir(parents=True, exist_ok=True)
    with gzip.open(rail / "nodes.csv.gz", "wt") as stream:
        stream.write("node_id,lat,lon\n" + "".join(f"{n},0.0,{lon}\n" for n, lon in nodes.items()))
    with gzip.open(rail / "edges.csv.gz", "wt") as stream:
        stream.write("u,v,length_m\n" + "".join(f"{u},{v},{km * 1000.0}\n" for u, v, km in edges))
    return rail


def write_network(
    folder: Path,
    nodes: dict[int, float],
    edges: list[tuple[int, int, float]],
    bands: dict[str, tuple[float, float]],
    kinds: dict[str, tuple[bool, bool]] | None = None,
    gauges: dict[str, int] | None = None,
) -> dict[str, Path]:
    """Write ``roads/`` (nodes.csv.gz, edges.csv.gz), ``countries.geojson`` and, with ``kinds``, ``countries.csv``.

    Parameters
    ----------
    folder
        Where the files go.
    nodes
        Node id -> longitude (every node at latitude 0).
    edges
        (u, v, km) undirected edges.
    bands
        Country id -> (west, east) longitudes of a polygon from latitude -1 to 1.
    kinds
        Country id -> (eu, schengen) for the countries table; None writes no table.
    gauges
        Country id -> rail_gauge_mm, a column of the countries table (None: no such column).

    Returns
    -------
    dict
        ``roads``, ``boundaries`` and (with kinds) ``countries`` paths.
    """
    roads = folder / "roads"
    roads.mkdir(parents=True, exist_ok=True)
    with gzip.open(roads / "nodes.csv.gz", "wt") as stream:
        stream.write("node_id,lat,lon\n" + "".join(f"{n},0.0,{lon}\n" for n, lon in nodes.items()))
    with gzip.open(roads / "edges.csv.gz", "wt") as stream:
        stream.write("u,v,length_m\n" + "".join(f"{u},{v},{km * 1000.0}\n" for u, v, km in edges))
    features = [
        {
            "type": "Feature",
            "properties": {"country_id": c, "name": c},
            "geometry": {"type": "Polygon", "coordinates": [[[w, -1], [e, -1], [e, 1], [w, 1], [w, -1]]]},
        }
        for c, (w, e) in bands.items()
    ]
    boundaries = folder / "countries.geojson"
    boundaries.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    paths = {"roads": roads, "boundaries": boundaries}
    if kinds is not None:
        table = folder / "countries.csv"
        with table.open("w", newline="") as stream:
            writer = csv.writer(stream)
            gauge = [] if gauges is None else ["rail_gauge_mm"]
            writer.writerow(["country_id", "name", "eu", "schengen", *gauge, "source"])
            for c, (eu, schengen) in kinds.items():
                mm = [] if gauges is None else [gauges.get(c, "")]
                writer.writerow([c, c, "yes" if eu else "no", "yes" if schengen else "no", *mm, "test"])
        paths["countries"] = table
    return paths


def inputs_at(
    sites: dict[str, float],
    destinations: dict[str, float],
    *,
    profile: str = "wheeled",
    kinds: dict[str, str] | None = None,
) -> Inputs:
    """Army-base sites and destinations at latitude 0 and the given longitudes; one unit of ``x`` each.

    ``profile`` may list alternatives (``rail;tracked``); ``kinds`` gives a site another kind (``rail_hub``).
    """
    kind = kinds or {}
    return Inputs.build(
        hosts=[Host("AA", "A", "", 0.0)],
        sites=[Site(s, s, "AA", 0.0, lon, kind.get(s, "army_base"), 10, 10, 24, 0, "test") for s, lon in sites.items()],
        systems=[System("x", "x", "I", profile, 1, 0, 1, 1, 1, frozenset({"army_base", "rail_hub"}))],
        destinations=[Destination(d, d, 0.0, lon, "army_base") for d, lon in destinations.items()],
        demand={(d, "x"): 1 for d in destinations},
    )


def scenario_on(paths: dict[str, Path], *, profiles: dict[str, Any], **network: Any) -> Scenario:
    """A scenario routing on the written network (no avoided country unless given)."""
    return Scenario.model_validate(
        {
            "name": "tinynet",
            "data": {
                "hosts": "h.csv",
                "sites": "s.csv",
                "systems": "w.csv",
                "destinations": "d.csv",
                "demand": "x.csv",
                **{k: str(v) for k, v in paths.items()},
            },
            "network": {"avoid_countries": [], "profiles": profiles, **network},
        }
    )
