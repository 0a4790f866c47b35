"""Load the input tables into typed, validated, immutable values.

Every table is read in full and every problem is collected before anything is raised, so a user fixes
all of them in one pass. Each message names the file, the line (the header is line 1) or id, what is
wrong and how to fix it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from depotsite.errors import InputError
from depotsite.input_checks import _demand_units, _profile_problems, _read_countries, _unique
from depotsite.purchasers import Purchase
from depotsite.tables import MAX_ROWS, OPTIONAL, SCHEMAS, NotUtf8, read_table, suggest, unreadable

MAX_PAIRS = 2_000_000
"""Most (site, destination, system) candidate routes: beyond this the routes' travel times and the instance alone
take gigabytes (the exact reduction, ``[solver] reduce``, keeps the model itself to the sites that matter)."""
BORDER_TOLERANCE_KM = 5.0
"""A site may lie this far outside its host's polygon (coast and border sites, simplified boundaries)."""
KM_PER_DEGREE = 111.195  # of latitude, on the mean Earth radius

log = logging.getLogger(__name__)


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
    ammo_capacity_t: float = 0.0  # net explosive mass it may store (tonnes); 0: not an ammunition depot


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
    net_explosive_t_per_unit: float = 0.0  # tonnes of net explosive mass per unit (munitions); 0 for vehicles
    dispatch_slots_per_unit: int = 1  # dispatch slots one unit takes at its site (vehicles in its column)

    @property
    def profiles(self) -> tuple[str, ...]:
        """The transport profiles the system may take (``profile`` lists alternatives as ``rail;tracked``)."""
        return tuple(p for p in self.profile.split(";") if p)


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
    purchases: tuple[Purchase, ...] = ()  # the optional purchasers table ([data] purchasers), in file order

    @property
    def requirement(self) -> dict[str, int]:
        """Units of each system the package needs in all (the sum of its demand)."""
        req = dict.fromkeys(self.systems, 0)
        for (_, system_id), units in self.demand.items():
            req[system_id] += units
        return req

    @property
    def package_value_musd(self) -> float:
        """Value of the whole requirement in M USD (each system's unit value times its units)."""
        return sum(self.systems[w].value_musd * n for w, n in self.requirement.items())

    @classmethod
    def assemble(
        cls,
        *,
        hosts: list[Host],
        sites: list[Site],
        systems: list[System],
        destinations: list[Destination],
        demand: Mapping[tuple[str, str], int],
        files: Mapping[str, Path] | None = None,
        purchases: Collection[Purchase] = (),
    ) -> Inputs:
        """Key the records by id in read-only mappings; no checks (see ``build`` and ``load_inputs``).

        Parameters
        ----------
        hosts, sites, systems, destinations, demand, files
            The records of each table, units per (destination_id, system_id), and table name -> path.
        purchases
            The rows of the optional purchasers table (``depotsite.purchasers.read_purchases``).

        Returns
        -------
        Inputs
            A record with an id already seen replaces the earlier one.
        """
        return cls(
            hosts=MappingProxyType({h.host_id: h for h in hosts}),
            sites=MappingProxyType({s.site_id: s for s in sites}),
            systems=MappingProxyType({w.system_id: w for w in systems}),
            destinations=MappingProxyType({d.destination_id: d for d in destinations}),
            demand=MappingProxyType(dict(demand)),
            files=MappingProxyType(dict(files or {})),
            purchases=tuple(purchases),
        )

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
        purchases: Collection[Purchase] = (),
    ) -> Inputs:
        """Assemble from in-memory records (tests and adapters), then run ``check_capacity``.

        Parameters
        ----------
        hosts, sites, systems, destinations, demand, files, purchases
            As for ``assemble``.

        Returns
        -------
        Inputs
            The records keyed by id.

        Raises
        ------
        InputError
            Every id a site or a demand names that the records do not define; else every system the sites
            cannot hold, and every resource they have too little of.
        """
        inputs = cls.assemble(
            hosts=hosts,
            sites=sites,
            systems=systems,
            destinations=destinations,
            demand=demand,
            files=files,
            purchases=purchases,
        )
        problems = _reference_problems(inputs) or check_capacity(inputs)
        if problems:
            raise InputError(problems)
        return inputs


def _reference_problems(inputs: Inputs) -> list[str]:
    """Ids that records built in memory name but do not define (the tables' loader reports these per line)."""
    problems = [
        f"site {s.site_id}: unknown host_id {s.host_id!r}"
        for s in inputs.sites.values()
        if s.host_id not in inputs.hosts
    ]
    for d, w in inputs.demand:
        if d not in inputs.destinations:
            problems.append(f"demand {d}/{w}: unknown destination_id {d!r}")
        if w not in inputs.systems:
            problems.append(f"demand {d}/{w}: unknown system_id {w!r}")
    return problems


RECORDS = {"hosts": Host, "sites": Site, "systems": System, "destinations": Destination}


def load_inputs(
    *,
    hosts: Path,
    sites: Path,
    systems: Path,
    destinations: Path,
    demand: Path,
    profiles: Collection[str] | None = None,
    boundaries: Path | None = None,
) -> Inputs:
    """Read and validate the five tables.

    Parameters
    ----------
    hosts, sites, systems, destinations, demand
        Paths of the CSV tables (columns as in ``SCHEMAS``, and those of ``OPTIONAL`` when present, else their
        default; row limits in ``tables.MAX_ROWS``).
    profiles
        Transport profile names the scenario defines; when given, every system's ``profile`` must be one.
    boundaries
        GeoJSON of countries (``country_id`` property); when given, every site must lie in its host's
        country, within ``BORDER_TOLERANCE_KM``.

    Returns
    -------
    Inputs
        The validated tables keyed by id, with the demand and each table's resolved path.

    Raises
    ------
    InputError
        Listing every problem found in every table.
    """
    started = time.perf_counter()
    paths = {
        "hosts": Path(hosts),
        "sites": Path(sites),
        "systems": Path(systems),
        "destinations": Path(destinations),
        "demand": Path(demand),
    }
    problems: list[str] = []
    rejected: dict[str, set[str]] = {table: set() for table in paths}
    raw = {
        table: read_table(
            path,
            SCHEMAS[table],
            problems,
            rejected[table],
            max_rows=MAX_ROWS[table],
            what="candidate sites" if table == "sites" else "rows",
            optional=OPTIONAL.get(table),
        )
        for table, path in paths.items()
    }
    by_id = {table: _unique(table, f"{table[:-1]}_id", raw[table] or [], problems) for table in RECORDS}

    def check_reference(table: str, value: str, message: str) -> bool:
        """Report a reference to an unknown id, unless the table is unreadable or that row was rejected."""
        if raw[table] is None or value in rejected[table] or value in by_id[table]:
            return True
        problems.append(f"{message} ({suggest(value, by_id[table])})")
        return False

    for site_id, (line, row) in by_id["sites"].items():
        check_reference(
            "hosts",
            row["host_id"],
            f"sites.csv line {line} ({site_id}): unknown host_id {row['host_id']!r}; add it to hosts.csv or fix the id",
        )
    problems += _profile_problems(by_id["systems"], profiles)
    demand_units = _demand_units(raw["demand"] or [], check_reference, problems)
    demand_units = {
        key: n for key, n in demand_units.items() if key[0] in by_id["destinations"] and key[1] in by_id["systems"]
    }

    records = {table: [RECORDS[table](**row) for _, row in by_id[table].values()] for table in RECORDS}
    inputs = Inputs.assemble(
        **records, demand=demand_units, files={table: path.resolve() for table, path in paths.items()}
    )
    if boundaries is not None:
        problems += check_site_countries(inputs, Path(boundaries))
    if not problems:
        if not demand_units:
            problems.append("demand.csv: no positive demand; add rows 'destination_id,system_id,units'")
        problems += check_size(inputs) or check_capacity(inputs)
    if problems:
        raise InputError(problems)
    log.info(
        "load_inputs read %d hosts, %d sites, %d systems, %d destinations, %d demand rows in %.2f s",
        len(inputs.hosts),
        len(inputs.sites),
        len(inputs.systems),
        len(inputs.destinations),
        len(inputs.demand),
        time.perf_counter() - started,
    )
    return inputs


def units_fitting(site: Site, system: System) -> int:
    """How many units of ``system`` fit in ``site`` if it held nothing else (0 if its kind is not allowed).

    Parameters
    ----------
    site, system
        The site (its vehicle bays, aircraft shelters and ammunition capacity) and the system (its footprint
        per unit of each).

    Returns
    -------
    int
        Whole units the scarcer resource allows; 10**9 for a system that needs neither bays nor shelters.
    """
    if site.kind not in system.site_kinds:
        return 0
    limits = []
    # floor of the ratio with a tolerance: in floats 3 // 0.1 is 29, though 30 units of 0.1 bays fit in 3
    if system.vehicle_bays_per_unit > 0:
        limits.append(math.floor(site.vehicle_bays / system.vehicle_bays_per_unit + 1e-9))
    if system.shelters_per_unit > 0:
        limits.append(math.floor(site.aircraft_shelters / system.shelters_per_unit + 1e-9))
    if system.net_explosive_t_per_unit > 0:
        limits.append(math.floor(site.ammo_capacity_t / system.net_explosive_t_per_unit + 1e-9))
    return int(min(limits)) if limits else 10**9


def check_capacity(inputs: Inputs) -> list[str]:
    """Whether the sites can hold the requirement at all, system by system and in total.

    Parameters
    ----------
    inputs
        The tables; a system's room is the sum over sites of ``units_fitting``.

    Returns
    -------
    list of str
        A problem per system no site may hold or that needs more units than fit, and per resource
        (vehicle bays, aircraft shelters, ammunition capacity) the requirement needs more of than all sites have.
    """
    problems = []
    requirement = inputs.requirement
    for system_id, units in requirement.items():
        system = inputs.systems[system_id]
        room = sum(units_fitting(s, system) for s in inputs.sites.values())
        if units > 0 and room == 0:
            kinds = ", ".join(sorted(system.site_kinds))
            problems.append(
                f"systems.csv ({system_id}): no site may hold it (allowed kinds: {kinds}; it needs "
                f"{system.vehicle_bays_per_unit:g} vehicle bays and {system.shelters_per_unit:g} shelters per unit"
                + (
                    f" and {system.net_explosive_t_per_unit:g} t of ammunition capacity (sites.csv ammo_capacity_t)"
                    if system.net_explosive_t_per_unit > 0
                    else ""
                )
                + "); add a site of an allowed kind with room, or allow more kinds in site_kinds"
            )
        elif room < units:
            problems.append(
                f"demand.csv ({system_id}): the requirement of {units} units exceeds the {room} units that the "
                f"sites of kind {', '.join(sorted(system.site_kinds))} can hold; add capacity or lower the demand"
            )
    for resource, per_unit, per_site in (
        ("vehicle bays", "vehicle_bays_per_unit", "vehicle_bays"),
        ("aircraft shelters", "shelters_per_unit", "aircraft_shelters"),
        ("tonnes of ammunition capacity (net explosive mass)", "net_explosive_t_per_unit", "ammo_capacity_t"),
    ):
        needed = sum(getattr(inputs.systems[w], per_unit) * n for w, n in requirement.items())
        held = sum(getattr(s, per_site) for s in inputs.sites.values())
        if needed > held:
            problems.append(
                f"sites.csv: the package needs {needed:g} {resource} but all sites together have {held:g}; "
                f"add {resource} or lower the demand"
            )
    return problems


def check_size(inputs: Inputs) -> list[str]:
    """Whether the candidate (site, destination, system) routes stay within ``MAX_PAIRS``.

    Parameters
    ----------
    inputs
        The tables; a route is a site of an allowed kind for a system and a destination that demands it.

    Returns
    -------
    list of str
        One problem when there are too many routes, else nothing.
    """
    pairs = 0
    for w, units in inputs.requirement.items():
        if units > 0:
            kinds = inputs.systems[w].site_kinds
            holders = sum(1 for s in inputs.sites.values() if s.kind in kinds)
            pairs += holders * sum(1 for (_, w2) in inputs.demand if w2 == w)
    if pairs <= MAX_PAIRS:
        return []
    return [
        f"sites.csv: {pairs:,} candidate (site, destination, system) routes, more than the {MAX_PAIRS:,} "
        "depotsite handles (each route's travel time and coefficients are kept in memory); pre-select fewer "
        "candidate sites or merge destinations"
    ]


def check_site_countries(inputs: Inputs, boundaries: Path) -> list[str]:
    """Sites whose coordinates lie more than ``BORDER_TOLERANCE_KM`` outside the country of their host.

    Hosts whose id is no ``country_id`` of the boundaries are not checked. One vectorised, prepared
    point-in-polygon test for all sites; distances and the country actually hit only for the few outside.

    Parameters
    ----------
    inputs
        The tables.
    boundaries
        GeoJSON FeatureCollection of countries with a ``country_id`` property (ISO codes, like host ids).

    Returns
    -------
    list of str
        One problem per misplaced site naming the site, the country it lies in and the host it claims;
        or one problem when the boundaries file cannot be read.
    """
    import numpy as np
    import shapely

    reason = unreadable(boundaries)
    if reason is not None:
        return [f"{boundaries}: {reason}; check [data] boundaries"]
    try:
        ids, geometries = _read_countries(boundaries)
    except NotUtf8 as exc:
        return [f"{boundaries}: {exc}; check [data] boundaries"]
    except (ValueError, KeyError, TypeError, AttributeError, shapely.errors.GEOSException):
        return [
            f"{boundaries}: not a GeoJSON FeatureCollection with a 'country_id' property on every feature; "
            "check [data] boundaries"
        ]
    by_id = dict(zip(ids, geometries, strict=True))
    sites = [s for s in inputs.sites.values() if s.host_id in by_id]
    if not sites:
        return []
    polygons = np.array([by_id[s.host_id] for s in sites], dtype=object)
    points = shapely.points([s.lon for s in sites], [s.lat for s in sites])
    shapely.prepare(polygons)
    outside = np.flatnonzero(~shapely.contains(polygons, points))
    if len(outside) == 0:
        return []
    # the gap to the host polygon in km, by a local equirectangular projection (ample for a few km)
    lon1, lat1, lon2, lat2 = (
        shapely.get_coordinates(shapely.shortest_line(polygons[outside], points[outside])).reshape(-1, 4).T
    )
    km = KM_PER_DEGREE * np.hypot(lat2 - lat1, (lon2 - lon1) * np.cos(np.radians((lat1 + lat2) / 2)))
    tree = shapely.STRtree(geometries)
    problems = []
    for i, distance in zip(outside, km, strict=True):
        if distance <= BORDER_TOLERANCE_KM:
            continue
        site = sites[i]
        hits = tree.query(points[i], predicate="within")
        where = f"in {ids[hits[0]]}" if len(hits) else f"in no country of {boundaries.name}"
        problems.append(
            f"sites.csv ({site.site_id}): lat {site.lat:g}, lon {site.lon:g} lies {where}, {distance:.0f} km "
            f"outside its host_id {site.host_id}; fix the coordinates (latitude first) or the host_id"
        )
    return problems
