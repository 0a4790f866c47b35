"""How much branch and bound each shipped scenario takes, by HiGHS thread count and option.

HiGHS's search is deterministic for a given model, thread count and option set: the nodes and simplex
iterations repeat exactly from run to run, while the seconds move with the machine's load. So this script
prints the work (nodes, simplex iterations) beside the seconds, and a change of formulation or option is
judged by the work first.

For each scenario (road matrix cached) the model is built once with ``build_model``; each variant (a thread
count and a set of HiGHS options) loads it into a new solver of pyomo's HiGHS interface and solves it to a
gap of 0.

Usage::

    python benchmarks/search.py [--threads 1,2] [--option mip_pscost_minreliable=4 ...] [--runs 1]
        [--time-limit 120] [models/base.toml ...]

Each ``--option`` is a variant of its own (solved with the first thread count); several options in one
variant are joined by commas: ``--option mip_pscost_minreliable=4,mip_heuristic_effort=0.1``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from importlib.metadata import version
from pathlib import Path

from pyomo.contrib.solver.solvers.highs import Highs

from depotsite.instance import build_instance
from depotsite.model import build_model
from depotsite.scenario import load_scenario
from depotsite.solve import _use_threads  # HiGHS's one scheduler per process, restarted for another count
from depotsite.sources import read_inputs, travel_times_for

ROOT = Path(__file__).resolve().parents[1]
SKIPPED = ("queues",)  # solved in rounds (secants added between them): one HiGHS run says little


def _value(text: str) -> bool | int | float | str:
    """An option's value from the command line: true/false, a whole number, a number, or the text."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def variants(threads: list[int], options: list[str]) -> list[tuple[int, dict]]:
    """(threads, HiGHS options) per variant: each thread count with HiGHS's defaults, then each option set."""
    found = [(t, {}) for t in threads]
    for text in options:
        pairs = [item.split("=", 1) for item in text.split(",")]
        if any(len(p) != 2 for p in pairs):
            raise SystemExit(f"--option {text!r}: write KEY=VALUE, several joined by commas")
        found.append((threads[0], {k.strip(): _value(v.strip()) for k, v in pairs}))
    return found


def search(model, *, threads: int, options: dict, time_limit_s: float) -> tuple[float, str, float, int, int]:
    """One HiGHS run of ``model``: seconds, termination, objective, nodes, simplex iterations."""
    _use_threads(threads)
    solver = Highs()
    started = time.perf_counter()
    results = solver.solve(
        model,
        time_limit=time_limit_s,
        rel_gap=0.0,
        threads=threads,
        load_solutions=False,
        raise_exception_on_nonoptimal_result=False,
        solver_options=options,
    )
    seconds = time.perf_counter() - started
    info = solver._solver_model.getInfo()  # the interface reports no node count of its own
    objective = results.incumbent_objective if results.incumbent_objective is not None else float("nan")
    status = results.termination_condition.name.replace("convergenceCriteriaSatisfied", "optimal")
    return seconds, status, objective, info.mip_node_count, info.simplex_iteration_count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", type=Path)
    parser.add_argument("--threads", default="2", help="thread counts, comma-separated (default 2)")
    parser.add_argument("--option", action="append", default=[], help="KEY=VALUE[,KEY=VALUE]: a variant")
    parser.add_argument("--runs", type=int, default=1, help="runs per variant (the work repeats; the time not)")
    parser.add_argument("--time-limit", type=float, default=120.0, help="per solve, seconds")
    args = parser.parse_args()
    files = args.scenarios or [p for p in sorted((ROOT / "models").glob("*.toml")) if p.stem not in SKIPPED]
    chosen = variants([int(t) for t in args.threads.split(",")], args.option)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, "
        f"pyomo {version('pyomo')}, highspy {version('highspy')}"
    )
    print("| scenario | threads | options | seconds | status | objective | nodes | simplex iterations |")
    print("|---|---|---|---|---|---|---|---|")
    names = [", ".join(f"{k}={v}" for k, v in options.items()) or "defaults" for _, options in chosen]
    totals = [[0.0, 0, 0] for _ in chosen]  # per variant: seconds, nodes, simplex iterations over the scenarios
    for path in files:
        scenario = load_scenario(path)
        inputs = read_inputs(scenario)
        model = build_model(build_instance(inputs, travel_times_for(inputs, scenario), scenario))
        for (threads, options), named, total in zip(chosen, names, totals, strict=True):
            for _ in range(args.runs):  # each run loads the model into a new solver: the model is unchanged
                seconds, status, objective, nodes, iterations = search(
                    model, threads=threads, options=options, time_limit_s=args.time_limit
                )
                total[0] += seconds
                total[1] += nodes
                total[2] += iterations
                print(
                    f"| {path.stem} | {threads} | {named} | {seconds:.2f} | {status} | {objective:.6f} | {nodes} | "
                    f"{iterations} |",
                    flush=True,
                )
    for (threads, _), named, (seconds, nodes, iterations) in zip(chosen, names, totals, strict=True):
        print(f"| **all** | {threads} | {named} | {seconds:.2f} | | | {nodes} | {iterations} |")


if __name__ == "__main__":
    main()
