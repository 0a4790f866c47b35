"""Load the input tables into typed, validated, immutable values.

Every table is read in full and every problem is collected before anything is raised, so a user fixes
all of them in one pass. Each message names the file, the line (the header is line 1) or id, what is
wrong and how to fix it.
"""

from __future__ import annotations

import csv
import difflib
import logging
import math
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from depotsite.errors import InputError

log = logging.getLogger(__name__)

SITE_KINDS = ("air_base", "army_base", "logistics_hub", "rail_hub", "port")
UNROCA_CATEGORIES = ("I", "II", "III", "IV", "V", "VI", "VII")


@dataclass(frozen=True)
class Host:
    host_id: str
    name: str
    group: str
    release_delay_h: float | None  # None: the scenario's default


@dataclass(frozen=True)
class Site:
    site_id: str
    name: str
    host_id: str
    lat: float
    lon: float
    kind: str
    vehicle_bays: int
    aircraft_shelters: int
    dispatch_per_day: float
    fixed_cost_musd: float
    source: str


@dataclass(frozen=True)
class System:
    system_id: str
    name: str
    unroca_category: str
    profile: str
    value_musd: float
    vehicle_bays_per_unit: float
    shelters_per_unit: float
    crew_per_unit: float
    min_lot: int
    site_kinds: frozenset[str]


@dataclass(frozen=True)
class Destination:
    destination_id: str
    name: str
    lat: float
    lon: float
    kind: str


@dataclass(frozen=True)
class Inputs:
    """The validated tables, keyed by id. Mappings are read-only."""

    hosts: Mapping[str, Host]
    sites: Mapping[str, Site]
    systems: Mapping[str, System]
    destinations: Mapping[str, Destination]
    demand: Mapping[tuple[str, str], int]  # (destination_id, system_id) -> units
    files: Mapping[str, Path] = field(default_factory=dict)  # table name -> path it came from

    @property
    def requirement(self) -> dict[str, int]:
        """Units of each system the package needs in all (the sum of its demand)."""
        req = dict.fromkeys(self.systems, 0)
        for (_, system_id), units in self.demand.items():
            req[system_id] += units
        return req

    @property
    def package_value_musd(self) -> float:
        return sum(self.systems[w].value_musd * n for w, n in self.requirement.items())

    @classmethod
    def build(
        cls,
        *,
        hosts: list[Host],
        sites: list[Site],
        systems: list[System],
        destinations: list[Destination],
        demand: Mapping[tuple[str, str], int],
        files: Mapping[str, Path] | None = None,
    ) -> Inputs:
        """Assemble from in-memory records (tests and adapters); run the cross-table checks."""
        inputs = cls(
            hosts=MappingProxyType({h.host_id: h for h in hosts}),
            sites=MappingProxyType({s.site_id: s for s in sites}),
            systems=MappingProxyType({w.system_id: w for w in systems}),
            destinations=MappingProxyType({d.destination_id: d for d in destinations}),
            demand=MappingProxyType(dict(demand)),
            files=MappingProxyType(dict(files or {})),
        )
        problems = check_capacity(inputs)
        if problems:
            raise InputError(problems)
        return inputs


# --- cell parsers: return the value or raise ValueError with what a valid value looks like -------------


def _text(raw: str) -> str:
    return raw.strip()


def _identifier(raw: str) -> str:
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


def _nonneg(raw: str) -> float:
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
    return None if raw.strip() == "" else _nonneg(raw)


Parser = Callable[[str], Any]

SCHEMAS: dict[str, dict[str, Parser]] = {
    "hosts": {"host_id": _identifier, "name": _text, "group": _text, "release_delay_h": _optional_hours},
    "sites": {
        "site_id": _identifier,
        "name": _text,
        "host_id": _identifier,
        "lat": _lat,
        "lon": _lon,
        "kind": _site_kind,
        "vehicle_bays": _count,
        "aircraft_shelters": _count,
        "dispatch_per_day": _positive,
        "fixed_cost_musd": _nonneg,
        "source": _text,
    },
    "systems": {
        "system_id": _identifier,
        "name": _text,
        "unroca_category": _unroca,
        "profile": _identifier,
        "value_musd": _positive,
        "vehicle_bays_per_unit": _nonneg,
        "shelters_per_unit": _nonneg,
        "crew_per_unit": _nonneg,
        "min_lot": _positive_count,
        "site_kinds": _site_kinds,
    },
    "destinations": {"destination_id": _identifier, "name": _text, "lat": _lat, "lon": _lon, "kind": _identifier},
    "demand": {"destination_id": _identifier, "system_id": _identifier, "units": _count},
}
RECORDS = {"hosts": Host, "sites": Site, "systems": System, "destinations": Destination}


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


def _suggest(value: str, choices: Collection[str]) -> str:
    cutoff = 0.5 if len(value) <= 3 else 0.7  # two-letter codes differ by one letter at ratio 0.5
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=cutoff)
    return f"did you mean {close[0]!r}?" if close else f"known ids: {', '.join(sorted(choices))}"


def _unique(table: str, id_column: str, rows, problems: list[str]) -> dict[str, tuple[int, dict[str, Any]]]:
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


def load_inputs(
    *,
    hosts: Path,
    sites: Path,
    systems: Path,
    destinations: Path,
    demand: Path,
    profiles: Collection[str] | None = None,
) -> Inputs:
    """Read and validate the five tables.

    Parameters
    ----------
    hosts, sites, systems, destinations, demand
        Paths of the CSV tables (columns as in ``SCHEMAS``).
    profiles
        Transport profile names the scenario defines; when given, every system's ``profile`` must be one.

    Raises
    ------
    InputError
        Listing every problem found in every table.
    """
    started = time.perf_counter()
    paths = {"hosts": Path(hosts), "sites": Path(sites), "systems": Path(systems),
             "destinations": Path(destinations), "demand": Path(demand)}
    problems: list[str] = []
    rejected: dict[str, set[str]] = {table: set() for table in paths}
    raw = {table: read_table(path, SCHEMAS[table], problems, rejected[table]) for table, path in paths.items()}
    by_id = {table: _unique(table, f"{table[:-1]}_id", raw[table] or [], problems) for table in RECORDS}

    def check_reference(table: str, value: str, message: str) -> bool:
        """Report a reference to an unknown id, unless the table is unreadable or that row was rejected."""
        if raw[table] is None or value in rejected[table] or value in by_id[table]:
            return True
        problems.append(f"{message} ({_suggest(value, by_id[table])})")
        return False

    for site_id, (line, row) in by_id["sites"].items():
        check_reference("hosts", row["host_id"], f"sites.csv line {line} ({site_id}): unknown host_id "
                        f"{row['host_id']!r}; add it to hosts.csv or fix the id")
    for system_id, (line, row) in by_id["systems"].items():
        if profiles is not None and row["profile"] not in profiles:
            problems.append(
                f"systems.csv line {line} ({system_id}): unknown transport profile {row['profile']!r}; "
                f"use one of {', '.join(sorted(profiles))} or define it under [network.profiles] in the scenario"
            )

    demand_units: dict[tuple[str, str], int] = {}
    demand_line: dict[tuple[str, str], int] = {}
    for line, row in raw["demand"] or []:
        key = (row["destination_id"], row["system_id"])
        ok = check_reference("destinations", key[0], f"demand.csv line {line}: unknown destination_id {key[0]!r}; "
                             "add it to destinations.csv or fix the id")
        ok &= check_reference("systems", key[1], f"demand.csv line {line}: unknown system_id {key[1]!r}; "
                              "add it to systems.csv or fix the id")
        if key in demand_line:
            problems.append(
                f"demand.csv line {line}: duplicate row for {key[0]}/{key[1]} (first on line {demand_line[key]}); "
                "merge the two rows into one"
            )
            ok = False
        if ok:
            demand_line[key] = line
            if row["units"] > 0 and key[0] in by_id["destinations"] and key[1] in by_id["systems"]:
                demand_units[key] = row["units"]

    records = {
        table: [RECORDS[table](**row) for _, row in by_id[table].values()] for table in RECORDS
    }
    inputs = Inputs(
        hosts=MappingProxyType({h.host_id: h for h in records["hosts"]}),
        sites=MappingProxyType({s.site_id: s for s in records["sites"]}),
        systems=MappingProxyType({w.system_id: w for w in records["systems"]}),
        destinations=MappingProxyType({d.destination_id: d for d in records["destinations"]}),
        demand=MappingProxyType(demand_units),
        files=MappingProxyType({table: path.resolve() for table, path in paths.items()}),
    )
    if not problems:
        if not demand_units:
            problems.append("demand.csv: no positive demand; add rows 'destination_id,system_id,units'")
        problems += check_capacity(inputs)
    if problems:
        raise InputError(problems)
    log.info(
        "load_inputs read %d hosts, %d sites, %d systems, %d destinations, %d demand rows in %.2f s",
        len(inputs.hosts), len(inputs.sites), len(inputs.systems), len(inputs.destinations),
        len(inputs.demand), time.perf_counter() - started,
    )
    return inputs


def units_fitting(site: Site, system: System) -> int:
    """How many units of ``system`` fit in ``site`` if it held nothing else (0 if its kind is not allowed)."""
    if site.kind not in system.site_kinds:
        return 0
    limits = []
    if system.vehicle_bays_per_unit > 0:
        limits.append(site.vehicle_bays // system.vehicle_bays_per_unit)
    if system.shelters_per_unit > 0:
        limits.append(site.aircraft_shelters // system.shelters_per_unit)
    return int(min(limits)) if limits else 10**9


def check_capacity(inputs: Inputs) -> list[str]:
    """Whether the sites can hold the requirement at all, system by system and in total."""
    problems = []
    requirement = inputs.requirement
    for system_id, units in requirement.items():
        system = inputs.systems[system_id]
        room = sum(units_fitting(s, system) for s in inputs.sites.values())
        if units > 0 and room == 0:
            kinds = ", ".join(sorted(system.site_kinds))
            problems.append(
                f"systems.csv ({system_id}): no site may hold it (allowed kinds: {kinds}; it needs "
                f"{system.vehicle_bays_per_unit:g} vehicle bays and {system.shelters_per_unit:g} shelters per unit); "
                "add a site of an allowed kind with room, or allow more kinds in site_kinds"
            )
        elif room < units:
            problems.append(
                f"demand.csv ({system_id}): the requirement of {units} units exceeds the {room} units that the "
                f"sites of kind {', '.join(sorted(system.site_kinds))} can hold; add capacity or lower the demand"
            )
    for resource, per_unit, per_site in (
        ("vehicle bays", "vehicle_bays_per_unit", "vehicle_bays"),
        ("aircraft shelters", "shelters_per_unit", "aircraft_shelters"),
    ):
        needed = sum(getattr(inputs.systems[w], per_unit) * n for w, n in requirement.items())
        held = sum(getattr(s, per_site) for s in inputs.sites.values())
        if needed > held:
            problems.append(
                f"sites.csv: the package needs {needed:g} {resource} but all sites together have {held}; "
                f"add {resource} or lower the demand"
            )
    return problems
