"""A 200-case sweep on a synthetic instance: a plain sequential loop against Dask with 1 and 2 local workers.

The instance is generated (seeded) with its own travel-time matrix, so each case solves in a fraction of a
second and the whole benchmark runs in a few minutes: 4 hosts with 3 sites each, 2 systems, 6 destinations,
the largest host share in the objective. The sweep is 10 release delays x 4 caps on one host x 5 draws of
another host's release delay. The sequential loop calls the task function (``solve_case``) case after case
in this process; the Dask runs are the whole ``run_sweep`` (scatter, tasks, one result file per case, the
outputs) on a ``LocalCluster`` started beforehand; the cases' wall time is timed apart from the cluster's
start-up and the outputs (both printed). Per-task overhead is (the cases' wall time on 1 worker - the
sequential loop's) / cases.

Usage::

    python benchmarks/sweep.py [--folder DIR]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import tempfile
import time
from pathlib import Path

from depotsite.sources import travel_times_for
from depotsite.sweep.engine import dask_client, warm_up
from depotsite.sweep.run import run_sweep
from depotsite.sweep.spec import plan_sweep
from depotsite.sweep.tasks import CaseTask, compact_travel, plain_inputs, solve_case
from depotsite.tables import SCHEMAS

HOSTS = ("H0", "H1", "H2", "H3")
SITES_PER_HOST = 3
DESTINATIONS = 6


def _csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)


def write_instance(folder: Path, seed: int = 2026) -> Path:
    """The synthetic tables, matrix, base scenario and 200-case sweep file; returns the sweep file."""
    rng = random.Random(seed)
    sites = [(f"s{h}{i}", h) for h in HOSTS for i in range(SITES_PER_HOST)]
    destinations = [f"d{j}" for j in range(DESTINATIONS)]
    _csv(folder / "hosts.csv", list(SCHEMAS["hosts"]), [[h, h, "", ""] for h in HOSTS])
    _csv(
        folder / "sites.csv",
        list(SCHEMAS["sites"]),
        [[s, s, h, 50, 20, "army_base", rng.randint(8, 20), 0, 24, rng.randint(5, 20), "synthetic"] for s, h in sites],
    )
    _csv(
        folder / "systems.csv",
        list(SCHEMAS["systems"]),
        [
            ["x", "x", "I", "wheeled", 1, 1, 0, 1, 1, "army_base"],
            ["y", "y", "III", "tracked", 3, 1, 0, 1, 1, "army_base"],
        ],
    )
    _csv(
        folder / "destinations.csv",
        list(SCHEMAS["destinations"]),
        [[d, d, 49, 30, "city"] for d in destinations],
    )
    _csv(
        folder / "demand.csv",
        list(SCHEMAS["demand"]),
        [[d, w, rng.randint(2, 5)] for d in destinations for w in ("x", "y")],
    )
    _csv(
        folder / "matrix.csv",
        ["site_id", "destination_id", "system_id", "transit_h"],
        [[s, d, w, round(rng.uniform(5, 40), 2)] for s, _ in sites for d in destinations for w in ("x", "y")],
    )
    (folder / "base.toml").write_text(
        'name = "synthetic"\n[data]\nhosts = "hosts.csv"\nsites = "sites.csv"\nsystems = "systems.csv"\n'
        'destinations = "destinations.csv"\ndemand = "demand.csv"\ntravel_times = "matrix.csv"\n'
        "[network]\nrelease_delay_h = 24\n[objective]\ntime_weight = 1\nrisk_weight = 0.5\ncost_weight = 0.05\n"
        + "".join(f"[hosts.{h}]\nmax_value_share = 0.4\n" for h in HOSTS)
    )
    sweep = folder / "sweep.toml"
    sweep.write_text(
        'scenario = "base.toml"\ndraws = 5\nseed = 1\n[grid]\n'
        '"network.release_delay_h" = [12, 18, 24, 30, 36, 42, 48, 60, 72, 96]\n'
        '"hosts.H0.max_value_share" = [0.3, 0.35, 0.4, 0.5]\n'
        '[uncertain."hosts.H1.release_delay_h"]\ndistribution = "uniform"\nlow = 0\nhigh = 72\n'
    )
    return sweep


def sequential(plan) -> float:
    """Every case through the task function, one after another in this process; returns the wall seconds."""
    first = plan.cases[0].case_id
    inputs = plain_inputs(plan.inputs[first])
    travel = compact_travel(travel_times_for(plan.inputs[first], plan.scenarios[first]))
    warm_up()  # as every Dask worker does before its first case
    started = time.perf_counter()
    for case in plan.cases:
        scenario = plan.scenarios[case.case_id]
        task = CaseTask(case.case_id, "", scenario, case.site_changes, scenario.solver.time_limit_s)
        result = solve_case(task, inputs, travel)
        assert result["status"] == "optimal", result
    return time.perf_counter() - started


def on_dask(plan, folder: Path, workers: int) -> tuple[float, float, float]:
    """The whole sweep on a local cluster of ``workers``: cluster start-up, the cases on Dask, the outputs (s)."""
    started = time.perf_counter()
    with dask_client(workers=workers) as client:
        ready = time.perf_counter()
        outcome = run_sweep(plan, folder / f"out{workers}", client=client)
    assert outcome.solved == len(plan.cases) and set(outcome.statuses) == {"optimal"}, outcome.statuses
    return ready - started, outcome.timings["cases_s"], outcome.timings["outputs_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--folder", type=Path, default=None, help="where to write the instance (default: a temporary folder)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="depotsite-sweep-bench-") as tmp:
        folder = args.folder or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        plan = plan_sweep(write_instance(folder))
        n = len(plan.cases)
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}; {n} cases")
        seq_s = sequential(plan)
        start1, one_s, outputs1 = on_dask(plan, folder, 1)
        start2, two_s, outputs2 = on_dask(plan, folder, 2)
        per_case = seq_s / n
        overhead = (one_s - seq_s) / n
        print(f"sequential loop      {seq_s:8.2f} s  ({1000 * per_case:.1f} ms per case)")
        print(f"Dask, 1 worker       {one_s:8.2f} s  (cluster start {start1:.2f} s and outputs {outputs1:.2f} s apart)")
        print(f"Dask, 2 workers      {two_s:8.2f} s  (cluster start {start2:.2f} s and outputs {outputs2:.2f} s apart)")
        print(f"speed-up 2 workers over 1: {one_s / two_s:.2f}x; over the sequential loop: {seq_s / two_s:.2f}x")
        share = 100 * overhead / per_case
        print(f"overhead per task on 1 worker: {1000 * overhead:.1f} ms = {share:.1f}% of a case's solve")


if __name__ == "__main__":
    main()
