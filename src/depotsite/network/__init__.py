"""Travel times over the real OpenStreetMap road network (the only package that imports osmnx).

``load_network`` reads the shipped extract (``nodes.csv.gz``/``edges.csv.gz``) or a user's tagged
``.osm`` (through osmnx) or ``.osm.pbf`` (through pyosmium) file into arrays, each node tagged with its
country. ``travel_times`` removes avoided territory, snaps every site and destination to the road graph,
and runs one multi-source Dijkstra per profile from the destinations over the reversed graph
(``scipy.sparse.csgraph``), keeping predecessors so the routes used become LineStrings. Results are
cached on disk under a hash of everything they depend on.
"""

from __future__ import annotations

import dataclasses
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
_LAZY |= {"rail_legs": "depotsite.network.rail"}


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
    "fastest_legs",
    "haversine_km",
    "load_boundaries",
    "load_network",
    "rail_legs",
    "road_files",
    "route_legs",
    "tag_countries",
    "to_networkx",
    "travel_times",
]


def travel_times(inputs: Inputs, scenario: Scenario, *, use_cache: bool = True, paths: bool = True) -> TravelTimes:
    """Transit hours for every (site, destination, system) pair from the scenario's road and rail networks.

    Every profile a system may take is routed (rail only when ``[data] rail`` is set); each pair takes the
    fastest of its system's profiles (``fastest_legs``). ``use_cache`` reads and writes the matrix cache;
    without ``paths`` the road legs carry no route points (each leg's ``path`` is empty: a matrix of
    thousands of sites needs its hours, not its lines), and a matrix routed so is not written to the cache.

    Raises
    ------
    NetworkError
        When the road, rail or boundary files are missing or unreadable.
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
    if data.rail is not None:
        if not Path(data.rail).is_dir():
            problems.append(
                f"{data.rail}: no rail network folder; set [data] rail to a folder with nodes.csv.gz and "
                "edges.csv.gz (the shipped data/rail, or one built by scripts/build_rail.py), or leave it out"
            )
        else:
            problems += [f"{p}: file not found; check [data] rail" for p in road_files(data.rail) if not p.is_file()]
    if problems:
        raise NetworkError(problems)
    profiles = scenario.network.profiles
    by_rail = data.rail is not None and any(
        profiles[p].mode == "rail" for w in inputs.systems.values() for p in w.profiles
    )
    key = cache_key(inputs, scenario)
    cached = entry_path(key)
    entry = load_entry(cached, key) if use_cache else None  # a damaged entry is discarded with a warning
    source = "cache"
    if entry is None:
        from depotsite.network.graph import load_network
        from depotsite.network.rail import rail_legs
        from depotsite.network.routing import route_legs

        network = load_network(data.roads, data.boundaries)
        legs, unreachable, warnings = route_legs(network, inputs, scenario, paths=paths)
        rail = load_network(data.rail, data.boundaries, frame=network.boundaries) if by_rail and data.rail else None
        found, cut = rail_legs(rail, inputs, scenario)
        entry = (legs | found, unreachable | cut, warnings)
        source = "roads and rail" if rail is not None else "roads"
        if use_cache and paths:
            save_entry(cached, key, entry)  # best effort: a folder that refuses it is a warning
    legs, unreachable, warnings = entry
    for warning in warnings:
        log.info(warning)  # kept in TravelTimes.warnings; the CLI prints them once, with the results
    by_system, lost = fastest_legs(inputs, legs, unreachable)
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
        source=f"{data.roads}{f' and {data.rail}' if by_rail else ''} ({source})",
        warnings=tuple(warnings),
    )


def fastest_legs(inputs: Inputs, legs: dict, unreachable: dict) -> tuple[dict, dict]:
    """Each system's leg of each pair: the fastest of its profiles' legs, noting what it was chosen over.

    A system with one profile takes that profile's leg as it is. With alternatives (``rail;tracked``) the
    fastest reachable one is taken and its ``note`` says so, with the hours of the others; a pair that one
    alternative cannot carry (a rail gap) says it falls back to another, and why.

    Parameters
    ----------
    inputs
        The tables: each system's ``profiles``.
    legs
        ``Leg`` per (site_id, destination_id, profile name).
    unreachable
        Reason per (site_id, destination_id, profile name) without a leg.

    Returns
    -------
    tuple of (dict, dict)
        ``Leg`` per (site_id, destination_id, system_id), and a reason per pair no profile of its system
        carries (the reasons of every profile, joined).
    """
    chosen_of: dict[tuple[str, ...], tuple[dict, dict]] = {}  # systems with the same profiles share their legs
    pairs = sorted({(s, d) for s, d, _ in legs} | {(s, d) for s, d, _ in unreachable})
    by_system: dict = {}
    lost: dict = {}
    for w, system in inputs.systems.items():
        names = system.profiles
        if names not in chosen_of:
            chosen_of[names] = _fastest(names, pairs, legs, unreachable)
        found, missing = chosen_of[names]
        by_system.update({(s, d, w): leg for (s, d), leg in found.items()})
        lost.update({(s, d, w): reason for (s, d), reason in missing.items()})
    return by_system, lost


def _fastest(names: tuple[str, ...], pairs: list, legs: dict, unreachable: dict) -> tuple[dict, dict]:
    """The leg per (site, destination) of a system with these profiles, and the reason per pair without one."""
    if len(names) == 1:  # the profile's legs as they are, in their order
        return (
            {(s, d): leg for (s, d, name), leg in legs.items() if name == names[0]},
            {(s, d): reason for (s, d, name), reason in unreachable.items() if name == names[0]},
        )
    found: dict = {}
    missing: dict = {}
    for s, d in pairs:
        hours = [(legs[s, d, p].hours, p) for p in names if (s, d, p) in legs]
        gaps = [(p, unreachable[s, d, p]) for p in names if (s, d, p) in unreachable]
        if not hours:
            if gaps:
                missing[s, d] = "; ".join(f"{p}: {r}" for p, r in gaps)
            continue
        _, chosen = min(hours)
        leg = legs[s, d, chosen]
        parts = [f"fastest of {', '.join(f'{p} {h:.1f} h' for h, p in sorted(hours))}"] if len(hours) > 1 else []
        parts += [f"falls back to {chosen} ({leg.mode}): no {p} route, {r}" for p, r in gaps]
        found[s, d] = dataclasses.replace(leg, note="; ".join(parts))
    return found, missing
