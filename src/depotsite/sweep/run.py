"""Run a checked sweep into its folder: skip what is done, group the rest by routing input, solve on Dask.

Cases whose routing inputs are the same (speeds, border hours, march discipline, avoided territory, the
points and the road files: the travel-time cache key; or the one bring-your-own matrix) share one travel-time
matrix, computed once here and scattered to the workers; release delays and every other key change only the
instance each task builds. The folder's outputs are written once every case has an answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from depotsite.errors import InputError
from depotsite.inputs import Inputs
from depotsite.output.outdir import resumable_folder, scenario_inputs
from depotsite.output.runfolder import data_files
from depotsite.scenario import Scenario
from depotsite.sources import travel_times_for
from depotsite.sweep.engine import Submission, run_cases
from depotsite.sweep.report import clear_outputs, write_outputs
from depotsite.sweep.spec import SweepPlan
from depotsite.sweep.store import SweepStore, fingerprint
from depotsite.sweep.tasks import RESULT_FORMAT, CaseTask, compact_travel, plain_inputs
from depotsite.tables import file_sha256
from depotsite.traveltimes import TravelTimes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepOutcome:
    """What a sweep run did: its folder, how many cases it skipped and solved, and every case's result."""

    folder: Path
    skipped: int
    solved: int
    routing_groups: int  # distinct travel-time matrices computed for the cases solved
    results: tuple[dict[str, Any], ...]  # in case order
    timings: dict[str, float]  # seconds: travel_s (the matrices), cases_s (the cases on Dask), outputs_s

    @property
    def statuses(self) -> dict[str, int]:
        """Cases per status."""
        counts: dict[str, int] = {}
        for r in self.results:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        return counts


def routing_key(scenario: Scenario, inputs: Inputs) -> str:
    """What a case's travel times depend on: its matrix file, or the road network's cache key."""
    if scenario.data.travel_times is not None:
        return f"matrix:{Path(scenario.data.travel_times).resolve()}:{file_sha256(scenario.data.travel_times)}"
    from depotsite.network import cache_key

    return f"roads:{cache_key(inputs, scenario)}"


def check_posture(stock: dict[tuple[str, str], int], plan: SweepPlan, source: Path) -> None:
    """A fixed posture must name the sites and systems of the sweep's tables.

    Raises
    ------
    InputError
        Every unknown site and system, naming the run.
    """
    inputs = plan.inputs[plan.cases[0].case_id]
    problems = [
        f"--posture {source}: site {s!r} is not in sites.csv of the sweep"
        for s in sorted({s for s, _ in stock})
        if s not in inputs.sites
    ]
    problems += [
        f"--posture {source}: system {w!r} is not in systems.csv of the sweep"
        for w in sorted({w for _, w in stock})
        if w not in inputs.systems
    ]
    if problems:
        raise InputError(problems)


def _case_scenario(scenario: Scenario, time_limit_s: float | None) -> Scenario:
    if time_limit_s is None:
        return scenario
    return scenario.model_copy(update={"solver": scenario.solver.model_copy(update={"time_limit_s": time_limit_s})})


def _fingerprints(plan: SweepPlan, posture: dict[tuple[str, str], int] | None) -> dict[str, str]:
    hashes: dict[Any, dict[str, str]] = {}
    prints = {}
    for case in plan.cases:
        scenario = plan.scenarios[case.case_id]
        if scenario.data not in hashes:
            hashes[scenario.data] = {role: file_sha256(path) for role, path in data_files(scenario.data).items()}
        question = scenario.model_dump(
            mode="json", exclude={"name": True, "description": True, "solver": {"time_limit_s", "threads", "log"}}
        )
        prints[case.case_id] = fingerprint(
            {
                "format": RESULT_FORMAT,
                "scenario": question,
                "sites": [(c.site_id, c.column, c.value) for c in case.site_changes],
                "inputs": hashes[scenario.data],
                "posture": None if posture is None else sorted([s, w, n] for (s, w), n in posture.items()),
            }
        )
    return prints


def run_sweep(
    plan: SweepPlan,
    out: Path,
    *,
    client: Any,
    time_limit_s: float | None = None,
    posture: dict[tuple[str, str], int] | None = None,
    posture_source: Path | None = None,
    command: Sequence[str] = (),
    on_result: Callable[[dict[str, Any]], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SweepOutcome:
    """Solve every case of ``plan`` not already done in ``out``, on the cluster of ``client``; write the outputs.

    Parameters
    ----------
    plan
        A checked sweep (``plan_sweep``).
    out
        The sweep folder: new, empty, or a sweep folder (resumed: its finished cases are skipped).
    client
        A ``distributed.Client`` (``depotsite.sweep.engine.dask_client``).
    time_limit_s
        Each case's time limit (build, solve and explanation); default its scenario's ``[solver] time_limit_s``.
    posture, posture_source
        The fixed posture's stock and the run folder it came from, for the fixed-posture question.
    command
        The command line, for the manifest.
    on_result
        Called with each result as it is stored (after it is safe in ``out``).
    progress
        Called as ``progress(done, total)`` after each case, and once before the first.

    Returns
    -------
    SweepOutcome
        Cases skipped and solved, the routing groups computed and every case's result.
    """
    if posture is not None:
        check_posture(posture, plan, posture_source or Path("?"))
    read = [
        plan.path,
        *scenario_inputs(plan.base, plan.base_scenario.data),
        *([posture_source] if posture_source else []),
    ]
    with resumable_folder(out, kind="sweep", inputs=read) as folder:
        clear_outputs(folder, plan)
        store = SweepStore(folder)
        prints = _fingerprints(plan, posture)
        done = store.done(prints)
        todo = [c for c in plan.cases if c.case_id not in done]
        total = len(plan.cases)
        log.info("sweep %s: %d case(s), %d done earlier, %d to solve", plan.name, total, len(done), len(todo))
        tables: dict[int, str] = {}
        shared_inputs: dict[str, Inputs] = {}
        groups: dict[str, str] = {}
        shared_travel: dict[str, TravelTimes] = {}
        submissions = []
        started = time.perf_counter()
        for case in todo:
            scenario, inputs = plan.scenarios[case.case_id], plan.inputs[case.case_id]
            if id(inputs) not in tables:
                tables[id(inputs)] = f"tables{len(tables)}"
                shared_inputs[tables[id(inputs)]] = plain_inputs(inputs)
            key = routing_key(scenario, inputs)
            if key not in groups:
                groups[key] = f"travel{len(groups)}"
                shared_travel[groups[key]] = compact_travel(travel_times_for(inputs, scenario))
            task = CaseTask(
                case_id=case.case_id,
                fingerprint=prints[case.case_id],
                scenario=_case_scenario(scenario, time_limit_s),
                site_changes=case.site_changes,
                time_limit_s=time_limit_s if time_limit_s is not None else scenario.solver.time_limit_s,
            )
            submissions.append(Submission(task, tables[id(inputs)], groups[key]))
        if todo:
            log.info(
                "sweep: %d travel-time matrix(es) for %d case(s) in %.2f s",
                len(groups),
                len(todo),
                time.perf_counter() - started,
            )
        results = dict(done)
        if progress:
            progress(len(results), total)

        def finished(result: dict[str, Any]) -> None:
            store.record(result)
            results[result["case_id"]] = result
            if on_result:
                on_result(result)
            if progress:
                progress(len(results), total)

        timings = {"travel_s": time.perf_counter() - started}
        started = time.perf_counter()
        run_cases(client, submissions, inputs=shared_inputs, travel=shared_travel, posture=posture, on_result=finished)
        timings["cases_s"] = time.perf_counter() - started
        started = time.perf_counter()
        ordered = tuple(results[c.case_id] for c in plan.cases)
        write_outputs(
            folder,
            plan,
            ordered,
            posture_source=posture_source,
            command=list(command),
            cluster=_cluster_text(client),
        )
        timings["outputs_s"] = time.perf_counter() - started
    return SweepOutcome(
        folder=folder,
        skipped=len(done),
        solved=len(todo),
        routing_groups=len(groups),
        results=ordered,
        timings=timings,
    )


def _cluster_text(client: Any) -> str:
    from depotsite.sweep.engine import describe

    try:
        return describe(client)
    except Exception:  # the cluster's description is informative only
        return "unknown"
