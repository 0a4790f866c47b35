"""Travel times over the real OpenStreetMap road network (the only package that imports osmnx).

``load_network`` reads the shipped extract (``nodes.csv.gz``/``edges.csv.gz``) or a user's tagged
``.osm`` (through osmnx) or ``.osm.pbf`` (through pyosmium) file into arrays, each node tagged with its
country. ``travel_times`` removes avoided territory, snaps every site and destination to the road graph,
and runs one multi-source Dijkstra per profile from the destinations over the reversed graph
(``scipy.sparse.csgraph``), keeping predecessors so the routes used become LineStrings. Results are
cached on disk under a hash of everything they depend on.
"""

from __future__ import annotations

import logging
import time
from importlib import import_module
from pathlib import Path
from types import MappingProxyType
from typing import Any

from depotsite.errors import NetworkError
from depotsite.inputs import Inputs
from depotsite.network.cache import cache_dir, cache_key, entry_path, load_entry, save_entry
from depotsite.network.files import road_files
from depotsite.scenario import Scenario
from depotsite.traveltimes import TravelTimes

# The graph and routing code (geopandas, osmnx, scipy) is imported on first use: a cached matrix needs none.
_LAZY = {
    name: "depotsite.network.graph"
    for name in ("RoadNetwork", "haversine_km", "load_boundaries", "load_network", "tag_countries", "to_networkx")
}
_LAZY |= {"edge_hours": "depotsite.network.routing", "route_legs": "depotsite.network.routing"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'depotsite.network' has no attribute {name!r}")


log = logging.getLogger(__name__)

__all__ = [
    "RoadNetwork",
    "cache_dir",
    "cache_key",
    "edge_hours",
    "haversine_km",
    "load_boundaries",
    "load_network",
    "road_files",
    "route_legs",
    "tag_countries",
    "to_networkx",
    "travel_times",
]


def travel_times(inputs: Inputs, scenario: Scenario, *, use_cache: bool = True) -> TravelTimes:
    """Transit hours for every (site, destination, system) pair from the scenario's road network.

    Raises
    ------
    NetworkError
        When the road or boundary files are missing or unreadable.
    """
    started = time.perf_counter()
    data = scenario.data
    if data.roads is None or data.boundaries is None:
        raise NetworkError(["name [data] roads and [data] boundaries, or a [data] travel_times matrix"])
    problems = []
    if not Path(data.roads).exists():
        problems.append(
            f"{data.roads}: road source not found; set [data] roads to the extract folder "
            "(nodes.csv.gz, edges.csv.gz) or to a .osm / .osm.pbf file"
        )
    else:
        problems += [f"{p}: file not found; check [data] roads" for p in road_files(data.roads) if not p.is_file()]
    if not Path(data.boundaries).is_file():
        problems.append(f"{data.boundaries}: file not found; check [data] boundaries")
    if problems:
        raise NetworkError(problems)
    key = cache_key(inputs, scenario)
    cached = entry_path(key)
    entry = load_entry(cached, key) if use_cache else None  # a damaged entry is discarded with a warning
    source = "cache"
    if entry is None:
        from depotsite.network.graph import load_network
        from depotsite.network.routing import route_legs

        network = load_network(data.roads, data.boundaries)
        entry = route_legs(network, inputs, scenario)
        source = "roads"
        if use_cache:
            save_entry(cached, key, entry)  # best effort: a folder that refuses it is a warning
    legs, unreachable, warnings = entry
    for warning in warnings:
        log.info(warning)  # kept in TravelTimes.warnings; the CLI prints them once, with the results
    by_system, lost = {}, {}
    for w, system in inputs.systems.items():
        for (s, d, name), leg in legs.items():
            if name == system.profile:
                by_system[s, d, w] = leg
        for (s, d, name), reason in unreachable.items():
            if name == system.profile:
                lost[s, d, w] = reason
    log.info(
        "travel_times: %d reachable and %d unreachable pairs from %s in %.2f s",
        len(by_system),
        len(lost),
        source,
        time.perf_counter() - started,
    )
    return TravelTimes(
        legs=MappingProxyType(by_system),
        unreachable=MappingProxyType(lost),
        source=f"{data.roads} ({source})",
        warnings=tuple(warnings),
    )
