"""Scale benchmark: thousands of candidate sites on real road nodes, built and solved by the package's pipeline.

``python benchmarks/scale.py --sites 500,2000,10000 --destinations 50 --seed 1 --time-limit 60`` generates,
for each size, a seeded instance and solves it in a process of its own (so each size's peak memory is its
own), printing one line per size: routing, model construction (instance, reduction and pyomo model) and
solve time, wall and CPU, status, gap, objective and peak resident memory. ``--routing-only`` stops each size
after its road matrix: the routing's seconds and memory alone.

The instance: ``--sites`` real nodes of the shipped road extract (``data/roads``) inside the seven host
countries as candidate sites, each given the kind, capacities, dispatch rate and fixed cost of a random
row of ``data/sites.csv`` of a kind drawn in that table's mix (air bases with shelters, army bases, hubs,
ports, ammunition depots with no vehicle bays); ``--destinations`` real Ukrainian nodes (west of 36.3 E,
north of 46.4 N), a quarter of them air bases for the F-16s; the shipped systems (``data/systems.csv``)
with the base package (6 Patriot, 40 HIMARS, 120 Leopard 2, 48 F-16) scaled by destinations / 14 (the
base has 14) and split at random over the destinations; the rules of ``models/base.toml``, with its site
limit of 14 scaled the same way. Travel times are routed over the road network by ``depotsite.network``
(the real road matrix), without the route points so memory stays bounded. The
tables live in a temporary folder; nothing in ``data/`` changes and nothing is cached.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from depotsite.tables import SCHEMAS

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
HOSTS = ("PL", "RO", "DE", "CZ", "LT", "LV", "EE")
BASE_DESTINATIONS = 14  # destinations of the shipped base; its package is scaled by D / 14
BASE_MAX_SITES = 14
PACKAGE = {"patriot": 6, "himars": 40, "leopard2": 120, "f16": 48}  # data/demand.csv, by system
SITE_COLUMNS = [*SCHEMAS["sites"], "ammo_capacity_t"]  # the sites table, with the optional ammunition column
CLEARANCE_KM = 40.0  # destinations at least this far from closed territory


def _nodes_by_country():
    """Road nodes of the shipped extract with the country each lies in (the network code's tagging)."""
    from depotsite.network.graph import load_network

    network = load_network(DATA / "roads", DATA / "boundaries" / "countries.geojson")
    return network


def _clear_of_closed_area(network, nodes: np.ndarray) -> np.ndarray:
    """Which nodes lie at least ``CLEARANCE_KM`` from Belarus, Russia and Transnistria (so a ferry flight can
    keep the base's 25 km airspace margin); distances on a local equirectangular projection, to a few km."""
    import geopandas as gpd
    import shapely

    frame = gpd.read_file(DATA / "boundaries" / "countries.geojson")
    closed = list(frame.geometry[frame["country_id"].isin(["BY", "RU"])])
    closed += list(gpd.read_file(DATA / "regions.geojson").geometry)
    scale_x = math.cos(math.radians(48.5))
    area = shapely.transform(shapely.union_all(closed), lambda xy: xy * [scale_x, 1.0])
    points = shapely.points(network.lon[nodes] * scale_x, network.lat[nodes])
    return shapely.distance(area, points) * 111.195 >= CLEARANCE_KM


def generate(*, sites: int, destinations: int, seed: int, folder: Path) -> Path:
    """Write a seeded instance's tables and a scenario extending the base into ``folder``.

    Parameters
    ----------
    sites, destinations
        How many candidate sites (real road nodes in the host countries) and destinations (Ukrainian nodes).
    seed
        The random generator's seed: the same seed gives the same tables.
    folder
        Where the CSV tables and ``scale.toml`` go.

    Returns
    -------
    Path
        The scenario file.
    """
    rng = np.random.default_rng(seed)
    network = _nodes_by_country()
    country = network.country
    real = pd.read_csv(DATA / "sites.csv")
    kinds = real["kind"].value_counts(normalize=True).sort_index()
    candidates = np.flatnonzero(np.isin(country, HOSTS))
    chosen = rng.choice(candidates, size=sites, replace=False)
    drawn_kinds = rng.choice(kinds.index.to_numpy(), size=sites, p=kinds.to_numpy())
    rows = []
    for i, (node, kind) in enumerate(zip(chosen, drawn_kinds, strict=True)):
        like = real[real["kind"] == kind].iloc[int(rng.integers((real["kind"] == kind).sum()))]
        rows.append(
            {
                "site_id": f"g{i:05d}",
                "name": f"generated {kind} at road node {node}",
                "host_id": str(country[node]),
                "lat": round(float(network.lat[node]), 5),
                "lon": round(float(network.lon[node]), 5),
                "kind": kind,
                "vehicle_bays": int(like["vehicle_bays"]),
                "aircraft_shelters": int(like["aircraft_shelters"]),
                "dispatch_per_day": float(like["dispatch_per_day"]),
                "fixed_cost_musd": float(like["fixed_cost_musd"]),
                "source": f"benchmarks/scale.py seed {seed}: OSM road node {node}, capacities of {like['site_id']}",
                "ammo_capacity_t": float(like["ammo_capacity_t"]),
            }
        )
    pd.DataFrame(rows, columns=SITE_COLUMNS).to_csv(folder / "sites.csv", index=False)
    ukraine = np.flatnonzero((country == "UA") & (network.lon <= 36.3) & (network.lat >= 46.4))
    ukraine = ukraine[_clear_of_closed_area(network, ukraine)]
    targets = rng.choice(ukraine, size=destinations, replace=False)
    air = max(2, destinations // 4)
    with (folder / "destinations.csv").open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["destination_id", "name", "lat", "lon", "kind"])
        for j, node in enumerate(targets):
            kind = "air_base" if j < air else ("city" if j % 2 else "logistics_hub")
            writer.writerow(
                [
                    f"ua{j:03d}",
                    f"road node {node}",
                    round(float(network.lat[node]), 5),
                    round(float(network.lon[node]), 5),
                    kind,
                ]
            )
    eligible = {w: (list(range(air)) if w == "f16" else list(range(destinations))) for w in PACKAGE}
    write_demand(folder, eligible=eligible, destinations=destinations, seed=seed)
    max_sites = max(BASE_MAX_SITES, round(BASE_MAX_SITES * destinations / BASE_DESTINATIONS))
    scenario = folder / "scale.toml"
    scenario.write_text(
        f'extends = "{(ROOT / "models" / "base.toml").as_posix()}"\n'
        f'name = "scale {sites}x{destinations} seed {seed}"\n'
        f'description = "benchmarks/scale.py: {sites} generated sites, {destinations} destinations"\n\n'
        "[data]\n"
        f'sites = "{(folder / "sites.csv").as_posix()}"\n'
        f'destinations = "{(folder / "destinations.csv").as_posix()}"\n'
        f'demand = "{(folder / "demand.csv").as_posix()}"\n\n'
        "[constraints]\n"
        f"max_sites = {max_sites}\n",
        encoding="utf-8",
    )
    return scenario


def write_demand(folder: Path, *, eligible: dict[str, list[int]], destinations: int, seed: int) -> None:
    """``demand.csv``: each system's share of the scaled base package, split at random over its eligible
    destinations (each listed one gets at least a unit)."""
    rng = np.random.default_rng(seed + 1)
    with (folder / "demand.csv").open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["destination_id", "system_id", "units"])
        for w, base_units in PACKAGE.items():
            units = max(1, round(base_units * destinations / BASE_DESTINATIONS))
            rows_w = min(len(eligible[w]), units)
            where = sorted(rng.choice(eligible[w], size=rows_w, replace=False))
            split = 1 + rng.multinomial(units - rows_w, [1 / rows_w] * rows_w)
            for j, n in zip(where, split, strict=True):
                writer.writerow([f"ua{j:03d}", w, int(n)])


def servable(inputs, scenario, travel) -> dict[str, list[int]]:
    """For each system of the package, the destinations (by number) that sites of two hosts or more reach
    within its deadline: demand is only put where the base's rules can meet it."""
    from depotsite.inputs import units_fitting
    from depotsite.instance import release_delay_h

    hosts_reaching: dict[tuple[str, str], set[str]] = {}
    for (s, d, w), leg in travel.legs.items():
        if w not in PACKAGE or units_fitting(inputs.sites[s], inputs.systems[w]) == 0:
            continue
        host = inputs.sites[s].host_id
        rule = scenario.systems.get(w)
        limit = None if rule is None else rule.deadline_h
        if limit is None or release_delay_h(inputs, scenario, host) + leg.hours <= limit:
            hosts_reaching.setdefault((d, w), set()).add(host)
    return {
        w: [j for j, d in enumerate(inputs.destinations) if len(hosts_reaching.get((d, w), ())) >= 2] for w in PACKAGE
    }


def route(inputs, scenario):
    """The road matrix of every pair, by the package's network code, without the route points (``paths=False``):
    memory holds the hours and facts of every pair, not their lines."""
    from depotsite.network import travel_times

    return travel_times(inputs, scenario, use_cache=False, paths=False)


class Clock:
    """Wall and CPU seconds of one step."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def run_one(
    *,
    sites: int,
    destinations: int,
    seed: int,
    time_limit_s: float,
    reduce: str | None,
    start_share: float | None,
    settings: tuple[str, ...] | list[str] = (),
    routing_only: bool = False,
) -> dict:
    """Generate, route, build and solve one size; the figures of each step (only up to the routing with
    ``routing_only``)."""
    import depotsite
    import depotsite.reduction
    from depotsite.explain import run_solve
    from depotsite.reduction import solve_reduced, wanted
    from depotsite.timelimit import Deadline

    if start_share is not None:
        depotsite.reduction.START_SHARE = start_share
    with tempfile.TemporaryDirectory(prefix="depotsite-scale-") as tmp:
        with Clock() as gen:
            path = generate(sites=sites, destinations=destinations, seed=seed, folder=Path(tmp))
        overrides = [f"solver.time_limit_s={time_limit_s}"] + ([f"solver.reduce={reduce}"] if reduce else [])
        overrides += list(settings)  # as `depotsite solve --set`
        scenario = depotsite.load_scenario(path, overrides=overrides)
        inputs = depotsite.read_inputs(scenario)
        with Clock() as routing:
            travel = route(inputs, scenario)
        if routing_only:
            return {
                "sites": sites,
                "candidate_pairs": len(travel.legs),
                "routing_s": routing.wall,
                "routing_cpu_s": routing.cpu,
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        write_demand(Path(tmp), eligible=servable(inputs, scenario, travel), destinations=destinations, seed=seed)
        scenario = depotsite.load_scenario(path, overrides=overrides)
        inputs = depotsite.read_inputs(scenario)  # the same sites and destinations: the legs stand
        deadline = Deadline(time_limit_s)  # as the CLI: one limit for build and solve
        with Clock() as build:
            instance = depotsite.build_instance(inputs, travel, scenario)
        if wanted(instance):  # the reduction builds its restricted models between its solves
            with Clock() as solving:
                model, outcome = solve_reduced(instance, deadline=deadline, threads=scenario.solver.threads)
            record = dict(model.instance.reduction)
            built = record.get("timings_s", {}).get("build_s", 0.0)
            build.wall += built
            build.cpu += built  # pyomo's build is single-threaded: its CPU time is about its wall time
            solving.wall -= built
            solving.cpu -= built
        else:
            record = {}
            with Clock() as more:
                model = depotsite.build_model(instance, deadline=deadline)
            build.wall, build.cpu = build.wall + more.wall, build.cpu + more.cpu
            with Clock() as solving:
                outcome = run_solve(model, deadline=deadline, mip_gap=0.0, threads=scenario.solver.threads)
    return {
        "sites": sites,
        "destinations": destinations,
        "seed": seed,
        "routes": len(instance.routes),
        "candidate_pairs": len(travel.legs),
        "generate_s": gen.wall,
        "routing_s": routing.wall,
        "routing_cpu_s": routing.cpu,
        "build_s": build.wall,
        "build_cpu_s": build.cpu,
        "solve_s": solving.wall,
        "solve_cpu_s": solving.cpu,
        "status": outcome.status,
        "gap": outcome.gap,
        "objective": outcome.objective,
        "reduction": {k: v for k, v in record.items() if k != "timings_s"} or None,
        "reduction_timings_s": record.get("timings_s"),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", default="500,2000,10000", help="comma-separated sizes (candidate sites)")
    parser.add_argument("--destinations", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds for build and solve, per size")
    parser.add_argument("--reduce", default=None, help="override [solver] reduce (auto or off)")
    parser.add_argument(
        "--start-share",
        type=float,
        default=None,
        help="share of the time left for the reduction's start (depotsite.reduction.START_SHARE; 0: no start)",
    )
    parser.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a scenario override, as `depotsite solve --set` (e.g. solver.threads=1); repeatable",
    )
    parser.add_argument("--routing-only", action="store_true", help="generate and route each size, no build or solve")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # a child process: one size, JSON
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.sites.split(",")]
    if args.one:
        figures = run_one(
            sites=sizes[0],
            destinations=args.destinations,
            seed=args.seed,
            time_limit_s=args.time_limit,
            reduce=args.reduce,
            start_share=args.start_share,
            settings=args.settings,
            routing_only=args.routing_only,
        )
        print(json.dumps(figures))
        return
    if args.routing_only:
        print(f"{'sites':>6} {'legs':>9} {'routing s':>10} {'cpu s':>7} {'peak MB':>8}")
    else:
        print(
            f"{'sites':>6} {'routes':>8} {'routing s (cpu)':>16} {'build s (cpu)':>14} {'solve s (cpu)':>15} "
            f"{'build/solve':>11} {'status':>10} {'gap':>8} {'objective':>11} {'peak MB':>8}"
        )
    for n in sizes:
        command = [sys.executable, __file__, "--one", "--sites", str(n), "--destinations", str(args.destinations)]
        command += ["--seed", str(args.seed), "--time-limit", str(args.time_limit)]
        command += ["--reduce", args.reduce] if args.reduce else []
        command += ["--start-share", str(args.start_share)] if args.start_share is not None else []
        command += [arg for setting in args.settings for arg in ("--set", setting)]
        command += ["--routing-only"] if args.routing_only else []
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"{n:>6} failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}")
            continue
        f = json.loads(done.stdout.strip().splitlines()[-1])
        if args.routing_only:
            legs, wall, cpu = f["candidate_pairs"], f["routing_s"], f["routing_cpu_s"]
            print(f"{n:>6} {legs:>9} {wall:>10.1f} {cpu:>7.1f} {f['peak_mb']:>8.0f}")
            continue
        ratio = f["build_s"] / f["solve_s"] if f["solve_s"] > 0 else math.inf
        print(
            f"{n:>6} {f['routes']:>8} {f['routing_s']:>8.1f} ({f['routing_cpu_s']:>5.1f}) "
            f"{f['build_s']:>6.1f} ({f['build_cpu_s']:>5.1f}) {f['solve_s']:>7.1f} ({f['solve_cpu_s']:>5.1f}) "
            f"{100 * ratio:>10.0f}% {f['status']:>10} {100 * f['gap']:>7.3f}% {f['objective']:>11.4f} "
            f"{f['peak_mb']:>8.0f}"
        )
        if f["reduction"]:
            r = f["reduction"]
            print(
                f"       reduction: {r['kept_sites']} of {r['candidate_sites']} sites kept, {r['pruned_sites']} "
                f"priced out, {r['added_back_by_the_proof']} added back by the proof, {r['pricing_rounds']} "
                f"pricing rounds; proven: {r['proven']}; timings {f['reduction_timings_s']}"
            )
            if r.get("start"):
                st = r["start"]
                print(
                    f"       start: {st['objective']:.4f} over the {st['support_sites']} sites the relaxation opens "
                    "(and their dominators) "
                    f"({'best of them' if st['proven_in_support'] else 'time limit'}) in {st['seconds']:.1f} s; "
                    f"HiGHS took it: {st.get('accepted')}"
                )


if __name__ == "__main__":
    main()
