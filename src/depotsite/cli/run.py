"""Commands that solve and inspect single runs: solve, validate, travel-times, compare."""

from __future__ import annotations

import contextlib
import csv
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from depotsite.cli.common import (
    TIME_LIMIT_HELP,
    NameOption,
    ScenarioArg,
    SetOption,
    SolverWatch,
    app,
    command_overrides,
    compute_travel,
    err,
    guarded,
    load_checked,
    out,
    state,
    step,
)


@app.command()
@guarded
def solve(
    scenario: ScenarioArg,
    out_dir: Annotated[Path, typer.Option("--out", help="Run folder to write (replaced atomically).")],
    set_: SetOption = [],  # noqa: B006 - typer reads the default
    time_limit: Annotated[float | None, typer.Option("--time-limit", help=TIME_LIMIT_HELP)] = None,
    save_lp: Annotated[Path | None, typer.Option("--save-lp", help="Also write the model as an LP file.")] = None,
    no_maps: Annotated[bool, typer.Option("--no-maps", help="Skip map.html and map.png.")] = False,
    name: NameOption = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print summary.json to stdout instead of the tables (logs and warnings stay on stderr)."
        ),
    ] = False,
    solver_log: Annotated[
        bool, typer.Option("--solver-log", help="Also keep HiGHS's own log in the run folder (highs.log).")
    ] = False,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="Also say which rules bind, their price and why each "
            "site is open (in summary.json and map.html; a time limit of its own, "
            "the same as the solve's).",
        ),
    ] = False,
) -> None:
    """Solve a scenario and write its run folder."""
    from depotsite.explain import run_solve
    from depotsite.instance import build_instance
    from depotsite.model import build_model, posture_of
    from depotsite.output.outdir import scenario_inputs
    from depotsite.output.runfolder import write_run
    from depotsite.reduction import build_and_solve, wanted
    from depotsite.results import collect
    from depotsite.timelimit import Deadline

    timings: dict[str, float] = {}
    overrides = command_overrides(list(set_), time_limit_s=time_limit, name=name)
    sc, inputs, changes = load_checked(scenario, overrides, timings)
    used = scenario_inputs(scenario, sc.data)
    check_solve_outputs(out_dir, save_lp, inputs=used)
    travel = compute_travel(sc, inputs, timings)
    deadline = Deadline(sc.solver.time_limit_s)  # one limit for build, solve and explanation
    with step("building the model", timings, "build_s", deadline=deadline):
        instance = build_instance(inputs, travel, sc)
        reduced = save_lp is None and wanted(instance)  # the reduction builds its models as it solves
        model = None if reduced else build_model(instance, deadline=deadline)
    if save_lp is not None:
        writing = time.monotonic()
        assert model is not None  # --save-lp builds the full model
        write_lp(model, save_lp, inputs=used)
        deadline = replace(deadline, started=deadline.started + time.monotonic() - writing)  # not counted
    with contextlib.ExitStack() as stack:
        highs_log = None
        if solver_log:  # HiGHS writes its log while it runs; the run folder is staged only afterwards
            highs_log = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="depotsite-log-"))) / "highs.log"
        watch = stack.enter_context(SolverWatch())
        with step("solving with HiGHS", timings, "solve_wall_s", deadline=deadline, watch=watch):
            options = {
                "deadline": deadline,
                "mip_gap": sc.solver.mip_gap,
                "threads": sc.solver.threads,
                "show_log": sc.solver.log,
                "watcher": watch,
                "log_file": None if highs_log is None else str(highs_log),
            }
            if model is None:
                model, outcome = build_and_solve(instance, **options)
            else:
                outcome = run_solve(model, **options)
        posture = posture_of(model)
        result = collect(model.instance, posture, outcome, timings=timings, warnings=travel.warnings)
        explanation = explain_for_summary(model.instance, posture, result, sc, timings) if explain else None
        with step("writing outputs", timings, "export_s"):
            write_run(
                out_dir,
                result,
                model.instance,
                travel,
                command=sys.argv,
                overrides=overrides,
                changes=changes,
                maps=not no_maps,
                explanation=explanation,
                attachments={"highs.log": highs_log} if highs_log is not None and highs_log.is_file() else None,
            )
    if as_json:
        for warning in result.warnings:
            err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
        sys.stdout.write((out_dir / "summary.json").read_text(encoding="utf-8"))
    elif not state["quiet"]:
        print_summary(result, model.instance, out_dir)


def explain_for_summary(p, posture, result, sc, timings: dict[str, float]) -> dict:
    """``solve --explain``: which rules bind and why each site is open, with a time limit of its own."""
    from depotsite.analysis.binding import explain_posture
    from depotsite.analysis.binding_words import as_dict
    from depotsite.timelimit import Deadline

    budget = Deadline(sc.solver.time_limit_s)
    with step("pricing the rules and re-solving the binding ones", timings, "explain_s", deadline=budget):
        return as_dict(explain_posture(p, posture, result, deadline=budget, threads=sc.solver.threads))


def check_solve_outputs(out_dir: Path, save_lp: Path | None, *, inputs: list[Path]) -> None:
    """Refuse, before any work, an ``--out`` or ``--save-lp`` that writing could destroy (see outdir)."""
    from depotsite.output.outdir import absolute_path, file_problems, folder_problems, refuse

    problems = folder_problems(out_dir, kind="run", inputs=inputs)
    if save_lp is not None:
        lp_problems = file_problems(save_lp, inputs=inputs, option="--save-lp")
        if not lp_problems and absolute_path(save_lp).is_relative_to(absolute_path(out_dir)):
            lp_problems = [
                f"--save-lp {save_lp}: is inside --out {out_dir}, which the run folder replaces; "
                "save the LP file elsewhere"
            ]
        if not lp_problems and _lp_format(save_lp) is None:
            lp_problems = [f"--save-lp {save_lp}: name the file .lp (CPLEX LP) or .mps (MPS)"]
        problems += lp_problems
    refuse(problems)


def write_lp(model, path: Path, *, inputs: list[Path]) -> None:
    """Write the model as an LP (or MPS) file, atomically, with the formulation's names."""
    from depotsite.output.outdir import atomic_file

    with atomic_file(path, inputs=inputs, option="--save-lp") as staged:
        model.write(str(staged), format=_lp_format(path), io_options={"symbolic_solver_labels": True})


def _lp_format(path: Path):
    """pyomo's writer format for the file's name (None: neither .lp nor .mps). Only here, on ``--save-lp``,
    is ``pyomo.environ`` imported: it registers the LP and MPS writers, and a solve needs none of its plugins."""
    import pyomo.environ  # noqa: F401
    from pyomo.opt import guess_format

    return guess_format(str(path))


def print_summary(result, p, out_dir: Path) -> None:
    table = Table(
        title=f"{result.scenario}: {result.status}, objective {result.objective:.4g}"
        + (f", gap {100 * result.gap:.2f}%" if result.gap > 0 else "")
    )
    table.add_column("host")
    for w in p.systems:
        table.add_column(w, justify="right")
    table.add_column("value share", justify="right")
    units = result.host_units(p.host_of)
    for h in p.hosts:
        table.add_row(h, *[str(units.get((h, w), 0) or "") for w in p.systems], f"{result.host_value_shares[h]:.1f}%")
    out.print(table)
    times = Table(title="time to availability in Ukraine (hours)")
    for column in ("system", "units", "mean", "worst", "crews"):
        times.add_column(column, justify="right" if column != "system" else "left")
    for w in p.systems:
        t = result.system_times[w]
        times.add_row(w, str(p.requirement[w]), f"{t.mean_h:.1f}", f"{t.worst_h:.1f}", f"{result.crews[w]:g}")
    out.print(times)
    from depotsite.output.runfolder import risk_unit

    unit = risk_unit(result.risk_measure, short=True)
    out.print(
        f"time ({result.time_measure}) {result.terms['time_h']:.2f} h · risk ({result.risk_measure}) "
        f"{result.terms['risk']:.2f} {unit} · cost {result.terms['cost_musd']:.1f} M USD · "
        f"{len(result.open_sites)} sites open"
    )
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    out.print(f"wrote {out_dir}")


@app.command()
@guarded
def validate(
    scenario: ScenarioArg,
    set_: SetOption = [],  # noqa: B006
) -> None:
    """Check a scenario and its input tables without solving."""
    timings: dict[str, float] = {}
    _, inputs, _ = load_checked(scenario, list(set_), timings)
    req = inputs.requirement
    out.print(
        f"{scenario}: valid; {len(inputs.sites)} sites in {len(inputs.hosts)} hosts, "
        f"{len(inputs.destinations)} destinations, package "
        + ", ".join(f"{n} {w}" for w, n in req.items() if n > 0)
        + f" ({inputs.package_value_musd:,.0f} M USD)"
    )


@app.command("travel-times")
@guarded
def travel_times_command(
    scenario: ScenarioArg,
    out_file: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    set_: SetOption = [],  # noqa: B006
) -> None:
    """Write the travel-time matrix (one row per site, destination and system; unreachable pairs too)."""
    from depotsite.output.outdir import atomic_file, check_file, scenario_inputs

    timings: dict[str, float] = {}
    sc, inputs, _ = load_checked(scenario, list(set_), timings)
    used = scenario_inputs(scenario, sc.data)
    check_file(out_file, inputs=used)
    travel = compute_travel(sc, inputs, timings)
    with atomic_file(out_file, inputs=used) as staged:
        write_matrix(staged, travel, inputs)
    if not state["quiet"]:
        out.print(
            f"wrote {len(travel.legs)} pairs ({len(travel.unreachable)} unreachable) to {out_file} "
            f"in {sum(timings.values()):.2f} s"
        )


def write_matrix(path: Path, travel, inputs) -> None:
    """The travel-time matrix as CSV: one row per site, destination and system; unreachable pairs too; with
    each route's mode (road, rail or air), the countries, regions and crossings it passes, its hours inside
    Ukraine and exposed, and a note on how its mode was chosen among the system's profiles."""
    from depotsite.output.geojson import route_facts

    facts = ["countries", "regions", "crossings", "border_h", "ukraine_h", "exposure_h"]
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(
            [
                "site_id",
                "destination_id",
                "system_id",
                "profile",
                "mode",
                "transit_h",
                "road_km",
                "rail_km",
                "borders_crossed",
                "gauge_breaks",
                "snap_km",
                *facts,
                "note",
                "unreachable_reason",
            ]
        )
        for (s, d, w), leg in sorted(travel.legs.items()):
            row = route_facts(leg)
            writer.writerow(
                [
                    s,
                    d,
                    w,
                    leg.profile or inputs.systems[w].profile,
                    leg.mode,
                    f"{leg.hours:.4f}",
                    "" if leg.road_km is None else f"{leg.road_km:.3f}",
                    "" if leg.rail_km is None else f"{leg.rail_km:.3f}",
                    leg.borders_crossed,
                    leg.gauge_breaks,
                    f"{leg.snap_km:.3f}",
                    *(f"{row[k]:.4f}" if isinstance(row[k], float) else row[k] for k in facts),
                    leg.note,
                    "",
                ]
            )
        for (s, d, w), reason in sorted(travel.unreachable.items()):
            blank = [""] * (7 + len(facts))  # mode to note
            writer.writerow([s, d, w, inputs.systems[w].profile, *blank, reason])


@app.command()
@guarded
def compare(
    runs: Annotated[
        list[Path],
        typer.Argument(
            help="Two or more run folders (solve, a Pareto point, an alternative); the first is the reference."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON to stdout.")] = False,
) -> None:
    """Compare runs side by side: terms, host shares, per-system times, sites opened and closed, units moved
    and the scenario keys that differ, each against the first run."""
    import json

    from depotsite.errors import InputError
    from depotsite.output.compare import compare_runs

    if len(runs) < 2:
        raise InputError(["compare needs two or more run folders; the first is the reference"])
    comparison = compare_runs(runs)
    if as_json:
        sys.stdout.write(json.dumps(comparison.as_json(), indent=2) + "\n")
        return
    table = Table(title=f"{len(runs)} runs against {runs[0]}")
    table.add_column("what")
    for run in comparison.runs:
        table.add_column(f"{run.name}\n{run.path}", justify="right", overflow="fold")
    for label, cells in comparison.table_rows():
        table.add_row(label, *cells)
    out.print(table)
    if comparison.identical():
        out.print(f"the {len(runs)} runs are identical in stock, shares, terms and scenario")
