"""Transparency commands: report (disclosure tiers) and verify (independent check)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from depotsite.cli.common import (
    EXIT_VERIFY,
    app,
    err,
    fail,
    guarded,
    out,
    state,
)


@app.command()
@guarded
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by solve.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the report files.")],
    tier: Annotated[str, typer.Option("--tier", help="full (verifiers), host (governments) or kinds (public).")],
    with_hosts: Annotated[bool, typer.Option("--with-hosts", help="kinds tier only: also name the hosts.")] = False,
) -> None:
    """Disclosure report of a run: full, host or kinds tier (CSV, Markdown, HTML)."""
    from depotsite.output.outdir import check_folder
    from depotsite.output.report import write_report

    check_folder(out_dir, kind="report", inputs=report_inputs(run_dir))
    warnings = write_report(run_dir, out_dir, tier=tier, with_hosts=with_hosts)
    for warning in warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    if not state["quiet"]:
        out.print((out_dir / "report.md").read_text(), markup=False, highlight=False)
        out.print(f"wrote {out_dir}")


def report_inputs(run_dir: Path) -> list[Path]:
    """The run folder and the tables its resolved scenario names: a report may overwrite none of them."""
    try:
        data = tomllib.loads((run_dir / "scenario.resolved.toml").read_text(encoding="utf-8")).get("data", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        data = {}  # write_report then says what is wrong with the run folder
    paths = data.values() if isinstance(data, dict) else []
    return [run_dir, *(Path(v) for v in paths if isinstance(v, str) and v)]


@app.command()
@guarded
def verify(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by solve.")],
    scenario: Annotated[
        Path | None,
        typer.Option(
            "--scenario",
            help="The original scenario file: also check the resolved scenario is it plus the recorded overrides.",
        ),
    ] = None,
) -> None:
    """Re-derive from the files that every rule of the run's scenario holds (exit 6 on any violation)."""
    from depotsite.verify import verify_run

    result = verify_run(run_dir, scenario=scenario)
    if not result.ok:
        fail(
            EXIT_VERIFY,
            f"{run_dir}: {len(result.violations)} violation(s):\n" + "\n".join(f"  - {v}" for v in result.violations),
        )
    if not state["quiet"]:
        out.print(f"{run_dir}: every rule holds ({len(result.checks)} groups of checks)", markup=False)
        for check in result.checks:
            out.print(f"  ok  {check}", highlight=False, markup=False)
