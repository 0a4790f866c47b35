"""CSV tables: cell parsers, the column schema of every input table, and a reader that collects every
problem (with file, line and how to fix it) instead of stopping at the first."""

from __future__ import annotations

import csv
import difflib
import hashlib
import math
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

SITE_KINDS = ("air_base", "army_base", "logistics_hub", "rail_hub", "port")
# The seven categories of the UN Register of Conventional Arms, with the Register's descriptions.
UNROCA = {
    "I": "Battle tanks",
    "II": "Armoured combat vehicles",
    "III": "Large-calibre artillery systems (incl. multiple-launch rocket systems of 75 mm and more)",
    "IV": "Combat aircraft",
    "V": "Attack helicopters",
    "VI": "Warships",
    "VII": "Missiles and missile launchers",
}
UNROCA_CATEGORIES = tuple(UNROCA)


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks (manifests, the travel-time cache key, verify)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_rows(path: Path) -> list[dict[str, str]]:
    """A CSV file's rows as dicts of raw strings (for reading run outputs; inputs use ``read_table``)."""
    with Path(path).open(newline="", encoding="utf-8-sig") as stream:
        return list(csv.DictReader(stream))

# --- cell parsers: return the value or raise ValueError with what a valid value looks like -------------


def _text(raw: str) -> str:
    return raw.strip()


def identifier(raw: str) -> str:
    value = raw.strip()
    if not value or any(c.isspace() for c in value):
        raise ValueError(f"must be a non-empty id without spaces, got {raw!r}")
    return value


def _number(raw: str, *, low: float = -math.inf, high: float = math.inf, what: str = "a number") -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"must be {what}, got {raw!r}") from None
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(f"must be {what}, got {raw!r}")
    return value


def nonneg(raw: str) -> float:
    return _number(raw, low=0.0, what="a number >= 0")


def _positive(raw: str) -> float:
    value = _number(raw, low=0.0, what="a number > 0")
    if value == 0:
        raise ValueError(f"must be a number > 0, got {raw!r}")
    return value


def _count(raw: str) -> int:
    value = _number(raw, low=0.0, what="a whole number >= 0")
    if value != int(value):
        raise ValueError(f"must be a whole number >= 0, got {raw!r}")
    return int(value)


def _positive_count(raw: str) -> int:
    value = _count(raw)
    if value < 1:
        raise ValueError(f"must be a whole number >= 1, got {raw!r}")
    return value


def _lat(raw: str) -> float:
    return _number(raw, low=-90.0, high=90.0, what="a latitude in degrees between -90 and 90")


def _lon(raw: str) -> float:
    return _number(raw, low=-180.0, high=180.0, what="a longitude in degrees between -180 and 180")


def _site_kind(raw: str) -> str:
    value = raw.strip()
    if value not in SITE_KINDS:
        raise ValueError(f"must be one of {', '.join(SITE_KINDS)}, got {raw!r}")
    return value


def _site_kinds(raw: str) -> frozenset[str]:
    kinds = [k.strip() for k in raw.split(";") if k.strip()]
    bad = [k for k in kinds if k not in SITE_KINDS]
    if not kinds or bad:
        raise ValueError(f"must be a ';'-separated list of {', '.join(SITE_KINDS)}, got {raw!r}")
    return frozenset(kinds)


def _unroca(raw: str) -> str:
    value = raw.strip().upper()
    if value not in UNROCA_CATEGORIES:
        raise ValueError(f"must be a UN Register category I to VII, got {raw!r}")
    return value


def _optional_hours(raw: str) -> float | None:
    return None if raw.strip() == "" else nonneg(raw)


Parser = Callable[[str], Any]

SCHEMAS: dict[str, dict[str, Parser]] = {
    "hosts": {"host_id": identifier, "name": _text, "group": _text, "release_delay_h": _optional_hours},
    "sites": {
        "site_id": identifier,
        "name": _text,
        "host_id": identifier,
        "lat": _lat,
        "lon": _lon,
        "kind": _site_kind,
        "vehicle_bays": _count,
        "aircraft_shelters": _count,
        "dispatch_per_day": _positive,
        "fixed_cost_musd": nonneg,
        "source": _text,
    },
    "systems": {
        "system_id": identifier,
        "name": _text,
        "unroca_category": _unroca,
        "profile": identifier,
        "value_musd": _positive,
        "vehicle_bays_per_unit": nonneg,
        "shelters_per_unit": nonneg,
        "crew_per_unit": nonneg,
        "min_lot": _positive_count,
        "site_kinds": _site_kinds,
    },
    "destinations": {"destination_id": identifier, "name": _text, "lat": _lat, "lon": _lon, "kind": identifier},
    "demand": {"destination_id": identifier, "system_id": identifier, "units": _count},
}

def read_table(
    path: Path, schema: Mapping[str, Parser], problems: list[str], rejected: set[str] | None = None
) -> list[tuple[int, dict[str, Any]]] | None:
    """Read one CSV into ``(line number, parsed row)`` pairs; append every problem to ``problems``.

    Returns None when the table cannot be read at all (missing file, wrong header). Rows with a bad cell
    are left out and their first cell added to ``rejected``, so later checks report no follow-on errors
    for them.
    """
    name = path.name
    expected = ", ".join(schema)
    if not path.is_file():
        problems.append(f"{path}: file not found; check the path in the scenario's [data] table")
        return None
    try:
        with path.open(newline="", encoding="utf-8-sig") as stream:
            reader = csv.reader(stream, strict=True)
            header = [h.strip() for h in next(reader, [])]
            missing = [c for c in schema if c not in header]
            extra = [c for c in header if c not in schema]
            for column in missing:
                problems.append(f"{name}: missing column {column!r}; the header must be: {expected}")
            for column in extra:
                hint = difflib.get_close_matches(column, list(schema), n=1)
                did_you_mean = f" (did you mean {hint[0]!r}?)" if hint else ""
                problems.append(f"{name}: unexpected column {column!r}{did_you_mean}; the header must be: {expected}")
            if missing or extra:
                return None
            rows: list[tuple[int, dict[str, Any]]] = []
            for cells in reader:
                line = reader.line_num
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) != len(header):
                    problems.append(
                        f"{name} line {line}: {len(cells)} fields but the header has {len(header)}; "
                        "quote any field that contains a comma"
                    )
                    if rejected is not None and cells:
                        rejected.add(cells[0].strip())
                    continue
                row, ok = {}, True
                for column, raw in zip(header, cells, strict=True):
                    try:
                        row[column] = schema[column](raw)
                    except ValueError as exc:
                        key = cells[0].strip() or "?"
                        problems.append(f"{name} line {line} ({key}): {column} {exc}")
                        ok = False
                if ok:
                    rows.append((line, row))
                elif rejected is not None:
                    rejected.add(cells[0].strip())
            return rows
    except (csv.Error, UnicodeDecodeError) as exc:
        problems.append(f"{name}: not a readable UTF-8 CSV file ({exc}); save it as CSV with a header row")
        return None


def suggest(value: str, choices: Collection[str]) -> str:
    cutoff = 0.5 if len(value) <= 3 else 0.7  # two-letter codes differ by one letter at ratio 0.5
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=cutoff)
    return f"did you mean {close[0]!r}?" if close else f"known ids: {', '.join(sorted(choices))}"


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    """Write one CSV table (UTF-8, a header row), the counterpart of ``read_rows``."""
    with Path(path).open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
