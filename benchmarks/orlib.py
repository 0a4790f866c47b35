"""Beasley's OR-Library capacitated warehouse location instances through depotsite's own model.

With one system, one host per site, release delay 0, risk weight 0, time_weight = total demand and
cost_weight = 1, depotsite's objective is exactly the classical capacitated facility location cost. For
each ``cap*`` file in DIR this prints our objective, the published optimum, our end-to-end time (build +
solve), and the time of the same formulation written directly in highspy, with the ratio.

Usage::

    python benchmarks/orlib.py DIR [--only cap41 cap131] [--threads 2]

The instance files are not part of the project (OR-Library, J. E. Beasley); the published optima are.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from importlib.metadata import version
from pathlib import Path

import highspy
import numpy as np

from depotsite.explain import run_solve
from depotsite.inputs import Destination, Host, Inputs, Site, System
from depotsite.instance import build_instance
from depotsite.model import build_model
from depotsite.scenario import Scenario
from depotsite.traveltimes import TravelTimes

# Published optimal costs (Beasley 1988; OR-Library capopt).
OPTIMA = {
    "cap41": 1040444.375,
    "cap42": 1098000.450,
    "cap43": 1153000.450,
    "cap44": 1235500.450,
    "cap51": 1025208.225,
    "cap61": 932615.750,
    "cap62": 977799.400,
    "cap63": 1014062.050,
    "cap64": 1045650.250,
    "cap71": 932615.750,
    "cap72": 977799.400,
    "cap73": 1010641.450,
    "cap74": 1034976.975,
    "cap81": 838499.288,
    "cap82": 910889.563,
    "cap83": 975889.563,
    "cap84": 1069369.525,
    "cap91": 796648.438,
    "cap92": 855733.500,
    "cap93": 896617.538,
    "cap94": 946051.325,
    "cap101": 796648.437,
    "cap102": 854704.200,
    "cap103": 893782.112,
    "cap104": 928941.750,
    "cap111": 826124.713,
    "cap112": 901377.213,
    "cap113": 970567.750,
    "cap114": 1063356.488,
    "cap121": 793439.563,
    "cap122": 852524.625,
    "cap123": 895302.325,
    "cap124": 946051.325,
    "cap131": 793439.562,
    "cap132": 851495.325,
    "cap133": 893076.712,
    "cap134": 928941.750,
}


def read_cap(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """capacities[m], fixed costs[m], demands[n], cost[m, n] (cost of serving all of j from i)."""
    tokens = path.read_text().split()
    m, n = int(tokens[0]), int(tokens[1])
    pos = 2
    capacity, fixed = np.empty(m), np.empty(m)
    for i in range(m):
        capacity[i], fixed[i] = float(tokens[pos]), float(tokens[pos + 1])
        pos += 2
    demand, cost = np.empty(n), np.empty((m, n))
    for j in range(n):
        demand[j] = float(tokens[pos])
        cost[:, j] = [float(x) for x in tokens[pos + 1 : pos + 1 + m]]
        pos += 1 + m
    return capacity, fixed, demand, cost


def as_depotsite(capacity, fixed, demand, cost) -> tuple[Inputs, TravelTimes, Scenario]:
    """The instance as depotsite values: a site (and host) per warehouse, a destination per customer."""
    m, n = cost.shape
    sites = [
        Site(
            f"w{i}",
            f"warehouse {i}",
            f"h{i}",
            0.0,
            0.0,
            "logistics_hub",
            int(capacity[i]),
            0,
            1.0,
            float(fixed[i]),
            "OR-Library",
        )
        for i in range(m)
    ]
    inputs = Inputs.build(
        hosts=[Host(f"h{i}", f"host {i}", "", 0.0) for i in range(m)],
        sites=sites,
        systems=[System("goods", "goods", "I", "road", 1.0, 1.0, 0.0, 0.0, 1, frozenset({"logistics_hub"}))],
        destinations=[Destination(f"c{j}", f"customer {j}", 0.0, 0.0, "city") for j in range(n)],
        demand={(f"c{j}", "goods"): int(demand[j]) for j in range(n)},
    )
    travel = TravelTimes.from_hours(
        {(f"w{i}", f"c{j}", "goods"): cost[i, j] / demand[j] for i in range(m) for j in range(n)}
    )
    scenario = Scenario.model_validate(
        {
            "name": "cap",
            "data": {k: "unused.csv" for k in ("hosts", "sites", "systems", "destinations", "demand", "travel_times")},
            "network": {"release_delay_h": 0.0},
            "objective": {"time_weight": float(demand.sum()), "risk_weight": 0.0, "cost_weight": 1.0},
            "solver": {"time_limit_s": 600.0, "mip_gap": 0.0},
        }
    )
    return inputs, travel, scenario


def solve_direct(capacity, fixed, demand, cost, *, threads: int) -> tuple[float, float]:
    """The same formulation (integer shipments, open binaries, the ship-if-open cut) in plain highspy."""
    m, n = cost.shape
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("threads", threads)
    inf = highspy.kHighsInf
    # columns: open[i] (m), then ship[i, j] (m*n) in row-major order
    col_cost = np.concatenate([fixed, (cost / demand[None, :]).ravel()])
    lower = np.zeros(m + m * n)
    upper = np.concatenate([np.ones(m), np.repeat(demand[None, :], m, axis=0).ravel()])
    h.addVars(m + m * n, lower, upper)
    h.changeColsCost(m + m * n, np.arange(m + m * n, dtype=np.int32), col_cost)
    h.changeColsIntegrality(
        m + m * n, np.arange(m + m * n, dtype=np.int32), np.full(m + m * n, highspy.HighsVarType.kInteger)
    )
    ship = lambda i, j: m + i * n + j  # noqa: E731
    for j in range(n):  # meet demand
        idx = np.array([ship(i, j) for i in range(m)], dtype=np.int32)
        h.addRow(demand[j], demand[j], m, idx, np.ones(m))
    for i in range(m):  # capacity if open
        idx = np.array([i] + [ship(i, j) for j in range(n)], dtype=np.int32)
        h.addRow(-inf, 0.0, n + 1, idx, np.concatenate([[-capacity[i]], np.ones(n)]))
    for i in range(m):  # ship only if open
        for j in range(n):
            h.addRow(-inf, 0.0, 2, np.array([ship(i, j), i], dtype=np.int32), np.array([1.0, -demand[j]]))
    started = time.perf_counter()
    h.run()
    return h.getInfo().objective_function_value, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description="OR-Library cap instances through depotsite's model")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--only", nargs="*", help="instance names, e.g. cap41 cap131")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    names = args.only or sorted(OPTIMA, key=lambda s: (len(s), s))
    print(
        f"machine: {platform.machine()}, {platform.processor() or platform.system()}, python "
        f"{platform.python_version()}, highspy {version('highspy')}"
    )
    print(f"{'instance':9} {'ours':>15} {'published':>15} {'rel.err':>9} {'ours_s':>8} {'direct_s':>8} {'ratio':>6}")
    worst, total_ours, total_direct = 0.0, 0.0, 0.0
    for name in names:
        path = args.folder / f"{name}.txt"
        if not path.exists():
            print(f"{name:9} missing file {path}", file=sys.stderr)
            continue
        data = read_cap(path)
        started = time.perf_counter()
        inputs, travel, scenario = as_depotsite(*data)
        model = build_model(build_instance(inputs, travel, scenario))
        outcome = run_solve(model, time_limit_s=600.0, mip_gap=0.0, threads=args.threads)
        ours_s = time.perf_counter() - started
        direct, direct_s = solve_direct(*data, threads=args.threads)
        rel = abs(outcome.objective - OPTIMA[name]) / OPTIMA[name]
        worst = max(worst, rel)
        total_ours += ours_s
        total_direct += direct_s
        print(
            f"{name:9} {outcome.objective:15.3f} {OPTIMA[name]:15.3f} {rel:9.1e} {ours_s:8.2f} {direct_s:8.2f} "
            f"{ours_s / direct_s:6.2f}",
            flush=True,
        )
        assert abs(direct - OPTIMA[name]) / OPTIMA[name] < 1e-6, f"direct highspy model disagrees on {name}"
    print(
        f"worst relative error {worst:.1e}; total ours {total_ours:.1f} s, direct {total_direct:.1f} s, "
        f"ratio {total_ours / max(total_direct, 1e-9):.2f}"
    )
    if worst > 1e-6:
        sys.exit("some instance differs from its published optimum by more than 1e-6")


if __name__ == "__main__":
    main()
