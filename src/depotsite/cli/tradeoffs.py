"""Trade-off commands: pareto, stress, alternatives."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from depotsite.cli.common import (
    NameOption,
    ScenarioArg,
    SetOption,
    app,
    build_checked,
    command_overrides,
    compute_travel,
    guarded,
    load_checked,
    out,
    progress_bar,
    state,
    step,
)

TRADEOFF_LIMIT_HELP = (
    "Time limit of the whole command (model build and every solve), seconds; each solve gets an "
    "equal share of what remains; overrides [solver] time_limit_s."
)


@app.command()
@guarded
def pareto(
    scenario: ScenarioArg,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for front.csv, front.png and each point.")],
    points: Annotated[int, typer.Option("--points", min=2, help="Points on the front, extremes included.")] = 9,
    set_: SetOption = [],  # noqa: B006
    time_limit: Annotated[float | None, typer.Option("--time-limit", help=TRADEOFF_LIMIT_HELP)] = None,
    name: NameOption = None,
) -> None:
    """The time-vs-risk Pareto front (epsilon-constraint), with the knee marked.

    The time limit bounds the whole command: each point gets an equal share of what remains. Every point
    is written as a run folder (point_NN) with its risk bound in its resolved scenario.
    """
    from depotsite.analysis.tradeoffs import knee, pareto_front
    from depotsite.output.analysis import Provenance, write_front

    timings: dict[str, float] = {}
    overrides = command_overrides(list(set_), time_limit_s=time_limit, name=name)
    built = build_checked(scenario, overrides, timings, out_dir=out_dir, kind="pareto")
    sc, model, deadline = built.scenario, built.model, built.deadline
    bar, advance = progress_bar("Pareto points", deadline=deadline)
    with bar:
        front = pareto_front(
            model,
            points=points,
            deadline=deadline,
            mip_gap=sc.solver.mip_gap,
            threads=sc.solver.threads,
            progress=advance,
        )
    k = knee(front)
    write_front(
        out_dir,
        front,
        k,
        model.instance,
        provenance=Provenance(built.travel, list(sys.argv), tuple(overrides), built.changes),
    )
    if state["quiet"]:
        return
    from depotsite.output.runfolder import risk_unit

    unit = risk_unit(sc.objective.risk, short=True)
    table = Table(title=f"{sc.name}: time vs {sc.objective.risk} ({points} points)")
    for column in ("point", "risk ≤ ε", "time (h)", f"risk ({unit})", "cost (M USD)", "status", "sites"):
        table.add_column(column, justify="right")
    for i, point in enumerate(front):
        r = point.result
        table.add_row(
            f"{i}{' knee' if i == k else ''}",
            f"{point.epsilon:.2f}",
            f"{r.terms['time_h']:.2f}",
            f"{r.terms['risk']:.2f}",
            f"{r.terms['cost_musd']:.0f}",
            r.status + (f" (gap {100 * r.gap:.2g}%)" if r.gap > 0 else ""),
            str(len(r.open_sites)),
        )
    out.print(table)
    knee_point = front[k].result
    out.print(
        f"knee: point {k}, {knee_point.terms['time_h']:.2f} h at {knee_point.terms['risk']:.2f} {unit}; "
        f"wrote {out_dir} (each point a run folder: {out_dir / 'point_00'}, ...)"
    )


@app.command()
@guarded
def stress(
    source: Annotated[
        Path, typer.Argument(help="A run folder (solve, a Pareto point, an alternative), or a scenario to solve first.")
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for stress.csv.")],
    lose: Annotated[int, typer.Option("--lose", min=1, max=2, help="Hosts lost at once: 1 or 2.")] = 1,
    set_: SetOption = [],  # noqa: B006
    time_limit: Annotated[float | None, typer.Option("--time-limit", help=TRADEOFF_LIMIT_HELP)] = None,
    name: NameOption = None,
) -> None:
    """Lose each host (or pair): the value and units that cannot be delivered, the systems left short and
    the time of what is left; worst first, by value.

    The time limit bounds the whole command (the first solve too, when given a scenario): each lost set
    gets an equal share of what remains.
    """
    from depotsite.analysis.stress import stress_test
    from depotsite.explain import run_solve
    from depotsite.instance import build_instance
    from depotsite.model import posture_of
    from depotsite.output.analysis import write_stress
    from depotsite.output.outdir import check_folder, scenario_inputs
    from depotsite.results import collect

    timings: dict[str, float] = {}
    overrides = command_overrides(list(set_), time_limit_s=time_limit, name=name)
    if source.is_dir():
        from depotsite.output.runfolder import RunFolder
        from depotsite.timelimit import Deadline

        run = RunFolder.read(source)  # a clear error if it is not a run folder
        resolved = source / "scenario.resolved.toml"
        sc, inputs, _ = load_checked(resolved, overrides, timings)
        check_folder(out_dir, kind="stress", inputs=[source, *scenario_inputs(resolved, sc.data)])
        travel = compute_travel(sc, inputs, timings)
        deadline = Deadline(sc.solver.time_limit_s)
        p = build_instance(inputs, travel, sc)
        stock = run.stock
    else:
        sc, _, _, model, deadline = build_checked(source, overrides, timings, out_dir=out_dir, kind="stress")
        with step("solving with HiGHS", timings, "solve_s", deadline=deadline):
            outcome = run_solve(model, deadline=deadline.share(2), mip_gap=sc.solver.mip_gap, threads=sc.solver.threads)
        p, stock = model.instance, collect(model.instance, posture_of(model), outcome).stock
    with step(f"re-routing after losing {lose} host(s)", timings, "stress_s", deadline=deadline):
        cases = stress_test(p, stock, lose=lose, threads=sc.solver.threads, deadline=deadline)
    write_stress(out_dir, cases, p)
    if not state["quiet"]:
        print_stress(sc.name, lose, cases, p.systems)
        out.print(f"wrote {out_dir}")


def print_stress(name: str, lose: int, cases, systems: tuple[str, ...]) -> None:
    """The stress table: value and units short, the systems left short, then mean/worst hours per system."""
    table = Table(
        title=f"{name}: losing {lose} host(s), worst first by the value that cannot be delivered "
        "(units short in red; mean/worst hours of what arrives)"
    )
    for column in ("lost", "value short", "value held", "units short", "left short"):
        table.add_column(column, justify="left" if column in ("lost", "left short") else "right")
    for w in systems:
        table.add_column(w, justify="right")
    for c in cases:
        left_short = ", ".join(f"{w} -{n}" for w, n in c.systems_short.items()) or "none"
        cells: list[str | Text] = [
            "+".join(c.lost),
            f"{c.value_short_pct:.1f}%",
            f"{c.value_lost_pct:.1f}%",
            str(c.total_short),
            left_short,
        ]
        for w in systems:
            times = "-" if c.mean_h[w] is None else f"{c.mean_h[w]:.0f}/{c.worst_h[w]:.0f}"
            cells.append(Text.assemble((f"-{c.short[w]}", "red"), f" {times}") if c.short[w] else times)
        table.add_row(*cells)
    out.print(table)


@app.command()
@guarded
def alternatives(
    scenario: ScenarioArg,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for alternatives.csv and each posture.")],
    count: Annotated[int, typer.Option("--count", min=1, help="Most alternatives to find.")] = 5,
    within: Annotated[float, typer.Option("--within", min=0.0, help="Allowed objective increase, percent.")] = 5.0,
    set_: SetOption = [],  # noqa: B006
    time_limit: Annotated[float | None, typer.Option("--time-limit", help=TRADEOFF_LIMIT_HELP)] = None,
    name: NameOption = None,
) -> None:
    """Near-optimal postures with different open sites, for negotiations with hosts; each written as a run
    folder (optimum, alternative_NN).

    The time limit bounds the whole command: the optimum and each alternative get an equal share of what
    remains; when it runs out, fewer alternatives are reported.
    """
    from depotsite.analysis.tradeoffs import alternatives as find
    from depotsite.output.analysis import Provenance, write_alternatives

    timings: dict[str, float] = {}
    overrides = command_overrides(list(set_), time_limit_s=time_limit, name=name)
    built = build_checked(scenario, overrides, timings, out_dir=out_dir, kind="alternatives")
    sc, model, deadline = built.scenario, built.model, built.deadline
    bar, advance = progress_bar("alternatives", deadline=deadline)
    with bar:
        best, found = find(
            model, count=count, within_pct=within, deadline=deadline, threads=sc.solver.threads, progress=advance
        )
    write_alternatives(
        out_dir,
        best,
        found,
        model.instance,
        within_pct=within,
        provenance=Provenance(built.travel, list(sys.argv), tuple(overrides), built.changes),
    )
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
