"""The optional purchasers table: who buys how many units of which system, optionally for which host.

An input table like the others, so it is checked with them before any solve (and read again by the
financing part of a disclosure report).
"""

from __future__ import annotations

import csv
from collections.abc import Collection
from pathlib import Path
from typing import Any

from depotsite.errors import InputError
from depotsite.tables import unreadable

COLUMNS = ("purchaser_id", "system_id", "units", "host_id")


def read_purchasers(path: Path, systems: Collection[str], hosts: Collection[str]) -> list[dict[str, Any]]:
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
    list of dict
        One dict per row with keys ``purchaser_id``, ``system_id``, ``units`` (a whole number of units) and
        ``host_id`` ("" when none), in file order; cells and headers are stripped of surrounding spaces.

    Raises
    ------
    InputError
        At once when the file cannot be read or is not UTF-8 CSV, or when its header lacks one of the four
        columns; otherwise every row with more cells than the header, every unknown system or host id and
        every units value that is not a whole number >= 0 (an empty cell included), with its line, at once.
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
    problems, rows = [], []
    for line, raw in enumerate(records, start=2):
        if None in raw:  # DictReader keeps the cells beyond the header under None
            problems.append(f"{path.name} line {line}: more cells than the header's {len(header)} columns")
            continue
        r = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}  # a short row's missing cells: None
        if r["system_id"] not in systems:
            problems.append(f"{path.name} line {line}: unknown system_id {r['system_id']!r}")
        if r["host_id"] and r["host_id"] not in hosts:
            problems.append(f"{path.name} line {line}: unknown host_id {r['host_id']!r}")
        try:
            units = int(r["units"])
            if units < 0:
                raise ValueError
        except ValueError:
            problems.append(f"{path.name} line {line}: units must be a whole number >= 0, got {r['units']!r}")
            continue
        rows.append(
            {"purchaser_id": r["purchaser_id"], "system_id": r["system_id"], "units": units, "host_id": r["host_id"]}
        )
    if problems:
        raise InputError(problems)
    return rows
