"""Shared options, error handling, progress and the stage helpers every command composes."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.text import Text
from typer.core import TyperGroup

from depotsite import __version__
from depotsite.errors import DepotsiteError, InfeasibleError, InputError, NumericsError, SolverError
from depotsite.timelimit import Deadline

EXIT_OK = 0
EXIT_INPUT = 1  # bad input or scenario: every problem listed
EXIT_USAGE = 2  # the command-line library's own code for a wrong command line
EXIT_INFEASIBLE = 3  # no posture satisfies the scenario: the explanation is printed
EXIT_SOLVER = 4  # the solver failed, or found no posture within the time limit
EXIT_NUMERICS = 5  # the solver's posture breaks its own rules: nothing written
EXIT_VERIFY = 6  # verify found a run that breaks its rules or was changed
EXIT_INTERNAL = 70  # a bug in depotsite (EX_SOFTWARE): please report it with --debug output
EXIT_CODES = {
    EXIT_OK: "success (optimal, or feasible at the time limit with a warning)",
    EXIT_INPUT: "bad input or scenario",
    EXIT_USAGE: "wrong command line",
    EXIT_INFEASIBLE: "infeasible scenario (the explanation is printed)",
    EXIT_SOLVER: "solver failure or no posture within the time limit",
    EXIT_NUMERICS: "the solver's posture breaks its own rules (nothing written)",
    EXIT_VERIFY: "verify found violations",
    EXIT_INTERNAL: "internal error (a bug; rerun with --debug)",
}
EXIT_CODES_HELP = "Exit codes: " + "; ".join(f"{code} {meaning}" for code, meaning in EXIT_CODES.items()) + "."

GLOBAL_FLAGS = re.compile(r"^(-v+|--verbose|-q|--quiet|--debug)$")


def hoist_global_options(group: TyperGroup, ctx: Any, args: list[str]) -> list[str]:
    """Move ``-v``, ``-q`` and ``--debug`` given after the subcommand to before it, where they are parsed.

    Only whole tokens outside a value are moved: the value of an option of the subcommand (``--name -q``)
    and everything after ``--`` stay where they are.
    """
    position = next((i for i, a in enumerate(args) if not a.startswith("-")), None)
    command = group.get_command(ctx, args[position]) if position is not None else None
    if command is None or position is None:
        return args
    takes_value = {
        name
        for param in command.params
        if getattr(param, "param_type_name", "") == "option"
        and not getattr(param, "is_flag", False)
        and not getattr(param, "count", False)
        for name in (*param.opts, *param.secondary_opts)
    }
    moved: list[str] = []
    kept: list[str] = []
    skip = False
    for arg in args[position + 1 :]:
        if skip or arg == "--" or (kept and kept[-1] == "--"):
            kept.append(arg)
            skip = False
        elif GLOBAL_FLAGS.match(arg):
            moved.append(arg)
        else:
            kept.append(arg)
            skip = arg in takes_value
    return [*args[:position], *moved, args[position], *kept]


class _GlobalOptionsAnywhere(TyperGroup):
    """The command group, accepting the shared options before or after the subcommand."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(self, ctx, list(args)))


app = typer.Typer(
    help=f"Depot siting for surge stockpiles outside Ukraine. {EXIT_CODES_HELP}",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_GlobalOptionsAnywhere,
)
# No emoji codes anywhere and no markup in data output: user text (ids, paths) prints as typed, so ':x:' and
# '[bold]' stay literal. Error lines keep their own markup and escape what they quote (``fail``).
err = Console(stderr=True, emoji=False)
out = Console(markup=False, emoji=False)
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
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show versions and exit.")
    ] = False,
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


def fail(code: int, message: str) -> None:
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
                fail(EXIT_INFEASIBLE, str(exc))
            if isinstance(exc, InputError):
                fail(EXIT_INPUT, str(exc))
            if isinstance(exc, NumericsError):
                fail(EXIT_NUMERICS, str(exc))
            if isinstance(exc, SolverError | DepotsiteError):
                fail(EXIT_SOLVER, str(exc))
            fail(EXIT_INTERNAL, f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)")

    return wrapper


class SolverWatch:
    """The latest incumbent, bound and gap of a running solve, written as a line every ``every_s`` seconds
    (2 s on a terminal, 5 s when piped; none with ``-q``), and shown in the spinner between solves.

    Use it as a context manager around the solve. pyomo captures the process's stdout and stderr descriptors
    while HiGHS runs (the spinner stands still then), so the lines go to a duplicate of the stderr descriptor
    taken when the watch starts.
    """

    def __init__(self, *, every_s: float | None = None) -> None:
        self.latest: Any = None
        self.every_s = every_s if every_s is not None else (2.0 if err.is_terminal else 5.0)
        self.last_line = 0.0
        self.fd: int | None = None

    def __enter__(self) -> SolverWatch:
        if not state["quiet"]:
            self.fd = os.dup(2)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __call__(self, progress: Any) -> None:
        self.latest = progress
        if self.fd is not None and progress.elapsed_s - self.last_line >= self.every_s:
            self.last_line = progress.elapsed_s
            os.write(self.fd, f"HiGHS: {self.describe()}\n".encode())

    def describe(self) -> str:
        """As in "best 144.7, bound 143.3, gap 0.92%, 1339 nodes, 4 s" (empty before the first report)."""
        p = self.latest
        if p is None:
            return ""
        if p.incumbent is None:
            return f"no posture yet, bound {p.bound:.6g}, {p.nodes} nodes, {p.elapsed_s:.0f} s"
        gap = f"gap {100 * p.gap:.2f}%" if math.isfinite(p.gap) else "gap -"
        return f"best {p.incumbent:.6g}, bound {p.bound:.6g}, {gap}, {p.nodes} nodes, {p.elapsed_s:.0f} s"


class _Progress:
    """Spinner text re-rendered on every refresh, so it can show the seconds used and left of a limit and the
    solver's latest incumbent, bound and gap."""

    def __init__(self, message: str, deadline: Deadline | None, watch: SolverWatch | None = None) -> None:
        self.message, self.deadline, self.watch = message, deadline, watch

    def __rich__(self) -> Text:
        parts = [self.deadline.describe()] if self.deadline is not None else []
        if self.watch is not None and self.watch.describe():
            parts.insert(0, self.watch.describe())
        if not parts:
            return Text(self.message)
        return Text(f"{self.message} ({'; '.join(parts)})" if self.message else "; ".join(parts))


@contextmanager
def step(
    message: str,
    timings: dict[str, float],
    key: str,
    *,
    deadline: Deadline | None = None,
    watch: SolverWatch | None = None,
) -> Iterator[None]:
    """Time a stage into ``timings[key]`` behind a spinner (none with -q); with a deadline, show its clock, and
    with a watch the solver's progress."""
    started = time.perf_counter()
    if state["quiet"]:
        yield
    else:
        with err.status(_Progress(message, deadline, watch)):
            yield
    timings[key] = time.perf_counter() - started


def time_limit_override(time_limit_s: float | None) -> list[str]:
    """``--time-limit`` as a ``[solver] time_limit_s`` override, so it is recorded with the scenario."""
    return [] if time_limit_s is None else [f"solver.time_limit_s={time_limit_s}"]


def command_overrides(set_: list[str], *, time_limit_s: float | None = None, name: str | None = None) -> list[str]:
    """Every override of a command, as recorded: ``--set``, then ``--time-limit`` and ``--name``."""
    from depotsite.overrides import name_override

    return [*set_, *time_limit_override(time_limit_s), *([name_override(name)] if name is not None else [])]


def load_checked(scenario_path: Path, overrides: list[str], timings: dict[str, float]):
    """Load the scenario (recording every change) and read its checked inputs.

    Returns the scenario, its inputs and its changes (``depotsite.scenario.resolve_scenario``).
    """
    from depotsite.scenario import resolve_scenario
    from depotsite.sources import read_inputs

    with step("reading scenario and inputs", timings, "inputs_s"):
        scenario, changes = resolve_scenario(scenario_path, overrides=overrides)
        return scenario, read_inputs(scenario), changes


def compute_travel(scenario, inputs, timings: dict[str, float]):
    from depotsite.sources import travel_times_for

    label = (
        "reading the travel-time matrix"
        if scenario.data.travel_times is not None
        else "computing travel times over the road network"
    )
    with step(label, timings, "travel_times_s"):
        return travel_times_for(inputs, scenario)


ScenarioArg = Annotated[Path, typer.Argument(help="Scenario TOML file.")]
SetOption = Annotated[list[str], typer.Option("--set", help="Override a scenario key: key.path=value (repeatable).")]
NameOption = Annotated[
    str | None,
    typer.Option(
        "--name", help="The run's name (default: the scenario's, with its --set overrides counted: base+2 overrides)."
    ),
]
TIME_LIMIT_HELP = (
    "Time limit of the whole solve stage (model build, solve, infeasibility explanation), seconds; "
    "overrides [solver] time_limit_s."
)


class Built(NamedTuple):
    """What every solving command starts from: the scenario, its changes, travel times, model and deadline."""

    scenario: Any
    changes: tuple[Any, ...]
    travel: Any
    model: Any
    deadline: Deadline


def build_checked(
    scenario: Path, overrides: list[str], timings: dict[str, float], *, out_dir: Path, kind: str
) -> Built:
    """Load and check the scenario, check that ``out_dir`` may be written, then build the model.

    The solve stage's deadline starts just before the build.
    """
    from depotsite.instance import build_instance
    from depotsite.model import build_model
    from depotsite.output.outdir import check_folder, scenario_inputs

    sc, inputs, changes = load_checked(scenario, overrides, timings)
    check_folder(out_dir, kind=kind, inputs=scenario_inputs(scenario, sc.data))
    travel = compute_travel(sc, inputs, timings)
    deadline = Deadline(sc.solver.time_limit_s)
    with step("building the model", timings, "build_s", deadline=deadline):
        model = build_model(build_instance(inputs, travel, sc), deadline=deadline)
    return Built(sc, changes, travel, model, deadline)


def progress_bar(label: str, *, deadline: Deadline | None = None):
    """A rich progress bar (a no-op with -q); returns (context, callback(done, total)).

    With a deadline, the bar also shows the seconds used and left of the time limit.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, RenderableColumn, TextColumn, TimeElapsedColumn

    if state["quiet"]:
        return contextlib.nullcontext(), lambda done, total: None
    clock = [RenderableColumn(_Progress("", deadline))] if deadline is not None else []
    bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), *clock, console=err)
    task = bar.add_task(label, total=None)
    return bar, lambda done, total: bar.update(task, completed=done, total=total)
