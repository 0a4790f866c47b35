"""The optional purchasers table: who buys how many units of which system, optionally for which host.

An input table like the others, so it is checked with them before any solve (and read again by the
financing part of a disclosure report).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from depotsite.errors import InputError
from depotsite.tables import suggest, unreadable

COLUMNS = ("purchaser_id", "system_id", "units", "host_id")


@dataclass(frozen=True)
class Purchase:
    """One row of the purchasers table, with the file and line it came from (for error messages)."""

    purchaser_id: str
    system_id: str
    units: int
    host_id: str  # "" when the purchase is not earmarked for a host
    file: str = "purchasers.csv"
    line: int = 0

    def where(self) -> str:
        """``purchasers.csv line 2 (SE: 8 himars for RO)``, for messages."""
        return f"{self.file} line {self.line} ({self.purchaser_id}: {self.units} {self.system_id} for {self.host_id})"


def earmarked_units(purchases: Collection[Purchase]) -> dict[tuple[str, str], int]:
    """(host, system) -> the units purchasers earmarked for that host, summed over purchasers.

    Parameters
    ----------
    purchases
        The rows of the purchasers table; rows without a host are not earmarks.

    Returns
    -------
    dict
        Only pairs with a positive sum.
    """
    units: dict[tuple[str, str], int] = defaultdict(int)
    for p in purchases:
        if p.host_id and p.units > 0:
            units[p.host_id, p.system_id] += p.units
    return dict(units)


def earmark_problems(
    purchases: Collection[Purchase], requirement: Mapping[str, int], able: Mapping[str, Collection[str]]
) -> list[str]:
    """Earmarks that no posture can honour, found before any solve (``[financing] honour_earmarks``).

    Parameters
    ----------
    purchases
        The rows of the purchasers table.
    requirement
        Units of each system the package needs (the demand).
    able
        System -> the hosts that can hold one unit of it (a site not excluded, of an allowed kind, with room).

    Returns
    -------
    list of str
        One line per earmark for a host that cannot hold its system, and one per system whose earmarks
        together exceed its demand, each naming the file and lines and how to fix it.
    """
    problems = []
    for p in purchases:
        if p.host_id and p.units > 0 and p.host_id not in able.get(p.system_id, ()):
            hosts = ", ".join(sorted(able.get(p.system_id, ()))) or "none"
            problems.append(
                f"{p.where()}: host {p.host_id} cannot hold {p.system_id} (no site of an allowed kind with room "
                f"that is not excluded; hosts that can: {hosts}); earmark another host, leave host_id empty or "
                "set financing.honour_earmarks = false"
            )
    by_system: dict[str, list[Purchase]] = defaultdict(list)
    for p in purchases:
        if p.host_id and p.units > 0:
            by_system[p.system_id].append(p)
    for w, rows in by_system.items():
        total, need = sum(p.units for p in rows), requirement.get(w, 0)
        if total > need:
            lines = ", ".join(str(p.line) for p in rows)
            problems.append(
                f"{rows[0].file} lines {lines}: {total} {w} earmarked for hosts, more than the {need} the demand "
                f"needs; lower the earmarked units or raise the demand for {w}"
            )
    return problems


def read_purchasers(path: Path, systems: Collection[str], hosts: Collection[str]) -> list[dict[str, Any]]:
    """The purchasers table as plain dicts (``read_purchases`` without the line numbers).

    Returns
    -------
    list of dict
        One dict per row with keys ``purchaser_id``, ``system_id``, ``units`` and ``host_id`` ("" when none).
    """
    return [
        {"purchaser_id": p.purchaser_id, "system_id": p.system_id, "units": p.units, "host_id": p.host_id}
        for p in read_purchases(path, systems, hosts)
    ]


def read_purchases(path: Path, systems: Collection[str], hosts: Collection[str]) -> list[Purchase]:
    """``parse_purchases``, raising its problems.

    Raises
    ------
    InputError
        Every problem ``parse_purchases`` finds, at once.
    """
    rows, problems = parse_purchases(path, systems, hosts)
    if problems:
        raise InputError(problems)
    return rows


def parse_purchases(path: Path, systems: Collection[str], hosts: Collection[str]) -> tuple[list[Purchase], list[str]]:
    """Read and check the purchasers table: ``purchaser_id, system_id, units, host_id`` (host optional).

    Read as an input table, before any solve, so a wrong id or count is found with the other input
    problems rather than in a report after the run.

    Parameters
    ----------
    path
        The CSV file ([data] purchasers); checked to be a regular file before it is opened.
    systems
        The known system ids; every ``system_id`` must be one.
    hosts
        The known host ids; a non-empty ``host_id`` must be one.

    Returns
    -------
    tuple of (list of Purchase, list of str)
        The rows without a problem (``units`` a whole number, ``host_id`` "" when none, with the file name and
        line), in file order, cells and headers stripped of surrounding spaces; and one problem per row with
        more cells than the header, an empty purchaser_id, an unknown system or host id or a units value that
        is not a whole number >= 0 (an empty cell included), each with its line.

    Raises
    ------
    InputError
        At once when the file cannot be read or is not UTF-8 CSV, or when its header lacks one of the four
        columns.
    """
    reason = unreadable(path)  # before opening: a FIFO would block
    if reason is not None:
        raise InputError([f"{path}: {reason}; check [data] purchasers"])
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as stream:
            reader = csv.DictReader(stream)
            header = {(h or "").strip() for h in (reader.fieldnames or [])}
            records = list(reader)
    except (UnicodeDecodeError, csv.Error):
        raise InputError([f"{path.name}: not a readable UTF-8 CSV file; save it as CSV with a header row"]) from None
    missing = set(COLUMNS) - header
    if missing:  # also for a file with a header and no rows
        raise InputError(
            [f"{path.name}: missing column(s) {', '.join(sorted(missing))}; the header must be: {', '.join(COLUMNS)}"]
        )
    problems: list[str] = []
    rows: list[Purchase] = []
    for line, raw in enumerate(records, start=2):
        if None in raw:  # DictReader keeps the cells beyond the header under None
            problems.append(f"{path.name} line {line}: more cells than the header's {len(header)} columns")
            continue
        r = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}  # a short row's missing cells: None
        before = len(problems)
        if not r["purchaser_id"]:
            problems.append(f"{path.name} line {line}: empty purchaser_id; name who buys the units")
        if r["system_id"] not in systems:
            problems.append(
                f"{path.name} line {line}: unknown system_id {r['system_id']!r} ({suggest(r['system_id'], systems)})"
            )
        if r["host_id"] and r["host_id"] not in hosts:
            problems.append(
                f"{path.name} line {line}: unknown host_id {r['host_id']!r} ({suggest(r['host_id'], hosts)})"
            )
        try:
            units = int(r["units"])
            if units < 0:
                raise ValueError
        except ValueError:
            problems.append(f"{path.name} line {line}: units must be a whole number >= 0, got {r['units']!r}")
            continue
        if len(problems) == before:
            rows.append(Purchase(r["purchaser_id"], r["system_id"], units, r["host_id"], path.name, line))
    return rows, problems
