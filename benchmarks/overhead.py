"""The fixed overhead of a whole ``depotsite`` process: imports, inputs, cached travel times, outputs, maps.

Three measurements, each as whole processes over ``--runs`` runs (min and median, wall and CPU time; the
CPU time is the children's user + system time, which on a shared machine excludes waiting for a core):

* ``cap`` -- a capacitated facility location instance of cap134's size (50 warehouses, 50 customers)
  through ``depotsite -q solve --no-maps`` against a direct highspy script of the same model (this file
  with ``--direct FILE``: numpy and highspy only). With ``--orlib DIR`` it is OR-Library's ``cap134.txt``
  from DIR (not part of the project); without, an instance of the same size and form is generated
  (``--seed``);
* ``base`` -- ``depotsite -q solve models/base.toml --no-maps`` and with the maps, and the base run's stages
  timed in one fresh process (``--stages``): the imports, inputs, travel times (cached), build, solve,
  collect, self-check, outputs and maps; ``--importtime N`` adds the N slowest imports of the solve
  command (``python -X importtime``) and ``--profile N`` the N costliest functions (cProfile, cumulative);
* ``maps`` -- the base run's ``map.html`` and ``map.png`` alone, and the files' sizes.

Usage::

    python benchmarks/overhead.py [--runs 5] [--orlib DIR] [--only cap base maps] [--importtime 15]
                                  [--profile 15]

Run it with the road matrix of ``models/base.toml`` cached (any earlier run fills ``DEPOTSITE_CACHE``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "models" / "base.toml"


# --- the capacitated facility location instance -------------------------------------------------------------


def read_cap(path: Path):
    """capacities[m], fixed costs[m], demands[n], cost[m][n] (cost of serving all of j from i), as lists."""
    tokens = path.read_text().split()
    m, n = int(tokens[0]), int(tokens[1])
    pos = 2
    capacity, fixed = [], []
    for _ in range(m):
        capacity.append(float(tokens[pos]))
        fixed.append(float(tokens[pos + 1]))
        pos += 2
    demand = []
    cost = [[0.0] * n for _ in range(m)]
    for j in range(n):
        demand.append(float(tokens[pos]))
        for i in range(m):
            cost[i][j] = float(tokens[pos + 1 + i])
        pos += 1 + m
    return capacity, fixed, demand, cost


def write_cap_like(path: Path, *, seed: int, m: int = 50, n: int = 50) -> None:
    """An instance in OR-Library's cap format of cap134's form: m warehouses each able to serve every
    customer (cap134's capacity is its total demand), a fixed cost of 25,000 at all but one (which costs
    nothing), demands from 30 to about 13,000 (log-uniform, cap134's range) and costs per unit of 100 times
    the distance between random points of the unit square (cap134's per-unit costs run from 0 to 118)."""
    import math
    import random

    rng = random.Random(seed)
    demand = [round(math.exp(rng.uniform(math.log(30), math.log(13000)))) for _ in range(n)]
    warehouses = [(rng.random(), rng.random()) for _ in range(m)]
    customers = [(rng.random(), rng.random()) for _ in range(n)]
    lines = [f" {m} {n} "]
    lines += [f" {sum(demand)} {0 if i == 0 else 25000}. " for i in range(m)]
    for j, (cx, cy) in enumerate(customers):
        lines.append(f" {demand[j]} ")
        per_unit = [math.hypot(wx - cx, wy - cy) * 100 for wx, wy in warehouses]
        lines.append(" ".join(f"{demand[j] * c:.3f}" for c in per_unit))
    path.write_text("\n".join(lines) + "\n")


def write_scenario(folder: Path, cap_file: Path) -> Path:
    """The instance as depotsite tables and a scenario (``benchmarks/orlib.py``'s mapping: a site and a host
    per warehouse, a destination per customer, hours = cost / demand, time weight = total demand)."""
    from depotsite.tables import SCHEMAS  # here, not at the top: the stage timings import depotsite themselves

    capacity, fixed, demand, cost = read_cap(cap_file)
    m, n = len(capacity), len(demand)

    def table(name: str, header: list[str], rows) -> None:
        with (folder / name).open("w", newline="") as stream:
            writer = csv.writer(stream)
            writer.writerow(header)
            writer.writerows(rows)

    table("hosts.csv", list(SCHEMAS["hosts"]), [[f"h{i}", f"host {i}", "", 0] for i in range(m)])
    table(
        "sites.csv",
        list(SCHEMAS["sites"]),
        [
            [f"w{i}", f"w{i}", f"h{i}", 0, 0, "logistics_hub", int(capacity[i]), 0, 1, repr(fixed[i]), "cap"]
            for i in range(m)
        ],
    )
    table(
        "systems.csv",
        list(SCHEMAS["systems"]),
        [["goods", "goods", "I", "road", 1, 1, 0, 0, 1, "logistics_hub"]],
    )
    table(
        "destinations.csv",
        list(SCHEMAS["destinations"]),
        [[f"c{j}", f"c{j}", 0, 0, "city"] for j in range(n)],
    )
    table("demand.csv", list(SCHEMAS["demand"]), [[f"c{j}", "goods", int(demand[j])] for j in range(n)])
    table(
        "matrix.csv",
        ["site_id", "destination_id", "system_id", "transit_h"],
        [[f"w{i}", f"c{j}", "goods", repr(cost[i][j] / demand[j])] for i in range(m) for j in range(n)],
    )
    scenario = folder / "cap.toml"
    scenario.write_text(
        "\n".join(
            [
                'name = "cap"',
                "[data]",
                *(f'{t} = "{t}.csv"' for t in ("hosts", "sites", "systems", "destinations", "demand")),
                'travel_times = "matrix.csv"',
                "[network]",
                "release_delay_h = 0",
                "[network.profiles.road]",
                "speed_kph = 1",
                "[objective]",
                f"time_weight = {sum(demand)!r}",
                "risk_weight = 0",
                "cost_weight = 1",
                "[solver]",
                "mip_gap = 0",
                "",
            ]
        )
    )
    return scenario


def solve_direct(cap_file: Path) -> None:
    """The model depotsite builds for the instance, written plainly in highspy: binary ``open[i]``, integer
    ``stock[i]`` <= min(total demand, capacity) * open, continuous ``ship[i, j]`` <= demand[j] * open, demand
    met exactly, ``stock[i]`` = what i ships; minimise fixed cost + cost per unit * units shipped."""
    import highspy
    import numpy as np

    capacity, fixed, demand, cost = (np.asarray(a, dtype=float) for a in read_cap(cap_file))
    m, n = cost.shape
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    inf = highspy.kHighsInf
    # columns: open[i] (m), stock[i] (m), ship[i, j] (m * n, row-major)
    ncol = 2 * m + m * n
    col_cost = np.concatenate([fixed, np.zeros(m), (cost / demand[None, :]).ravel()])
    upper = np.concatenate([np.ones(m), np.minimum(capacity, demand.sum()), np.repeat(demand[None, :], m, 0).ravel()])
    h.addVars(ncol, np.zeros(ncol), upper)
    h.changeColsCost(ncol, np.arange(ncol, dtype=np.int32), col_cost)
    h.changeColsIntegrality(
        2 * m, np.arange(2 * m, dtype=np.int32), np.full(2 * m, highspy.HighsVarType.kInteger, dtype=np.uint8)
    )
    ship = m * 2 + np.arange(m * n, dtype=np.int32).reshape(m, n)
    for j in range(n):
        h.addRow(demand[j], demand[j], m, ship[:, j], np.ones(m))
    for i in range(m):
        h.addRow(0.0, 0.0, n + 1, np.concatenate([[m + i], ship[i]]).astype(np.int32), np.r_[-1.0, np.ones(n)])
        h.addRow(-inf, 0.0, 2, np.array([m + i, i], dtype=np.int32), np.array([1.0, -upper[m + i]]))
        for j in range(n):
            h.addRow(-inf, 0.0, 2, np.array([ship[i, j], i], dtype=np.int32), np.array([1.0, -demand[j]]))
    h.run()
    print(f"{h.getInfo().objective_function_value:.6f} {h.modelStatusToString(h.getModelStatus())}")


# --- whole processes ------------------------------------------------------------------------------------------


def timed(command: list[str], runs: int) -> tuple[list[float], list[float], str]:
    """Wall and CPU seconds of ``runs`` runs of a command, and the last run's stdout."""
    walls, cpus, stdout = [], [], ""
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        stdout = done.stdout
    return walls, cpus, stdout


def figures(walls: list[float], cpus: list[float]) -> str:
    return (
        f"wall min {min(walls):.2f} s median {statistics.median(walls):.2f} s, "
        f"CPU min {min(cpus):.2f} s median {statistics.median(cpus):.2f} s"
    )


def depotsite_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "depotsite.cli", *args]


def measure_cap(args: argparse.Namespace, tmp: Path) -> None:
    if args.orlib is not None:
        cap_file, label = args.orlib / "cap134.txt", "OR-Library cap134"
    else:
        cap_file, label = tmp / "cap_like.txt", f"generated 50 x 50 instance (seed {args.seed})"
        write_cap_like(cap_file, seed=args.seed)
    scenario = write_scenario(tmp, cap_file)
    print(f"\n## cap: {label}")
    ours = timed(depotsite_command("-q", "solve", str(scenario), "--out", str(tmp / "run"), "--no-maps"), args.runs)
    summary = json.loads((tmp / "run" / "summary.json").read_text())
    direct = timed([sys.executable, __file__, "--direct", str(cap_file)], args.runs)
    objective, status = direct[2].splitlines()[-1].split()  # after HiGHS's banner
    print(f"depotsite solve --no-maps: {figures(*ours[:2])}; {summary['status']} {summary['objective']:.6f}")
    print(f"  its own stages: {', '.join(f'{k} {v:.3f}' for k, v in summary['timings_s'].items())}")
    print(f"direct highspy script:     {figures(*direct[:2])}; {status} {float(objective):.6f}")
    print(
        f"ratio depotsite / direct: wall {statistics.median(ours[0]) / statistics.median(direct[0]):.2f}x, "
        f"CPU {statistics.median(ours[1]) / statistics.median(direct[1]):.2f}x (medians; target 1.2x)"
    )


def stages(scenario_path: Path, out: Path) -> None:
    """The base run's stages in this (fresh) process, as one JSON line of seconds."""
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = now - clock
        clock = now

    from depotsite.cli import app  # noqa: F401 - the command line's own imports

    lap("import cli")
    from depotsite.scenario import resolve_scenario
    from depotsite.sources import read_inputs, travel_times_for

    lap("import inputs")
    scenario, changes = resolve_scenario(scenario_path, overrides=[])
    inputs = read_inputs(scenario)
    lap("inputs")
    travel = travel_times_for(inputs, scenario)
    lap("travel times (cached)")
    from depotsite.explain import run_solve
    from depotsite.instance import build_instance
    from depotsite.model import build_model, posture_of

    lap("import model")
    model = build_model(build_instance(inputs, travel, scenario))
    lap("build")
    outcome = run_solve(model, time_limit_s=scenario.solver.time_limit_s, threads=scenario.solver.threads)
    lap("solve")
    from depotsite.results import collect

    result = collect(model.instance, posture_of(model), outcome, warnings=travel.warnings)
    lap("collect")
    from depotsite.output.geojson import depots_geojson, routes_geojson
    from depotsite.output.runfolder import summary, write_run
    from depotsite.selfcheck import check_posture

    p = model.instance
    summary_doc = summary(result, p, travel, changes=changes)
    depots, routes = depots_geojson(result, p), routes_geojson(result, p, travel)
    check_posture(result, p, travel, summary=summary_doc, depots=depots, routes=routes)
    lap("self-check (with the summary and layers it checks)")
    write_run(out / "nomaps", result, p, travel, changes=changes, maps=False)
    lap("outputs without maps")
    from depotsite.output.maps import write_maps

    lap("import maps")
    (out / "maps").mkdir()
    write_maps(out / "maps", result, p, travel, changes=changes)
    lap("maps")
    print(json.dumps(seconds))


def measure_base(args: argparse.Namespace, tmp: Path) -> None:
    print(f"\n## base: {BASE.relative_to(ROOT)}")
    for label, extra in (("--no-maps", ["--no-maps"]), ("with maps", [])):
        walls, cpus, _ = timed(
            depotsite_command("-q", "solve", str(BASE), "--out", str(tmp / f"base{len(extra)}"), *extra), args.runs
        )
        summary = json.loads((tmp / f"base{len(extra)}" / "summary.json").read_text())
        solve_s = summary["timings_s"]["solve_wall_s"]
        print(f"depotsite solve {label}: {figures(walls, cpus)}; of which the solve {solve_s:.2f} s (last run)")
    runs = []
    for i in range(args.runs):
        (tmp / f"stages{i}").mkdir()
        runs.append(json.loads(timed([sys.executable, __file__, "--stages", str(tmp / f"stages{i}")], 1)[2]))
    print("| stage | min (s) | median (s) |\n|---|---|---|")
    for name in runs[0]:
        values = [r[name] for r in runs]
        print(f"| {name} | {min(values):.3f} | {statistics.median(values):.3f} |")
    if args.importtime:
        solving = depotsite_command("-q", "solve", str(BASE), "--out", str(tmp / "importtime"), "--no-maps")
        done = subprocess.run(
            [sys.executable, "-X", "importtime", *solving[1:]],
            check=True,
            capture_output=True,
            text=True,
        )
        rows = []
        for line in done.stderr.splitlines():
            if line.startswith("import time:") and "|" in line and "cumulative" not in line:
                _, cumulative, name = line.split("|")
                rows.append((int(cumulative), name.rstrip()))
        print("slowest imports of solve --no-maps (cumulative, top-level packages first; -X importtime):")
        for cumulative, name in sorted(rows, reverse=True)[: args.importtime]:
            print(f"  {cumulative / 1e6:6.3f} s {name}")
    if args.profile:
        import pstats

        profiled = ["-m", "cProfile", "-o", str(tmp / "solve.prof"), "-m", "depotsite.cli", "-q", "solve", str(BASE)]
        subprocess.run(
            [sys.executable, *profiled, "--out", str(tmp / "profile"), "--no-maps"],
            check=True,
            capture_output=True,
        )
        print("costliest functions of solve --no-maps (cProfile, cumulative):")
        pstats.Stats(str(tmp / "solve.prof"), stream=sys.stdout).sort_stats("cumulative").print_stats(args.profile)


def maps_only(out: Path) -> None:
    """The base run's maps alone, written from a posture solved in this process; one JSON line."""
    from depotsite.explain import run_solve
    from depotsite.instance import build_instance
    from depotsite.model import build_model, posture_of
    from depotsite.results import collect
    from depotsite.scenario import resolve_scenario
    from depotsite.sources import read_inputs, travel_times_for

    scenario, changes = resolve_scenario(BASE, overrides=[])
    inputs = read_inputs(scenario)
    travel = travel_times_for(inputs, scenario)
    model = build_model(build_instance(inputs, travel, scenario))
    outcome = run_solve(model, time_limit_s=scenario.solver.time_limit_s, threads=scenario.solver.threads)
    result = collect(model.instance, posture_of(model), outcome, warnings=travel.warnings)
    from depotsite.output.maps import html_map_file, png_map

    seconds = {}
    started = time.perf_counter()
    html_map_file(out, result, model.instance, travel, changes=changes)
    seconds["map.html"] = time.perf_counter() - started
    started = time.perf_counter()
    png_map(out / "map.png", result, model.instance, travel, changes=changes)
    seconds["map.png"] = time.perf_counter() - started
    sizes = {f.name: f.stat().st_size for f in sorted(out.iterdir())}
    print(json.dumps({"seconds": seconds, "bytes": sizes}))


def measure_maps(args: argparse.Namespace, tmp: Path) -> None:
    print("\n## maps of the base run (imports included; the first run also loads the map modules)")
    runs = []
    for i in range(args.runs):
        (tmp / f"maps{i}").mkdir()
        runs.append(json.loads(timed([sys.executable, __file__, "--maps", str(tmp / f"maps{i}")], 1)[2]))
    for name in runs[0]["seconds"]:
        values = [r["seconds"][name] for r in runs]
        print(f"{name}: min {min(values):.2f} s, median {statistics.median(values):.2f} s")
    print("files: " + ", ".join(f"{name} {size / 1e6:.2f} MB" for name, size in runs[0]["bytes"].items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--orlib", type=Path, help="a folder with OR-Library's cap134.txt")
    parser.add_argument("--seed", type=int, default=134, help="of the generated instance, without --orlib")
    parser.add_argument("--only", nargs="*", choices=["cap", "base", "maps"], default=["cap", "base", "maps"])
    parser.add_argument("--importtime", type=int, default=0, metavar="N")
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    parser.add_argument("--direct", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--stages", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--maps", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.direct is not None:
        return solve_direct(args.direct)
    if args.stages is not None:
        return stages(BASE, args.stages)
    if args.maps is not None:
        return maps_only(args.maps)
    load = os.getloadavg()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}; "
        f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (other jobs share the cores: compare CPU times)"
    )
    with tempfile.TemporaryDirectory(prefix="depotsite-overhead-") as folder:
        tmp = Path(folder)
        for name in args.only:
            (tmp / name).mkdir()
            {"cap": measure_cap, "base": measure_base, "maps": measure_maps}[name](args, tmp / name)


if __name__ == "__main__":
    main()
