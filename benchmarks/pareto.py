"""A 9-point Pareto front on the base scenario: one model reused (mutable bounds, persistent HiGHS) vs a
model and solver rebuilt for every point. Prints both times and the ratio.

With ``--processes N`` it times the command instead, ``depotsite -q pareto SCENARIO --points P --time-limit
T`` as a whole process N times (road matrix cached), and prints the wall and CPU seconds (min, median) and
how many points were proven optimal.

Usage::

    python benchmarks/pareto.py [--points 9] [--time-limit 300] [--scenario models/base.toml] [--processes N]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

from depotsite.analysis.tradeoffs import pareto_front
from depotsite.inputs import load_inputs
from depotsite.instance import build_instance
from depotsite.model import build_model
from depotsite.network import travel_times
from depotsite.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=9)
    parser.add_argument("--time-limit", type=float, default=300.0, help="of the whole front, seconds")
    parser.add_argument("--scenario", type=Path, default=ROOT / "models" / "base.toml")
    parser.add_argument("--processes", type=int, default=0, metavar="N", help="time the command N times instead")
    args = parser.parse_args()
    if args.processes:
        whole_processes(args)
        return
    scenario = load_scenario(args.scenario)
    d = scenario.data
    inputs = load_inputs(hosts=d.hosts, sites=d.sites, systems=d.systems, destinations=d.destinations, demand=d.demand)
    travel = travel_times(inputs, scenario)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}; "
        f"scenario {scenario.name}, {args.points} points, time limit {args.time_limit:g} s per solve"
    )

    def build():
        return build_model(build_instance(inputs, travel, scenario))

    started = time.perf_counter()
    reused = pareto_front(build(), points=args.points, time_limit_s=args.time_limit)
    reused_s = time.perf_counter() - started
    started = time.perf_counter()
    rebuilt = pareto_front(build(), points=args.points, time_limit_s=args.time_limit, rebuild=build)
    rebuilt_s = time.perf_counter() - started
    limited = sum(pt.result.status != "optimal" for pt in reused)
    same = all(
        abs(a.result.terms["time_h"] - b.result.terms["time_h"]) < 1e-6
        and abs(a.result.terms["risk"] - b.result.terms["risk"]) < 1e-6
        for a, b in zip(reused, rebuilt, strict=True)
    )
    print(f"model reused   {reused_s:8.2f} s")
    print(f"model rebuilt  {rebuilt_s:8.2f} s")
    print(f"ratio rebuilt/reused {rebuilt_s / reused_s:.2f}x; points at the time limit: {limited}; same front: {same}")


def whole_processes(args: argparse.Namespace) -> None:
    """The pareto command as a whole process, ``args.processes`` times; wall and children's CPU seconds
    (timed as ``overhead.py`` times its commands)."""
    import csv
    import tempfile

    from overhead import depotsite_command, figures, timed  # this folder's script, on the path when run

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, load average "
        + " ".join(f"{x:.1f}" for x in os.getloadavg())
        + f"; {args.scenario.name}, {args.points} points, time limit {args.time_limit:g} s for the front"
    )
    walls, cpus = [], []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "front"
        command = depotsite_command("-q", "pareto", str(args.scenario), "--out", str(out))
        command += ["--points", str(args.points), "--time-limit", str(args.time_limit)]
        for _ in range(args.processes):
            wall, cpu, _ = timed(command, 1)
            walls += wall
            cpus += cpu
            with (out / "front.csv").open(newline="") as stream:
                proven = sum(row["status"] == "optimal" for row in csv.DictReader(stream))
            print(f"  run {len(walls)}: wall {walls[-1]:.2f} s, CPU {cpus[-1]:.2f} s, {proven} of {args.points} proven")
    print(f"whole process: {figures(walls, cpus)}")


if __name__ == "__main__":
    main()
