"""CSV tables: cell parsers, the column schema of every input table, and a reader that collects every
problem (with file, line and how to fix it) instead of stopping at the first."""

from __future__ import annotations

import csv
import difflib
import hashlib
import math
import os
import stat
from collections.abc import Callable, Collection, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

SITE_KINDS = ("air_base", "army_base", "logistics_hub", "rail_hub", "port", "ammo_depot")
# The seven categories of the UN Register of Conventional Arms, with the Register's descriptions, and
# "NONE" for a system the seven do not cover (VII(a) excludes ground-to-air missiles; VII(b) is MANPADS
# only), so a surface-to-air battery is shown as outside the Register rather than forced into a category.
UNROCA = {
    "I": "Battle tanks",
    "II": "Armoured combat vehicles",
    "III": "Large-calibre artillery systems (incl. multiple-launch rocket systems of 75 mm and more)",
    "IV": "Combat aircraft and unmanned combat aerial vehicles",
    "V": "Attack helicopters",
    "VI": "Warships",
    "VII": "Missiles and missile launchers (range 25 km or more, not ground-to-air; and MANPADS)",
    "NONE": "Not covered by the Register's seven categories",
}
UNROCA_CATEGORIES = tuple(UNROCA)


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MB blocks (manifests, the travel-time cache key, verify)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_rows(path: Path) -> list[dict[str, str]]:
    """A CSV file's rows as dicts of raw strings (for reading run outputs; inputs use ``read_table``).

    The file is UTF-8 with a header row (a leading BOM is dropped); cells are neither parsed nor stripped.
    """
    with Path(path).open(newline="", encoding="utf-8-sig") as stream:
        return list(csv.DictReader(stream))


# --- limits: what keeps the model numerically meaningful and its size workable ------------------------

MAX_COUNT = 1_000_000
"""Largest unit count, capacity (vehicle bays, aircraft shelters), demand or minimum lot."""
MAX_AMOUNT = 1_000_000.0
"""Largest value or cost (M USD), crew, footprint, dispatch rate or travel-time hours in a table."""
MIN_RATE = 0.001
"""Smallest non-zero footprint per unit and dispatch rate: below it, coefficients span too many decades."""
MAX_HOURS = 100_000.0
"""Largest release delay in hours (about eleven years)."""
MAX_ID_CHARS = 100
MAX_TEXT_CHARS = 1_000
MAX_TABLE_BYTES = 256 * 1024 * 1024
MAX_ROWS = {"hosts": 1_000, "sites": 20_000, "systems": 1_000, "destinations": 10_000, "demand": 100_000}
"""Rows per table. The model has a variable per (site, destination, system) pair, so beyond these sizes
it cannot be built and solved in minutes; refused while reading, before the model is built."""
SHOWN_CHARS = 60
"""Longest piece of a user's value repeated in an error message."""


def shown(raw: str) -> str:
    """``repr`` of a user's value for an error message, cut to ``SHOWN_CHARS`` characters.

    Parameters
    ----------
    raw
        The value as the user typed it.

    Returns
    -------
    str
        The quoted value, or its start and its length when it is longer.
    """
    return repr(raw) if len(raw) <= SHOWN_CHARS else f"{raw[:SHOWN_CHARS]!r}... ({len(raw):,} characters)"


def unreadable(path: Path) -> str | None:
    """Why ``path`` cannot be read as an input file, or None when it is a regular file.

    Checked with ``os.stat`` before anything opens it: opening a FIFO blocks until a writer appears, and
    a device may never end.

    Parameters
    ----------
    path
        The file a scenario names (a table, the scenario itself, the boundaries).

    Returns
    -------
    str or None
        A reason such as ``"is a directory, not a file"``, to follow the path in a message.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "file not found"
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    if stat.S_ISFIFO(mode):
        return "is a named pipe (FIFO), not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a regular file"
    return "is not a regular file"


class NotUtf8(ValueError):
    """A file's bytes are not UTF-8; ``offset`` is the file offset of the first bad byte."""

    def __init__(self, offset: int) -> None:
        self.offset = offset
        super().__init__(f"not UTF-8 text (invalid byte at offset {offset})")


def utf8_lines(stream: BinaryIO) -> Iterator[str]:
    """Decode a binary stream line by line (a leading BOM dropped), raising ``NotUtf8`` with the offset.

    Parameters
    ----------
    stream
        A file opened in binary mode.

    Returns
    -------
    Iterator[str]
        The lines with their line endings, ready for ``csv.reader`` (as with ``newline=""``).
    """
    offset = 0
    for raw in stream:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NotUtf8(offset + exc.start) from None
        yield text.removeprefix("\ufeff") if offset == 0 else text
        offset += len(raw)


# --- cell parsers: return the value or raise ValueError with what a valid value looks like -------------


def _text(raw: str) -> str:
    value = raw.strip()
    if len(value) > MAX_TEXT_CHARS:
        raise ValueError(f"must be at most {MAX_TEXT_CHARS:,} characters, got {len(value):,}")
    return value


def identifier(raw: str) -> str:
    """An id: stripped of surrounding whitespace; printable, without inner spaces, at most 100 characters.

    Returns the stripped id; raises ``ValueError`` saying what a valid id looks like.
    """
    value = raw.strip()
    if not value or len(value) > MAX_ID_CHARS or not value.isprintable() or any(c.isspace() for c in value):
        raise ValueError(
            f"must be a non-empty id of at most {MAX_ID_CHARS} printable characters without spaces, got {shown(raw)}"
        )
    return value


def _number(raw: str, *, low: float, high: float, what: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"must be {what}, got {shown(raw)}") from None
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(f"must be {what}, got {shown(raw)}")
    return value


def nonneg(raw: str) -> float:
    """A finite number between 0 and ``MAX_AMOUNT`` (costs, crew, hours of a matrix); else ``ValueError``."""
    return _number(raw, low=0.0, high=MAX_AMOUNT, what=f"a number between 0 and {MAX_AMOUNT:,.0f}")


def _positive(raw: str) -> float:
    return _number(raw, low=MIN_RATE, high=MAX_AMOUNT, what=f"a number between {MIN_RATE:g} and {MAX_AMOUNT:,.0f}")


def _footprint(raw: str) -> float:
    what = f"0 or a number between {MIN_RATE:g} and {MAX_AMOUNT:,.0f}"
    value = _number(raw, low=0.0, high=MAX_AMOUNT, what=what)
    if 0 < value < MIN_RATE:
        raise ValueError(f"must be {what}, got {shown(raw)}")
    return value


def _count(raw: str, low: int = 0) -> int:
    what = f"a whole number between {low} and {MAX_COUNT:,}"
    value = _number(raw, low=low, high=MAX_COUNT, what=what)
    if value != int(value):
        raise ValueError(f"must be {what}, got {shown(raw)}")
    return int(value)


def _positive_count(raw: str) -> int:
    return _count(raw, low=1)


def _lat(raw: str) -> float:
    return _number(raw, low=-90.0, high=90.0, what="a latitude in degrees between -90 and 90")


def _lon(raw: str) -> float:
    return _number(raw, low=-180.0, high=180.0, what="a longitude in degrees between -180 and 180")


def _site_kind(raw: str) -> str:
    value = raw.strip()
    if value not in SITE_KINDS:
        raise ValueError(f"must be one of {', '.join(SITE_KINDS)}, got {shown(raw)}")
    return value


def _site_kinds(raw: str) -> frozenset[str]:
    kinds = [k.strip() for k in raw.split(";") if k.strip()]
    bad = [k for k in kinds if k not in SITE_KINDS]
    if not kinds or bad:
        raise ValueError(f"must be a ';'-separated list of {', '.join(SITE_KINDS)}, got {shown(raw)}")
    return frozenset(kinds)


def _profiles(raw: str) -> str:
    """A transport profile, or ';'-separated alternatives (``rail;tracked``), each an id; kept as ';'-joined text."""
    parts = [p.strip() for p in raw.split(";")]
    if not parts or any(
        not p or len(p) > MAX_ID_CHARS or not p.isprintable() or any(c.isspace() for c in p) for p in parts
    ):
        raise ValueError(
            f"must be a transport profile or ';'-separated profiles (e.g. rail;tracked), each an id of at most "
            f"{MAX_ID_CHARS} printable characters without spaces, got {shown(raw)}"
        )
    return ";".join(parts)


def _unroca(raw: str) -> str:
    value = raw.strip().upper()
    if value not in UNROCA_CATEGORIES:
        raise ValueError(f"must be a UN Register category I to VII, or NONE, got {shown(raw)}")
    return value


def _optional_hours(raw: str) -> float | None:
    what = f"empty or a number of hours between 0 and {MAX_HOURS:,.0f}"
    return None if raw.strip() == "" else _number(raw, low=0.0, high=MAX_HOURS, what=what)


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
        "profile": _profiles,
        "value_musd": _positive,
        "vehicle_bays_per_unit": _footprint,
        "shelters_per_unit": _footprint,
        "crew_per_unit": nonneg,
        "min_lot": _positive_count,
        "site_kinds": _site_kinds,
    },
    "destinations": {"destination_id": identifier, "name": _text, "lat": _lat, "lon": _lon, "kind": identifier},
    "demand": {"destination_id": identifier, "system_id": identifier, "units": _count},
}

OPTIONAL: dict[str, dict[str, tuple[Parser, Any]]] = {
    "sites": {"ammo_capacity_t": (nonneg, 0.0)},
    "systems": {"net_explosive_t_per_unit": (_footprint, 0.0), "dispatch_slots_per_unit": (_positive_count, 1)},
}
"""Columns a table may leave out, each with its parser and the value a row gets when the column is absent
(tables written before the column existed still load): a site's ammunition capacity in tonnes of net
explosive mass (0: not an ammunition depot), a system's net explosive mass per unit (0: a vehicle) and the
dispatch slots one unit takes at its site (1: one vehicle or aircraft)."""


def _header_problems(
    name: str, header: list[str], schema: Mapping[str, Parser], optional: Collection[str] = ()
) -> list[str]:
    """Missing and unexpected columns; a first row with none of the columns is not echoed (wrong file)."""
    expected = ", ".join(schema) + "".join(f" (optional: {c})" for c in optional)
    if not any(column in schema for column in header):
        return [
            f"{name}: the first row has none of the expected columns; is this the right file? "
            f"The header must be: {expected}"
        ]
    problems = [f"{name}: missing column {c!r}; the header must be: {expected}" for c in schema if c not in header]
    for column in (c for c in header if c not in schema and c not in optional):
        hint = difflib.get_close_matches(column, [*schema, *optional], n=1)
        did_you_mean = f" (did you mean {hint[0]!r}?)" if hint else ""
        problems.append(f"{name}: unexpected column {shown(column)}{did_you_mean}; the header must be: {expected}")
    return problems


def _parse_row(
    name: str, line: int, header: list[str], cells: list[str], schema: Mapping[str, Parser], problems: list[str]
) -> dict[str, Any] | None:
    """One row parsed by ``schema``, or None after appending a problem per wrong field count or bad cell."""
    if len(cells) != len(header):
        problems.append(
            f"{name} line {line}: {len(cells)} fields but the header has {len(header)}; "
            "quote any field that contains a comma"
        )
        return None
    row, ok = {}, True
    for column, raw in zip(header, cells, strict=True):
        try:
            row[column] = schema[column](raw)
        except ValueError as exc:
            key = cells[0].strip()[:MAX_ID_CHARS] or "?"
            key = key if key.isprintable() else ascii(key)  # no control characters to the terminal
            problems.append(f"{name} line {line} ({key}): {column} {exc}")
            ok = False
    return row if ok else None


def read_table(
    path: Path,
    schema: Mapping[str, Parser],
    problems: list[str],
    rejected: set[str] | None = None,
    *,
    max_rows: int | None = None,
    what: str = "rows",
    optional: Mapping[str, tuple[Parser, Any]] | None = None,
) -> list[tuple[int, dict[str, Any]]] | None:
    """Read one CSV into ``(line number, parsed row)`` pairs; append every problem to ``problems``.

    Headers and cells are stripped of surrounding whitespace; blank rows are skipped. Rows with a bad cell
    are left out and their first cell added to ``rejected``, so later checks report no follow-on errors.

    Parameters
    ----------
    path
        The table; refused unread when it is not a regular file or is over ``MAX_TABLE_BYTES``.
    schema
        Parser per column (as in ``SCHEMAS``); the header must have exactly these columns, in any order.
    problems, rejected
        Appended to: a line per problem (file, line, first cell, column, what is valid); rejected ids.
    max_rows, what
        Most rows (blank ones included) before the table is refused, and the word for them in that message.
    optional
        Columns the header may leave out (as in ``OPTIONAL``): column -> (parser, value of a row without it).

    Returns
    -------
    list of (int, dict) or None
        The rows that parsed; None when the table cannot be read at all (missing or not a regular file, too
        large, not UTF-8 or CSV, wrong header, over ``max_rows`` rows: refused once the row after is read).
    """
    name = Path(path).name
    reason = unreadable(path)
    if reason is None and os.stat(path).st_size > MAX_TABLE_BYTES:
        reason = f"is larger than {MAX_TABLE_BYTES >> 20} MB"
    if reason is not None:
        problems.append(f"{path}: {reason}; check the path in the scenario's [data] table")
        return None
    try:
        with Path(path).open("rb") as stream:
            reader = csv.reader(utf8_lines(stream), strict=True)
            header = [h.strip() for h in next(reader, [])]
            optional = optional or {}
            header_problems = _header_problems(name, header, schema, list(optional))
            if header_problems:
                problems += header_problems
                return None
            parsers = {**schema, **{c: parse for c, (parse, _) in optional.items() if c in header}}
            absent = {c: default for c, (_, default) in optional.items() if c not in header}
            rows: list[tuple[int, dict[str, Any]]] = []
            count = 0
            for cells in reader:
                count += 1
                if max_rows is not None and count > max_rows:
                    problems.append(
                        f"{name}: more than {max_rows:,} {what}; depotsite handles at most {max_rows:,} "
                        "(the model has a variable per site, destination and system, and beyond this "
                        "it cannot be built and solved in minutes); pre-select the candidates"
                    )
                    return None
                if not any(c.strip() for c in cells):
                    continue
                row = _parse_row(name, reader.line_num, header, cells, parsers, problems)
                if row is not None:
                    rows.append((reader.line_num, {**row, **absent}))
                elif rejected is not None and cells:
                    rejected.add(cells[0].strip())
            return rows
    except NotUtf8 as exc:
        problems.append(f"{name}: {exc}; save it as a UTF-8 CSV file")
    except csv.Error as exc:
        problems.append(f"{name}: not a readable CSV file ({exc}); save it as CSV with a header row")
    except OSError as exc:
        problems.append(f"{path}: cannot be read ({exc.strerror})")
    return None


def suggest(value: str, choices: Collection[str]) -> str:
    """A hint for an unknown id: the closest known id, else the list of known ids.

    Parameters
    ----------
    value, choices
        The unknown id and the known ones.

    Returns
    -------
    str
        "did you mean 'x'?" for a close match (looser for ids of up to 3 characters), else "known ids: ...".
    """
    cutoff = 0.5 if len(value) <= 3 else 0.7  # two-letter codes differ by one letter at ratio 0.5
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=cutoff)
    return f"did you mean {close[0]!r}?" if close else f"known ids: {', '.join(sorted(choices))}"


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    """Write one CSV table (UTF-8, a header row), the counterpart of ``read_rows``; overwrites ``path``."""
    with Path(path).open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
