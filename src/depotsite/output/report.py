"""Disclosure reports of a run at three tiers, UNROCA-style tables, crews and financing.

Tiers, from most to least detailed:

- ``full`` (the verification commission): every site with its units per system, coordinates and host,
  and the depots as GeoJSON;
- ``host`` (host and partner governments): units per host and system, no site names or coordinates;
- ``kinds`` (the public, and the other side): only which kinds of systems the programme stores and,
  optionally, in which hosts; no counts, sites or coordinates.

Each lower tier is built from aggregated values only, never by deleting columns from a richer table, so
nothing in it can be joined back to a higher tier.
"""

from __future__ import annotations

import html
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

from depotsite.errors import InputError
from depotsite.output.outdir import atomic_folder
from depotsite.output.runfolder import RunFolder
from depotsite.purchasers import read_purchasers
from depotsite.scenario import ReportConfig
from depotsite.tables import UNROCA, read_rows, write_csv

TIERS = ("full", "host", "kinds")


class Run:
    """A run folder (read by ``RunFolder``) with the input tables a report needs."""

    def __init__(self, folder: Path) -> None:
        run = RunFolder.read(folder)
        self.folder = run.path
        self.scenario, self.summary = run.scenario, run.summary
        data = self.scenario["data"]
        self.systems = {r["system_id"]: r for r in read_rows(data["systems"])}
        self.sites = {r["site_id"]: r for r in read_rows(data["sites"])}
        self.hosts = {r["host_id"]: r for r in read_rows(data["hosts"])}
        self.allocation: list[dict[str, Any]] = list(run.allocation)
        self.host_units = run.host_units
        self.purchasers = (
            read_purchasers(Path(data["purchasers"]), self.systems, self.hosts) if data.get("purchasers") else []
        )

    @property
    def systems_held(self) -> list[str]:
        return [w for w in self.systems if any(r["system_id"] == w for r in self.allocation)]


def unroca_rows(run: Run) -> list[list[Any]]:
    """category, host, number of items, description: one row per host and category held."""
    items: dict[tuple[str, str], int] = defaultdict(int)
    names: dict[tuple[str, str], set[str]] = defaultdict(set)
    for (h, w), n in run.host_units().items():
        category = run.systems[w]["unroca_category"]
        items[category, h] += n
        names[category, h].add(run.systems[w]["name"])
    order = list(UNROCA)
    return [
        [c, h, n, f"{UNROCA[c]}: {', '.join(sorted(names[c, h]))}"]
        for (c, h), n in sorted(items.items(), key=lambda kv: (order.index(kv[0][0]), kv[0][1]))
    ]


def crew_rows(run: Run) -> list[list[Any]]:
    rotation = float(run.scenario.get("report", {}).get("crew_rotation_factor", 2.0))
    units: dict[str, int] = defaultdict(int)
    for r in run.allocation:
        units[r["system_id"]] += r["units"]
    return [
        [
            w,
            units[w],
            float(run.systems[w]["crew_per_unit"]),
            rotation,
            units[w] * float(run.systems[w]["crew_per_unit"]) * rotation,
        ]
        for w in run.systems_held
    ]


def counted_share(run: Run) -> float:
    """The recorded ``[report] counted_share``, else the scenario schema's default (an assumption, below 1)."""
    default = ReportConfig.model_fields["counted_share"].default
    return float(run.scenario.get("report", {}).get("counted_share", default))


def financing_rows(run: Run) -> tuple[list[list[Any]], list[str]]:
    """One row per purchase: purchaser, system, host it is stored in ("any" when not earmarked), units, value
    and the part counted toward (deductible from) NATO's defence-spending target, in M USD; and a warning
    per earmark the run does not meet."""
    counted = counted_share(run)
    held = run.host_units()
    warnings = []
    rows = []
    for p in run.purchasers:
        value = p["units"] * float(run.systems[p["system_id"]]["value_musd"])
        if p["host_id"] and p["units"] > held.get((p["host_id"], p["system_id"]), 0):
            warnings.append(
                f"{p['purchaser_id']} funds {p['units']} {p['system_id']} stored in {p['host_id']}, "
                f"which holds {held.get((p['host_id'], p['system_id']), 0)} in this run"
            )
        rows.append([p["purchaser_id"], p["system_id"], p["host_id"] or "any", p["units"], value, value * counted])
    return rows, warnings


def _markdown_table(header: list[str], rows: list[list[Any]]) -> str:
    def cell(x: Any) -> str:
        return f"{x:,.1f}" if isinstance(x, float) else str(x)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(x) for x in row) + " |" for row in rows]
    return "\n".join(lines)


def _html(markdown: str, title: str) -> str:
    """A plain HTML page of the Markdown report (tables and headings only; no scripts, no links out)."""
    body: list[str] = []
    table: list[str] = []

    def flush() -> None:
        if table:
            head, *rest = [[c.strip() for c in row.strip("|").split("|")] for row in table if "---" not in row]
            body.append(
                "<table><tr>"
                + "".join(f"<th>{html.escape(c)}</th>" for c in head)
                + "</tr>"
                + "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rest)
                + "</table>"
            )
            table.clear()

    for line in markdown.splitlines():
        if line.startswith("|"):
            table.append(line)
            continue
        flush()
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            body.append(f"<h{level}>{html.escape(line.lstrip('# '))}</h{level}>")
        elif line.strip():
            body.append(f"<p>{html.escape(line)}</p>")
    flush()
    style = (
        "body{font-family:sans-serif;max-width:60em}table{border-collapse:collapse}td,th{border:1px solid #999;"
        "padding:2px 6px}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n"
    )


def write_report(run_dir: Path, out: Path, *, tier: str, with_hosts: bool = False) -> list[str]:
    """Write the tier's CSV, Markdown and HTML files into ``out`` (atomically); return warnings."""
    problems = [] if tier in TIERS else [f"--tier {tier!r}: use one of {', '.join(TIERS)}"]
    if with_hosts and tier != "kinds":
        problems.append(
            "--with-hosts applies to --tier kinds only (the full and host tiers name every host already): drop "
            "--with-hosts, or use --tier kinds"
        )
    if problems:
        raise InputError(problems)
    run = Run(run_dir)
    warnings: list[str] = []
    title = f"depotsite disclosure report, tier '{tier}': {run.scenario['name']}"
    md = [f"# {title}", ""]
    with atomic_folder(out, kind="report") as folder:
        if tier == "kinds":
            hosts_of: dict[str, set[str]] = defaultdict(set)
            for r in run.allocation:
                hosts_of[r["system_id"]].add(r["host_id"])
            header = ["system", "UNROCA category", "category description"] + (["hosts"] if with_hosts else [])
            rows = [
                [run.systems[w]["name"], run.systems[w]["unroca_category"], UNROCA[run.systems[w]["unroca_category"]]]
                + ([", ".join(sorted(hosts_of[w]))] if with_hosts else [])
                for w in run.systems_held
            ]
            write_csv(folder / "kinds.csv", header, rows)
            md += [
                "Kinds of systems stored in the programme (no numbers, sites or locations are disclosed at this tier).",
                "",
                _markdown_table(header, rows),
            ]
        else:
            if tier == "full":
                systems = run.systems_held  # not the systems of systems.csv the run's package has none of
                header = ["site_id", "name", "host_id", "lat", "lon", "kind", *systems]
                per_site: dict[str, dict[str, int]] = defaultdict(dict)
                for r in run.allocation:
                    per_site[r["site_id"]][r["system_id"]] = r["units"]
                site_rows: list[list[Any]] = [
                    [
                        s,
                        run.sites[s]["name"],
                        run.sites[s]["host_id"],
                        run.sites[s]["lat"],
                        run.sites[s]["lon"],
                        run.sites[s]["kind"],
                        *[per_site[s].get(w, 0) for w in systems],
                    ]
                    for s in per_site
                ]
                write_csv(folder / "sites.csv", header, site_rows)
                md += ["## Sites", "", _markdown_table(header, site_rows), ""]
                if (run.folder / "depots.geojson").is_file():
                    shutil.copy(run.folder / "depots.geojson", folder / "depots.geojson")
            units = run.host_units()
            systems_held = run.systems_held
            value = {w: float(run.systems[w]["value_musd"]) for w in systems_held}
            host_rows = [
                [
                    h,
                    *[units.get((h, w), 0) for w in systems_held],
                    f"{sum(value[w] * units.get((h, w), 0) for w in systems_held):.1f}",
                    f"{run.summary['host_value_shares'].get(h, 0.0):.2f}",
                ]
                for h in run.hosts
                if any(units.get((h, w), 0) for w in systems_held)
            ]
            host_header = ["host_id", *systems_held, "value_musd", "value_share_pct"]
            write_csv(folder / "hosts.csv", host_header, host_rows)
            md += ["## Units per host", "", _markdown_table(host_header, host_rows), ""]
            unroca = unroca_rows(run)
            write_csv(folder / "unroca.csv", ["category", "host", "number_of_items", "description"], unroca)
            for h in sorted({row[1] for row in unroca}):
                write_csv(
                    folder / f"unroca_{h}.csv",
                    ["reporting_host", "category", "description", "number_of_items"],
                    [[h, c, d, n] for c, h2, n, d in unroca if h2 == h],
                )
            md += [
                "## UN Register of Conventional Arms (holdings by host)",
                "",
                _markdown_table(["category", "host", "number of items", "description"], unroca),
                "",
            ]
            crews = crew_rows(run)
            write_csv(
                folder / "crews.csv",
                ["system_id", "units", "crew_per_unit", "rotation_factor", "crews_to_train"],
                crews,
            )
            md += [
                "## Ukrainian crews to train and keep available",
                "",
                _markdown_table(["system", "units", "crew per unit", "rotation factor", "crews"], crews),
                "",
            ]
            if run.purchasers:
                financing, warnings = financing_rows(run)
                header = ["purchaser_id", "system_id", "stored_in", "units", "value_musd", "counted_musd"]
                write_csv(folder / "financing.csv", header, financing)
                totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
                by_host: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
                for row in financing:
                    totals[row[0]][0] += row[4]
                    totals[row[0]][1] += row[5]
                    by_host[row[0], row[2]][0] += row[4]
                    by_host[row[0], row[2]][1] += row[5]
                host_rows = [[k, h, v[0], v[1]] for (k, h), v in sorted(by_host.items())]
                write_csv(
                    folder / "financing_hosts.csv",
                    ["purchaser_id", "stored_in", "value_musd", "deductible_musd"],
                    host_rows,
                )
                share = counted_share(run)
                honoured = bool(run.scenario.get("financing", {}).get("honour_earmarks", False))
                md += [
                    "## Financing (value per purchaser; deductible from the defence-spending target)",
                    "",
                    _markdown_table(
                        ["purchaser", "value (M USD)", "deductible (M USD)"],
                        [[k, v[0], v[1]] for k, v in sorted(totals.items())],
                    ),
                    "",
                    "### Value per purchaser and host",
                    "",
                    _markdown_table(["purchaser", "stored in", "value (M USD)", "deductible (M USD)"], host_rows),
                    "",
                    f"{100 * share:g}% of each purchase is counted toward NATO's 5% defence-spending target "
                    f"(`[report] counted_share = {share:g}`; an assumption: the proposal says only that "
                    '"a portion" is deductible). "any" means not earmarked for a host. Earmarks are '
                    + (
                        "rules of this posture (`[financing] honour_earmarks = true`)."
                        if honoured
                        else "reported only (`[financing] honour_earmarks = false`)."
                    ),
                    "",
                ]
                md += [f"Warning: {w}" for w in warnings]
        text = "\n".join(md) + "\n"
        (folder / "report.md").write_text(text)
        (folder / "report.html").write_text(_html(text, title))
    return warnings
