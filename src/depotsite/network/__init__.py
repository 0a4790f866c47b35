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
from pathlib import Path
from types import MappingProxyType

from depotsite.errors import NetworkError
from depotsite.inputs import Inputs
from depotsite.network.cache import _load, _save, cache_dir, cache_key
from depotsite.network.graph import (
    RoadNetwork,
    haversine_km,
    load_boundaries,
    load_network,
    road_files,
    tag_countries,
    to_networkx,
)
from depotsite.network.routing import edge_hours, route_legs
from depotsite.scenario import Scenario
from depotsite.traveltimes import TravelTimes

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
        problems.append(f"{data.roads}: road source not found; set [data] roads to the extract folder "
                        "(nodes.csv.gz, edges.csv.gz) or to a .osm / .osm.pbf file")
    else:
        problems += [f"{p}: file not found; check [data] roads" for p in road_files(data.roads) if not p.is_file()]
    if not Path(data.boundaries).is_file():
        problems.append(f"{data.boundaries}: file not found; check [data] boundaries")
    if problems:
        raise NetworkError(problems)
    key = cache_key(inputs, scenario)
    cached = cache_dir() / f"travel-{key[:32]}.npz"
    source = "cache"
    if use_cache and cached.is_file():
        legs, unreachable, warnings = _load(cached)
    else:
        network = load_network(data.roads, data.boundaries)
        legs, unreachable, warnings = route_legs(network, inputs, scenario)
        source = "roads"
        if use_cache:
            try:
                _save(cached, legs, unreachable, warnings)
            except OSError as exc:  # a read-only or full cache folder must not stop a run
                log.warning("could not write the travel-time cache %s (%s); set DEPOTSITE_CACHE to a writable "
                            "folder to reuse matrices", cached, exc)
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
    log.info("travel_times: %d reachable and %d unreachable pairs from %s in %.2f s", len(by_system), len(lost),
             source, time.perf_counter() - started)
    return TravelTimes(legs=MappingProxyType(by_system), unreachable=MappingProxyType(lost),
                       source=f"{data.roads} ({source})", warnings=tuple(warnings))
