"""The sweep command: many cases of one scenario on Dask, re-optimised and against a fixed posture."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from depotsite.cli.common import app, guarded, out, progress_bar, state, step


@app.command()
@guarded
def sweep(
    sweep_file: Annotated[Path, typer.Argument(help="Sweep TOML file (a base scenario, a [grid], draws).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Sweep folder: new, empty, or an earlier sweep (resumed).")],
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Address of a running Dask scheduler (tcp://host:8786).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Worker processes of a local Dask cluster (default: CPUs).")
    ] = None,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit", min=0.001, help="Time limit of each case, seconds (default: [solver] time_limit_s)."
        ),
    ] = None,
    posture: Annotated[
        Path | None,
        typer.Option("--posture", help="A run folder whose stock is kept and re-routed in every case (regret)."),
    ] = None,
) -> None:
    """Solve every case of a sweep on Dask: the best posture per case, and with --posture a run's posture
    re-routed (time, shortfall, regret). Cases already done in --out are skipped; failures are recorded per
    case."""
    from depotsite.errors import InputError
    from depotsite.output.outdir import check_folder, scenario_inputs
    from depotsite.sweep.engine import dask_client, describe
    from depotsite.sweep.run import run_sweep
    from depotsite.sweep.spec import plan_sweep

    if scheduler is not None and workers is not None:
        raise InputError(["give --scheduler ADDRESS or --workers N, not both"])
    timings: dict[str, float] = {}
    with step("checking every case of the sweep", timings, "plan_s"):
        plan = plan_sweep(sweep_file)
    read = [plan.path, *scenario_inputs(plan.base, plan.base_scenario.data), *([posture] if posture else [])]
    check_folder(out_dir, kind="sweep", inputs=read)
    stock = None
    if posture is not None:
        from depotsite.output.runfolder import RunFolder

        stock = RunFolder.read(posture).stock
    with dask_client(scheduler=scheduler, workers=workers) as client:
        if not state["quiet"]:
            out.print(f"{plan.name}: {len(plan.cases)} cases on {describe(client)}")
        bar, advance = progress_bar("cases")
        with bar:
            outcome = run_sweep(
                plan,
                out_dir,
                client=client,
                time_limit_s=time_limit,
                posture=stock,
                posture_source=posture,
                command=list(sys.argv),
                progress=advance,
            )
    if state["quiet"]:
        return
    out.print(f"{plan.name}: {len(outcome.results)} cases, {outcome.skipped} done earlier, {outcome.solved} solved")
    table = Table(title="cases by status")
    table.add_column("status")
    table.add_column("cases", justify="right")
    for status, n in sorted(outcome.statuses.items()):
        table.add_row(status, str(n))
    out.print(table)
    import pandas as pd

    tornado = pd.read_csv(outcome.folder / "tornado.csv", dtype={"low": str, "high": str})
    if len(tornado):
        top = tornado.iloc[0]
        out.print(
            f"moves the objective most: {top['key']} ({top['low']}: {top['low_mean_objective']:.4g}, "
            f"{top['high']}: {top['high_mean_objective']:.4g})"
        )
    out.print(f"wrote {out_dir}")
