"""Reading a run folder back: ``RunFolder``, every file typed and every problem listed at once.

Reading needs none of the model's code, so ``verify``, ``compare``, ``report`` and ``stress`` can read a run
made by another version or on another machine. ``depotsite.output.runfolder`` writes what this reads.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from depotsite.errors import InputError
from depotsite.tables import identifier, nonneg, read_table

OUTPUT_FILES = (
    "allocation.csv",
    "deliveries.csv",
    "summary.json",
    "depots.geojson",
    "routes.geojson",
    "scenario.resolved.toml",
)
"""The files every run folder has (``sites.geojson``, ``destinations.geojson`` and ``layers.gpkg`` are newer:
hashed in the manifest, not required, so runs written before them can still be read and compared)."""


def _whole(raw: str) -> int:
    value = nonneg(raw)
    if value != int(value):
        raise ValueError(f"must be a whole number >= 0, got {raw!r}")
    return int(value)


ALLOCATION = {"site_id": identifier, "host_id": identifier, "system_id": identifier, "units": _whole}
DELIVERIES = {
    "site_id": identifier,
    "destination_id": identifier,
    "system_id": identifier,
    "units": _whole,
    "transit_h": nonneg,
    "queue_h": nonneg,
    "available_h": nonneg,
    "last_available_h": nonneg,
}
EXPOSURE_COLUMNS = ("ukraine_h", "exposure_h")  # written since routes report their exposure in transit


def deliveries_schema(path: Path) -> dict[str, Any]:
    """The schema of a run's deliveries.csv: ``DELIVERIES``, with the exposure columns when its header has them
    (a run written before they existed has none)."""
    try:
        with Path(path).open(encoding="utf-8", newline="") as stream:
            header = {cell.strip() for cell in next(csv.reader(stream), [])}
    except (OSError, UnicodeDecodeError, csv.Error):
        return DELIVERIES  # read_table reports why the file cannot be read
    return {**DELIVERIES, **{c: nonneg for c in EXPOSURE_COLUMNS if c in header}}


def read_text(path: Path, problems: list[str]) -> str | None:
    """A run file as UTF-8 text; None (and a problem) when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path.name}: cannot be read as UTF-8 text ({exc})")
        return None


def read_json(path: Path, problems: list[str]) -> Any:
    """A run file as JSON; None (and a problem) when it is not."""
    text = read_text(path, problems)
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        problems.append(f"{path.name}: not valid JSON ({exc})")
        return None


def read_rows_checked(
    path: Path, schema: dict[str, Any], problems: list[str], optional: dict[str, Any] | None = None
) -> list[dict[str, Any]] | None:
    """A run table read with its schema and optional columns (every bad cell a problem); None when any cell
    is bad."""
    found: list[str] = []
    rows = read_table(path, schema, found, optional=optional)
    problems += found
    return None if rows is None or found else [row for _, row in rows]


@dataclass(frozen=True)
class RunFolder:
    """A run folder written by ``write_run``, read back with every number typed.

    ``scenario`` is the resolved scenario as plain TOML data (not re-validated: a reader of a run must be
    able to read a run made by another version or on another machine).
    """

    path: Path
    manifest: dict[str, Any]
    scenario: dict[str, Any]
    summary: dict[str, Any]
    allocation: tuple[dict[str, Any], ...]  # site_id, host_id, system_id, units (int)
    deliveries: tuple[dict[str, Any], ...]  # site_id, destination_id, system_id, units, transit_h, available_h

    @property
    def stock(self) -> dict[tuple[str, str], int]:
        """(site_id, system_id) -> units."""
        return {(r["site_id"], r["system_id"]): r["units"] for r in self.allocation}

    def host_units(self) -> dict[tuple[str, str], int]:
        """(host_id, system_id) -> units, as the allocation states the hosts."""
        units: dict[tuple[str, str], int] = defaultdict(int)
        for r in self.allocation:
            units[r["host_id"], r["system_id"]] += r["units"]
        return dict(units)

    @classmethod
    def read(cls, path: Path) -> RunFolder:
        """Read a run folder; every problem (a missing file, a bad cell, bad JSON or TOML) at once.

        Raises
        ------
        InputError
            When ``path`` is not a complete, readable run folder.
        """
        problems: list[str] = []
        folder = cls.read_into(Path(path), problems)
        if folder is None:
            raise InputError([f"{path}: not a readable depotsite run folder", *problems], heading="invalid run")
        return folder

    @classmethod
    def read_into(cls, path: Path, problems: list[str]) -> RunFolder | None:
        """As ``read``, but each problem goes to ``problems`` and a folder that cannot be read gives None."""
        missing = [name for name in ("manifest.json", *OUTPUT_FILES) if not (path / name).is_file()]
        if missing:
            problems.append(f"{path}: missing {', '.join(missing)}; not a complete depotsite run folder")
            return None
        manifest, summary = read_json(path / "manifest.json", problems), read_json(path / "summary.json", problems)
        for name, doc in (("manifest.json", manifest), ("summary.json", summary)):
            if doc is not None and not isinstance(doc, dict):
                problems.append(f"{name}: not a JSON object")
        scenario = _read_toml(path / "scenario.resolved.toml", problems)
        allocation = read_rows_checked(path / "allocation.csv", ALLOCATION, problems)
        deliveries = read_rows_checked(path / "deliveries.csv", deliveries_schema(path / "deliveries.csv"), problems)
        parts = (manifest, summary, scenario, allocation, deliveries)
        if any(part is None for part in parts) or not isinstance(manifest, dict) or not isinstance(summary, dict):
            return None
        assert scenario is not None and allocation is not None and deliveries is not None
        return cls(
            path=path,
            manifest=manifest,
            scenario=scenario,
            summary=summary,
            allocation=tuple(allocation),
            deliveries=tuple(deliveries),
        )


def _read_toml(path: Path, problems: list[str]) -> dict[str, Any] | None:
    import tomllib

    text = read_text(path, problems)
    if text is None:
        return None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{path.name}: not valid TOML ({exc})")
        return None
    if not isinstance(doc.get("data"), dict):
        problems.append(f"{path.name}: no [data] table")
        return None
    return doc
