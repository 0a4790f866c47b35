"""``depotsite explain``: which rules of a run bind, what they cost, and why each open site is open."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from depotsite.cli.common import app, command_overrides, compute_travel, guarded, load_checked, out, state, step

RECHECKS_HELP = "How many binding rules to re-solve one unit looser (largest LP price first)."


@app.command("explain")
@guarded
def explain_run(
    run_dir: Annotated[Path, typer.Argument(help="A run folder (solve, a Pareto point, an alternative).")],
    rechecks: Annotated[int, typer.Option("--rechecks", min=0, max=50, help=RECHECKS_HELP)] = 3,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit",
            help="Time limit of the pricing and the re-solves together, seconds; overrides [solver] time_limit_s.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the explanation as JSON to stdout.")] = False,
) -> None:
    """Which rules bind and which are slack, the price of each (LP duals with the run's structure fixed,
    checked by re-solving the top few one unit looser), and why each open site is open. Reads the run;
    writes nothing."""
    from depotsite.analysis.binding_words import as_dict
    from depotsite.output.runfolder import RunFolder

    run = RunFolder.read(run_dir)  # a clear error if it is not a run folder
    timings: dict[str, float] = {}
    sc, inputs, _ = load_checked(
        run_dir / "scenario.resolved.toml", command_overrides([], time_limit_s=time_limit), timings
    )
    travel = compute_travel(sc, inputs, timings)
    explanation = explain_folder(run, sc, inputs, travel, rechecks=rechecks, timings=timings)
    if as_json:
        sys.stdout.write(json.dumps(as_dict(explanation), indent=2) + "\n")
    elif not state["quiet"]:
        print_explanation(run.summary.get("scenario", sc.name), explanation)


def explain_folder(run, sc, inputs, travel, *, rechecks: int, timings: dict[str, float]):
    """The explanation of a run folder's posture, rebuilt from its resolved scenario and its files."""
    from depotsite.analysis.binding import explain_posture
    from depotsite.instance import build_instance
    from depotsite.posture import Posture, SolveOutcome
    from depotsite.results import summarise
    from depotsite.timelimit import Deadline

    p = build_instance(inputs, travel, sc)
    ship = {(r["site_id"], r["destination_id"], r["system_id"]): r["units"] for r in run.deliveries}
    stock = run.stock
    holding = {s for s, _ in stock} | set(p.force_open)  # the rule of depotsite.shipments.posture_of
    open_sites = tuple(s for s in p.sites if s in holding)
    recorded = SolveOutcome(
        status=run.summary["status"],
        objective=float(run.summary["objective"]),
        bound=None,
        gap=float(run.summary.get("gap", 0.0)),
        solve_s=0.0,
    )
    base = summarise(p, stock, ship, open_sites, outcome=recorded)
    deadline = Deadline(sc.solver.time_limit_s)
    with step("pricing the rules and re-solving the binding ones", timings, "explain_s", deadline=deadline):
        return explain_posture(
            p,
            Posture(stock=stock, ship=ship, open_sites=open_sites),
            base,
            deadline=deadline,
            threads=sc.solver.threads,
            rechecks=rechecks,
        )


def print_explanation(name: str, explanation) -> None:
    from depotsite.analysis.binding_words import describe_rule, describe_site

    binding, slack = explanation.binding(), [r for r in explanation.rules if not r.binding]
    out.print(f"{name}: {len(binding)} rule(s) bind, {len(slack)} slack")
    for title, rows in (("binding", binding), ("slack", slack)):
        if rows:
            out.print(f"\n{title}:")
            for r in rows:
                out.print(f"  {describe_rule(r)}", soft_wrap=True)
    out.print("\nopen sites:")
    for site in explanation.sites:
        out.print(f"  {describe_site(site)}", soft_wrap=True)
    for note in explanation.notes:
        out.print(f"note: {note}")
