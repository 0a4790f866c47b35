"""Helpers of ``load_inputs`` that work before any record exists: checks of the raw parsed rows, and the
reader of the boundaries file for the site-country check.

Kept apart from ``depotsite.inputs`` so that module stays a readable size. They take rows, ids and paths,
not ``Inputs``, so this module imports nothing of ``inputs`` (no cycle). The checks append to the caller's
list of problems, so every problem in every table is still reported at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from depotsite.tables import utf8_lines


def _unique(table: str, id_column: str, rows, problems: list[str]) -> dict[str, tuple[int, dict[str, Any]]]:
    """The first (line, row) of each id; every repeated id is a problem naming both lines."""
    seen: dict[str, tuple[int, dict[str, Any]]] = {}
    for line, row in rows:
        key = row[id_column]
        if key in seen:
            problems.append(
                f"{table}.csv line {line}: duplicate {id_column} {key!r} (first on line {seen[key][0]}); "
                "give every row its own id"
            )
        else:
            seen[key] = (line, row)
    return seen


def _profile_problems(systems: dict[str, tuple[int, dict]], profiles: Collection[str] | None) -> list[str]:
    """Every system whose transport profile the scenario does not define (nothing to check without profiles)."""
    if profiles is None:
        return []
    return [
        f"systems.csv line {line} ({system_id}): unknown transport profile {name!r}; "
        f"use one of {', '.join(sorted(profiles))} or define it under [network.profiles] in the scenario"
        for system_id, (line, row) in systems.items()
        for name in row["profile"].split(";")
        if name not in profiles
    ]


def _demand_units(
    rows: list[tuple[int, dict]], check_reference: Callable[[str, str, str], bool], problems: list[str]
) -> dict[tuple[str, str], int]:
    """Positive demand per (destination, system) of the rows whose ids are known and not repeated."""
    units: dict[tuple[str, str], int] = {}
    first_line: dict[tuple[str, str], int] = {}
    for line, row in rows:
        key = (row["destination_id"], row["system_id"])
        ok = check_reference(
            "destinations",
            key[0],
            f"demand.csv line {line}: unknown destination_id {key[0]!r}; add it to destinations.csv or fix the id",
        )
        ok &= check_reference(
            "systems",
            key[1],
            f"demand.csv line {line}: unknown system_id {key[1]!r}; add it to systems.csv or fix the id",
        )
        if key in first_line:
            problems.append(
                f"demand.csv line {line}: duplicate row for {key[0]}/{key[1]} (first on line {first_line[key]}); "
                "merge the two rows into one"
            )
            ok = False
        if ok:
            first_line[key] = line
            if row["units"] > 0:
                units[key] = row["units"]
    return units


def _read_countries(path: Path) -> tuple[list[str], list[Any]]:
    """Country ids and shapely geometries of a GeoJSON FeatureCollection; ValueError etc. if malformed."""
    import shapely.geometry

    with path.open("rb") as stream:
        features = json.loads("".join(utf8_lines(stream)))["features"]
    ids = [str(f["properties"]["country_id"]) for f in features]
    return ids, [shapely.geometry.shape(f["geometry"]) for f in features]
