"""Travel-time matrix speed on the shipped network.

Prints the road and rail graph load times, the full matrix (every site x destination x profile: roads, rail
and the flights round closed airspace) cold and from the cache, and the same road pairs through per-pair
networkx shortest paths (the baseline), with the ratio. The scenario is ``models/rail.toml`` (the base with
the tracked systems allowed on the rail network) unless ``--scenario`` names another.

The cold and cached calls also print their CPU time (``time.process_time``): on a machine shared with other
jobs the wall time includes waiting for a core, and the CPU time is close to what an idle machine takes.

Usage::

    python benchmarks/travel_times.py [--baseline-pairs N] [--scenario FILE]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import networkx as nx
import numpy as np

from depotsite.countries import read_countries
from depotsite.inputs import load_inputs
from depotsite.network import edge_hours, load_network, rail_legs, route_legs, to_networkx, travel_times
from depotsite.network.transit import edge_border_hours
from depotsite.scenario import load_scenario
from depotsite.sources import with_profiles

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--baseline-pairs",
        type=int,
        default=0,
        help="time only this many per-pair baseline routes and extrapolate (0 = all)",
    )
    parser.add_argument("--scenario", type=Path, default=ROOT / "models" / "rail.toml", help="scenario file")
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    d = scenario.data
    inputs = with_profiles(
        load_inputs(hosts=d.hosts, sites=d.sites, systems=d.systems, destinations=d.destinations, demand=d.demand),
        scenario,
    )
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}")

    started = time.perf_counter()
    network = load_network(d.roads, d.boundaries)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    legs, _, _ = route_legs(network, inputs, scenario)
    route_s = time.perf_counter() - started
    rail_load_s = rail_s = 0.0
    rail_found: dict = {}
    if d.rail is not None:
        started = time.perf_counter()
        rail = load_network(d.rail, d.boundaries)
        rail_load_s = time.perf_counter() - started
        started = time.perf_counter()
        rail_found, _ = rail_legs(rail, inputs, scenario)
        rail_s = time.perf_counter() - started
    road_pairs = [(s, dest, name) for (s, dest, name), leg in legs.items() if leg.road_km is not None]

    with tempfile.TemporaryDirectory() as cache:
        os.environ["DEPOTSITE_CACHE"] = cache
        started, cpu = time.perf_counter(), time.process_time()
        travel_times(inputs, scenario)
        cold_s, cold_cpu_s = time.perf_counter() - started, time.process_time() - cpu
        started, cpu = time.perf_counter(), time.process_time()
        cached = travel_times(inputs, scenario)
        cached_s, cached_cpu_s = time.perf_counter() - started, time.process_time() - cpu
        assert cached.source.endswith("(cache)")

    # Baseline: the same road pairs, one networkx Dijkstra per pair, on the same weights.
    graph = to_networkx(network)
    avoid = set(scenario.network.avoid_countries)
    graph.remove_nodes_from([n for n, c in graph.nodes(data="country") if c in avoid])
    from scipy.spatial import cKDTree

    kept = np.array(list(graph.nodes))

    def xyz(lat, lon):
        return np.column_stack(
            [
                np.cos(np.radians(lat)) * np.cos(np.radians(lon)),
                np.cos(np.radians(lat)) * np.sin(np.radians(lon)),
                np.sin(np.radians(lat)),
            ]
        )

    tree = cKDTree(xyz(network.lat[kept], network.lon[kept]))
    nearest = {}
    for point in [*inputs.sites.values(), *inputs.destinations.values()]:
        key = getattr(point, "site_id", None) or point.destination_id
        nearest[key] = int(kept[tree.query(xyz(np.array([point.lat]), np.array([point.lon])))[1][0]])
    weights = {}
    kinds = read_countries(d.countries) if d.countries is not None else {}
    for name in {p for _, _, p in road_pairs}:
        hours = edge_hours(network, scenario.network.profiles[name])
        crossing = edge_border_hours(network, network.u, network.v, scenario.network.profiles[name], kinds)
        weights[name] = {
            (int(a), int(b)): float(h + c) for a, b, h, c in zip(network.u, network.v, hours, crossing, strict=True)
        }
    sample = road_pairs if args.baseline_pairs <= 0 else road_pairs[: args.baseline_pairs]
    started = time.perf_counter()
    for s, dest, name in sample:
        w = weights[name]
        nx.shortest_path_length(graph, nearest[s], nearest[dest], weight=lambda a, b, _data, w=w: w[a, b])
    per_pair_s = (time.perf_counter() - started) * len(road_pairs) / len(sample)

    full_s = load_s + route_s + rail_load_s + rail_s
    print(f"graph: {network.n_nodes:,} nodes, {len(network.u):,} directed edges")
    print(
        f"pairs: {len(legs) + len(rail_found):,} (site x destination x profile), {len(road_pairs):,} by road, "
        f"{len(rail_found):,} by rail"
    )
    print(f"graph load                       {load_s:8.3f} s")
    print(f"full matrix (routing only)       {route_s:8.3f} s")
    print(f"rail graph load                  {rail_load_s:8.3f} s")
    print(f"rail legs (routing only)         {rail_s:8.3f} s")
    print(f"travel_times cold (load+matrix)  {cold_s:8.3f} s  (CPU {cold_cpu_s:.3f} s)")
    print(f"travel_times cached              {cached_s:8.3f} s  (CPU {cached_cpu_s:.3f} s)")
    print(
        f"networkx per-pair baseline       {per_pair_s:8.3f} s"
        + (f" (extrapolated from {len(sample)} pairs)" if len(sample) < len(road_pairs) else "")
    )
    print(
        f"speed-up over the baseline (routing): {per_pair_s / route_s:6.1f}x;  (cold end-to-end): "
        f"{per_pair_s / cold_s:6.1f}x"
    )
    print(f"cold load + full matrix {full_s:.2f} s (target < 3 s); cached {cached_s:.3f} s (target < 0.3 s)")


if __name__ == "__main__":
    main()
