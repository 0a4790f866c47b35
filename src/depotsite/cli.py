"""The ``depotsite`` command line: a thin layer that composes the pipeline stages.

Exit codes: 0 solved (optimal, or feasible at the time limit with a warning); 1 bad input or scenario;
2 infeasible (with the explanation); 3 solver or internal error.
"""

from __future__ import annotations

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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
