"""A 9-point Pareto front on the base scenario: one model reused (mutable bounds, persistent HiGHS) vs a
model and solver rebuilt for every point. Prints both times and the ratio.

Usage::

    python benchmarks/pareto.py [--points 9] [--time-limit 20] [--scenario models/base.toml]
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
    parser.add_argument("--time-limit", type=float, default=20.0, help="per solve, seconds")
    parser.add_argument("--scenario", type=Path, default=ROOT / "models" / "base.toml")
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
