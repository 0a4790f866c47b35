"""The scenario reference: ``depotsite keys``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from depotsite.cli.common import app, guarded, out


@app.command()
@guarded
def keys(
    prefix: Annotated[str, typer.Argument(help="Only keys under this dotted prefix, e.g. hosts or objective.")] = "",
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the reference as Markdown (docs/scenario.md).")
    ] = False,
) -> None:
    """Every scenario key with its type, default, unit and meaning (generated from the schema)."""
    from depotsite.errors import InputError
    from depotsite.keys import markdown as as_markdown
    from depotsite.keys import scenario_keys

    if markdown:
        print(as_markdown(), end="")
        return
    found = scenario_keys(prefix)
    if not found:
        raise InputError([f"no scenario key starts with {prefix!r}; run `depotsite keys` for the whole list"])
    table = Table(title=f"scenario keys{f' under {prefix}' if prefix else ''}", show_lines=False)
    table.add_column("key", no_wrap=True)
    for column in ("type", "default", "unit", "meaning"):
        table.add_column(column, overflow="fold")
    for k in found:
        table.add_row(k.path, k.type, k.default, k.unit, k.meaning)
    out.print(table)
