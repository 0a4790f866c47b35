"""Every shipped scenario: the model's solve against the plain formulation in highspy, and the whole process.

For each ``models/*.toml`` (road matrix cached), in one run:

* ``model`` -- ``build_model`` + ``solve`` (the strengthened formulation), in seconds, and its status;
* ``naive`` -- the docstring formulation written plainly in highspy (``benchmarks/naive.py``) on the same
  instance, in seconds, and the ratio naive / model; the difference of their optima (where the plain
  formulation claims a worse optimum, the model's posture is fixed in it to show it is feasible there);
* ``process`` -- ``depotsite solve SCENARIO --out TMP --no-maps`` as a whole process, the median of
  ``--runs`` runs (imports, inputs, cached matrix, model, solve, post-solve check, files).

Usage::

    python benchmarks/scenarios.py [--runs 3] [--time-limit 120] [--skip-naive] [models/base.toml ...]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from naive import solve_naive

from depotsite.instance import build_instance
from depotsite.model import build_model, posture_of
from depotsite.scenario import load_scenario
from depotsite.solve import solve
from depotsite.sources import read_inputs, travel_times_for

ROOT = Path(__file__).resolve().parents[1]


def whole_process_s(scenario: Path, runs: int) -> list[float]:
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(runs):
            started = time.perf_counter()
            subprocess.run(
                ["depotsite", "-q", "solve", str(scenario), "--out", f"{tmp}/run{i}", "--no-maps"],
                check=True,
                capture_output=True,
            )
            times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=3, help="whole-process runs per scenario")
    parser.add_argument("--time-limit", type=float, default=120.0, help="per solve, seconds")
    parser.add_argument("--skip-naive", action="store_true")
    args = parser.parse_args()
    files = args.scenarios or sorted((ROOT / "models").glob("*.toml"))
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, "
        f"pyomo {version('pyomo')}, highspy {version('highspy')}"
    )
    print(
        "| scenario | model (s) | status | naive (s) | naive status | ratio | naive - model objective | "
        "process median (min-max) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for path in files:
        scenario = load_scenario(path)
        inputs = read_inputs(scenario)
        travel = travel_times_for(inputs, scenario)  # fills the cache for the whole-process runs
        instance = build_instance(inputs, travel, scenario)
        started = time.perf_counter()
        model = build_model(instance)
        outcome = solve(model, time_limit_s=args.time_limit)
        model_s = time.perf_counter() - started
        naive = "-", "-", "-", "-"
        if not args.skip_naive and not (instance.queues and instance.time_measure != "makespan"):  # no plain queue
            objective, status, naive_s = solve_naive(instance, time_limit_s=args.time_limit)
            agree = f"{objective - outcome.objective:+.2g}"
            if objective > outcome.objective + 1e-6 * max(1.0, abs(objective)):
                # the plain formulation claims a worse optimum: is the model's posture feasible in it?
                fixed, fixed_status, _ = solve_naive(instance, time_limit_s=args.time_limit, fixed=posture_of(model))
                agree += f" (model's posture in it: {fixed_status} {fixed:.6g})"
            naive = f"{naive_s:.2f}", status, f"{naive_s / model_s:.1f}x", agree
        runs = whole_process_s(path, args.runs)
        print(
            f"| {path.stem} | {model_s:.2f} | {outcome.status} | {' | '.join(naive)} | "
            f"{statistics.median(runs):.2f} ({min(runs):.2f}-{max(runs):.2f}) |",
            flush=True,
        )


if __name__ == "__main__":
    main()
