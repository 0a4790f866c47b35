"""The ``depotsite`` command line: a thin layer that composes the pipeline stages.

Exit codes: 0 solved (optimal, or feasible at the time limit with a warning); 1 bad input or scenario;
2 infeasible (with the explanation); 3 solver or internal error.
"""

from __future__ import annotations

import contextlib
import csv
import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.table import Table

from depotsite import __version__
from depotsite.errors import DepotsiteError, InfeasibleError, InputError, SolverError

EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_SOLVER = 0, 1, 2, 3
EXIT_CODES_HELP = (
    "Exit codes: 0 solved (optimal, or feasible at the time limit with a warning); 1 bad input or scenario; "
    "2 infeasible (the explanation is printed); 3 solver or internal error."
)

app = typer.Typer(help=f"Depot siting for surge stockpiles outside Ukraine. {EXIT_CODES_HELP}",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
err = Console(stderr=True)
out = Console()
state: dict[str, Any] = {"debug": False, "quiet": False}
log = logging.getLogger("depotsite")


def _version(value: bool) -> None:
    if value:
        import highspy  # noqa: F401 - reported below through the solver module
        import pyomo

        from depotsite.solve import solver_version

        out.print(f"depotsite {__version__} (pyomo {pyomo.__version__}, HiGHS {solver_version()})")
        raise typer.Exit()


@app.callback()
def main_options(
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More log lines (-vv for debug).")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors; no progress or tables.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show versions and exit.")] = False,
) -> None:
    """Shared options, defined once."""
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    handler = RichHandler(console=err, show_time=False, show_path=False, markup=False)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    log.setLevel(level)
    if level > logging.INFO and not quiet:
        logging.getLogger("depotsite.scenario").setLevel(logging.INFO)  # overrides are always shown
    state.update(debug=debug, quiet=quiet)


def _fail(code: int, message: str) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def guarded(command: Callable[..., None]) -> Callable[..., None]:
    """Map domain errors to one red message and an exit code; tracebacks only with --debug."""
    import functools

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            if state["debug"]:
                raise
            if isinstance(exc, InfeasibleError):
                _fail(EXIT_INFEASIBLE, str(exc))
            if isinstance(exc, InputError):
                _fail(EXIT_INPUT, str(exc))
            if isinstance(exc, SolverError | DepotsiteError):
                _fail(EXIT_SOLVER, str(exc))
            _fail(EXIT_SOLVER, f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)")

    return wrapper


@contextmanager
def step(message: str, timings: dict[str, float], key: str) -> Iterator[None]:
    started = time.perf_counter()
    if state["quiet"]:
        yield
    else:
        with err.status(message):
            yield
    timings[key] = time.perf_counter() - started


def _load(scenario_path: Path, overrides: list[str], timings: dict[str, float]):
    from depotsite.inputs import load_inputs
    from depotsite.scenario import load_scenario

    with step("reading scenario and inputs", timings, "inputs_s"):
        scenario = load_scenario(scenario_path, overrides=overrides)
        d = scenario.data
        inputs = load_inputs(hosts=d.hosts, sites=d.sites, systems=d.systems, destinations=d.destinations,
                             demand=d.demand, profiles=scenario.network.profiles)
        from depotsite.scenario import check_against_inputs

        check_against_inputs(scenario, inputs)
        if d.purchasers is not None:
            from depotsite.report import read_purchasers

            read_purchasers(d.purchasers, inputs.systems, inputs.hosts)
    return scenario, inputs


def _travel(scenario, inputs, timings: dict[str, float]):
    with step("computing travel times over the road network", timings, "travel_times_s"):
        if scenario.data.travel_times is not None:
            from depotsite.traveltimes import read_matrix

            return read_matrix(scenario.data.travel_times, inputs)
        from depotsite.network import travel_times

        return travel_times(inputs, scenario)


SetOption = Annotated[list[str], typer.Option("--set", help="Override a scenario key: key.path=value (repeatable).")]


@app.command()
@guarded
def solve(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Run folder to write (replaced atomically).")],
    set_: SetOption = [],  # noqa: B006 - typer reads the default
    time_limit: Annotated[float | None, typer.Option("--time-limit", help="Solver time limit, seconds.")] = None,
    save_lp: Annotated[Path | None, typer.Option("--save-lp", help="Also write the model as an LP file.")] = None,
    no_maps: Annotated[bool, typer.Option("--no-maps", help="Skip map.html and map.png.")] = False,
) -> None:
    """Solve a scenario and write its run folder."""
    from depotsite.export import write_run
    from depotsite.model import build_model
    from depotsite.results import collect
    from depotsite.solve import solve as run_solver

    timings: dict[str, float] = {}
    overrides = list(set_) + ([f"solver.time_limit_s={time_limit}"] if time_limit is not None else [])
    sc, inputs = _load(scenario, overrides, timings)
    travel = _travel(sc, inputs, timings)
    with step("building the model", timings, "build_s"):
        model = build_model(inputs, travel, sc)
    if save_lp is not None:
        model.write(str(save_lp), io_options={"symbolic_solver_labels": True})
    with step(f"solving with HiGHS (limit {sc.solver.time_limit_s:g} s)", timings, "solve_wall_s"):
        outcome = run_solver(model, time_limit_s=sc.solver.time_limit_s, mip_gap=sc.solver.mip_gap,
                             threads=sc.solver.threads, show_log=sc.solver.log)
    result = collect(model, outcome, timings=timings, warnings=travel.warnings)
    with step("writing outputs", timings, "export_s"):
        write_run(out_dir, result, model.params, travel, command=sys.argv)
    if not state["quiet"]:
        print_summary(result, model.params, out_dir)


def print_summary(result, p, out_dir: Path) -> None:
    table = Table(title=f"{result.scenario}: {result.status}, objective {result.objective:.4g}"
                        + (f", gap {100 * result.gap:.2f}%" if result.gap > 0 else ""))
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
    risk_unit = "HHI points" if result.risk_measure == "hhi" else "pp"
    out.print(f"time ({result.time_measure}) {result.terms['time_h']:.2f} h · risk ({result.risk_measure}) "
              f"{result.terms['risk']:.2f} {risk_unit} · cost {result.terms['cost_musd']:.1f} M USD · "
              f"{len(result.open_sites)} sites open")
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    out.print(f"wrote {out_dir}")


@app.command()
@guarded
def validate(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    set_: SetOption = [],  # noqa: B006
) -> None:
    """Check a scenario and its input tables without solving."""
    timings: dict[str, float] = {}
    _, inputs = _load(scenario, list(set_), timings)
    req = inputs.requirement
    out.print(f"{scenario}: valid; {len(inputs.sites)} sites in {len(inputs.hosts)} hosts, "
              f"{len(inputs.destinations)} destinations, package "
              + ", ".join(f"{n} {w}" for w, n in req.items()) + f" ({inputs.package_value_musd:,.0f} M USD)")


@app.command("travel-times")
@guarded
def travel_times_command(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    out_file: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    set_: SetOption = [],  # noqa: B006
) -> None:
    """Write the travel-time matrix (one row per site, destination and system; unreachable pairs too)."""
    timings: dict[str, float] = {}
    sc, inputs = _load(scenario, list(set_), timings)
    travel = _travel(sc, inputs, timings)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_file.with_name(f".{out_file.name}.tmp")
    with tmp.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["site_id", "destination_id", "system_id", "profile", "hours", "road_km",
                         "borders_crossed", "snap_km", "unreachable_reason"])
        for (s, d, w), leg in sorted(travel.legs.items()):
            writer.writerow([s, d, w, leg.profile or inputs.systems[w].profile, f"{leg.hours:.4f}",
                             "" if leg.road_km is None else f"{leg.road_km:.3f}", leg.borders_crossed,
                             f"{leg.snap_km:.3f}", ""])
        for (s, d, w), reason in sorted(travel.unreachable.items()):
            writer.writerow([s, d, w, inputs.systems[w].profile, "", "", "", "", reason])
    tmp.replace(out_file)
    if not state["quiet"]:
        out.print(f"wrote {len(travel.legs)} pairs ({len(travel.unreachable)} unreachable) to {out_file} "
                  f"in {sum(timings.values()):.2f} s")


@app.command()
@guarded
def compare(
    run_a: Annotated[Path, typer.Argument(help="First run folder.")],
    run_b: Annotated[Path, typer.Argument(help="Second run folder.")],
) -> None:
    """Show what changed between two runs: stock, host shares, objective terms, scenario keys."""
    from depotsite.compare import compare_runs

    changes = compare_runs(run_a, run_b)
    if not changes:
        out.print("the two runs are identical in stock, shares, terms and scenario")
        return
    table = Table(title=f"{run_a} -> {run_b}")
    for column in ("what", "key", "before", "after"):
        table.add_column(column)

    def fmt(value: Any) -> str:
        return f"{value:.4g}" if isinstance(value, float) else str(value)

    for change in changes:
        table.add_row(change.what, change.key, fmt(change.before), fmt(change.after))
    out.print(table)


def _built(scenario: Path, overrides: list[str], timings: dict[str, float]):
    from depotsite.model import build_model

    sc, inputs = _load(scenario, overrides, timings)
    travel = _travel(sc, inputs, timings)
    with step("building the model", timings, "build_s"):
        return sc, build_model(inputs, travel, sc)


def _progress(label: str):
    """A rich progress bar (a no-op with -q); returns (context, callback(done, total))."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    if state["quiet"]:
        return contextlib.nullcontext(), lambda done, total: None
    bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err)
    task = bar.add_task(label, total=None)
    return bar, lambda done, total: bar.update(task, completed=done, total=total)


@app.command()
@guarded
def pareto(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for front.csv, front.png and each point.")],
    points: Annotated[int, typer.Option("--points", min=2, help="Points on the front, extremes included.")] = 9,
    set_: SetOption = [],  # noqa: B006
    time_limit: Annotated[float | None, typer.Option("--time-limit", help="Limit per solve, seconds.")] = None,
) -> None:
    """The time-vs-risk Pareto front (epsilon-constraint), with the knee marked."""
    from depotsite.export_analysis import write_front
    from depotsite.tradeoffs import knee, pareto_front

    timings: dict[str, float] = {}
    sc, model = _built(scenario, list(set_), timings)
    bar, advance = _progress("Pareto points")
    with bar:
        front = pareto_front(model, points=points, time_limit_s=time_limit or sc.solver.time_limit_s,
                             mip_gap=sc.solver.mip_gap, threads=sc.solver.threads, progress=advance)
    k = knee(front)
    write_front(out_dir, front, k, model.params)
    if state["quiet"]:
        return
    unit = "HHI" if sc.objective.risk == "hhi" else "pp"
    table = Table(title=f"{sc.name}: time vs {sc.objective.risk} ({points} points)")
    for column in ("point", "risk ≤ ε", "time (h)", f"risk ({unit})", "cost (M USD)", "status", "sites"):
        table.add_column(column, justify="right")
    for i, point in enumerate(front):
        r = point.result
        table.add_row(f"{i}{' knee' if i == k else ''}", f"{point.epsilon:.2f}", f"{r.terms['time_h']:.2f}",
                      f"{r.terms['risk']:.2f}", f"{r.terms['cost_musd']:.0f}",
                      r.status + (f" (gap {100 * r.gap:.2g}%)" if r.gap > 0 else ""), str(len(r.open_sites)))
    out.print(table)
    knee_point = front[k].result
    out.print(f"knee: point {k}, {knee_point.terms['time_h']:.2f} h at {knee_point.terms['risk']:.2f} {unit}; "
              f"wrote {out_dir}")


def _stock_from_run(run_dir: Path) -> dict[tuple[str, str], int]:
    with (run_dir / "allocation.csv").open(newline="") as stream:
        return {(r["site_id"], r["system_id"]): int(r["units"]) for r in csv.DictReader(stream)}


@app.command()
@guarded
def stress(
    source: Annotated[Path, typer.Argument(help="A run folder (from solve), or a scenario to solve first.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for stress.csv.")],
    lose: Annotated[int, typer.Option("--lose", min=1, max=2, help="Hosts lost at once: 1 or 2.")] = 1,
    set_: SetOption = [],  # noqa: B006
) -> None:
    """Lose each host (or pair): units short, time of what is left, value lost; worst case first."""
    from depotsite.export_analysis import write_stress
    from depotsite.model import parameters
    from depotsite.results import collect
    from depotsite.solve import solve as run_solver
    from depotsite.stress import stress_test

    timings: dict[str, float] = {}
    if source.is_dir():
        from depotsite.compare import read_run

        read_run(source)  # a clear error if it is not a run folder
        sc, inputs = _load(source / "scenario.resolved.toml", list(set_), timings)
        travel = _travel(sc, inputs, timings)
        p = parameters(inputs, travel, sc)
        stock = _stock_from_run(source)
    else:
        sc, model = _built(source, list(set_), timings)
        with step("solving with HiGHS", timings, "solve_s"):
            outcome = run_solver(model, time_limit_s=sc.solver.time_limit_s, mip_gap=sc.solver.mip_gap,
                                 threads=sc.solver.threads)
        p, stock = model.params, collect(model, outcome).stock
    with step(f"re-routing after losing {lose} host(s)", timings, "stress_s"):
        cases = stress_test(p, stock, lose=lose, threads=sc.solver.threads)
    write_stress(out_dir, cases, p)
    if state["quiet"]:
        return
    table = Table(title=f"{sc.name}: losing {lose} host(s), worst first (units short; mean/worst hours)")
    table.add_column("lost")
    table.add_column("value lost", justify="right")
    for w in p.systems:
        table.add_column(w, justify="right")
    for c in cases:
        cells = ["+".join(c.lost), f"{c.value_lost_pct:.1f}%"]
        for w in p.systems:
            times = "-" if c.mean_h[w] is None else f"{c.mean_h[w]:.0f}/{c.worst_h[w]:.0f}"
            cells.append(f"[red]-{c.short[w]}[/] {times}" if c.short[w] else times)
        table.add_row(*cells)
    out.print(table)
    out.print(f"wrote {out_dir}")


@app.command()
@guarded
def alternatives(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for alternatives.csv and each posture.")],
    count: Annotated[int, typer.Option("--count", min=1, help="Most alternatives to find.")] = 5,
    within: Annotated[float, typer.Option("--within", min=0.0, help="Allowed objective increase, percent.")] = 5.0,
    set_: SetOption = [],  # noqa: B006
) -> None:
    """Near-optimal postures with different open sites, for negotiations with hosts."""
    from depotsite.export_analysis import write_alternatives
    from depotsite.tradeoffs import alternatives as find

    timings: dict[str, float] = {}
    sc, model = _built(scenario, list(set_), timings)
    bar, advance = _progress("alternatives")
    with bar:
        best, found = find(model, count=count, within_pct=within, time_limit_s=sc.solver.time_limit_s,
                           threads=sc.solver.threads, progress=advance)
    write_alternatives(out_dir, best, found, model.params)
    if state["quiet"]:
        return
    table = Table(title=f"{sc.name}: {len(found)} alternative(s) within {within:g}% of {best.objective:.4g}")
    for column in ("rank", "objective", "sites", "difference from the optimum"):
        table.add_column(column)
    table.add_row("0", f"{best.objective:.4g}", str(len(best.open_sites)), "optimum: " + ", ".join(best.open_sites))
    for alt in found:
        table.add_row(str(alt.rank), f"{alt.result.objective:.4g}", str(len(alt.result.open_sites)), alt.difference)
    out.print(table)
    out.print(f"wrote {out_dir}")


@app.command()
@guarded
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by solve.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the report files.")],
    tier: Annotated[str, typer.Option("--tier", help="full (verifiers), host (governments) or kinds (public).")],
    with_hosts: Annotated[bool, typer.Option("--with-hosts", help="kinds tier: also name the hosts.")] = False,
) -> None:
    """Disclosure report of a run: full, host or kinds tier (CSV, Markdown, HTML)."""
    from depotsite.report import write_report

    warnings = write_report(run_dir, out_dir, tier=tier, with_hosts=with_hosts)
    for warning in warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    if not state["quiet"]:
        out.print((out_dir / "report.md").read_text(), markup=False, highlight=False)
        out.print(f"wrote {out_dir}")


@app.command()
@guarded
def verify(run_dir: Annotated[Path, typer.Argument(help="A run folder written by solve.")]) -> None:
    """Re-derive from the files that every rule of the run's scenario holds (exit 1 on any violation)."""
    from depotsite.verify import verify_run

    result = verify_run(run_dir)
    if not result.ok:
        _fail(EXIT_INPUT, f"{run_dir}: {len(result.violations)} violation(s):\n"
              + "\n".join(f"  - {v}" for v in result.violations))
    if not state["quiet"]:
        out.print(f"{run_dir}: every rule holds ({len(result.checks)} groups of checks)")
        for check in result.checks:
            out.print(f"  ok  {check}", highlight=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
