"""The travel-time table the model consumes, and the bring-your-own-matrix reader.

The model only ever sees a ``TravelTimes`` value keyed by domain ids. It may come from the OSM road
network (``depotsite.network``), from a user's CSV (``read_matrix``), or from a test written inline.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np

from depotsite.errors import InputError
from depotsite.inputs import Inputs
from depotsite.tables import identifier, nonneg, read_table, unreadable

log = logging.getLogger(__name__)

Pair = tuple[str, str, str]  # (site_id, destination_id, system_id)


@dataclass(frozen=True)
class Crossing:
    """One border crossing of a route: from one country into another, its kind and its delay in hours."""

    from_country: str
    to_country: str
    kind: str  # internal, external or non_eu (depotsite.countries)
    hours: float

    def __str__(self) -> str:
        return f"{self.from_country}>{self.to_country} {self.kind} {self.hours:g} h"


@dataclass(frozen=True)
class Leg:
    """How one (site, destination, system) pair travels; ``hours`` is the transit time."""

    hours: float
    profile: str = ""
    road_km: float | None = None
    borders_crossed: int = 0
    snap_km: float = 0.0
    countries: tuple[str, ...] = ()  # the countries the route passes through, in order (start and end included)
    regions: tuple[str, ...] = ()  # the regions of [data] regions it passes through, in order
    crossings: tuple[Crossing, ...] = ()  # every border crossing, in order
    ukraine_h: float = 0.0  # hours of the trip inside the destinations' country
    exposure_h: float = 0.0  # of those, hours within [network] exposure_km of avoided territory or the front line
    mode: str = ""  # road, rail or air ("" when the source does not say: a user's matrix)
    rail_km: float | None = None  # rail: the train's distance on the rail graph (road_km is then its road legs)
    gauge_breaks: int = 0  # rail: the changes of track gauge on the way (each costs the profile's gauge_break_h)
    note: str = ""  # how the mode was chosen among the system's profiles (e.g. a rail gap that fell back to road)
    # (lon, lat) points of the route as an (n, 2) array, empty when unknown; left out of comparisons
    path: np.ndarray = field(default_factory=lambda: np.empty((0, 2)), compare=False, repr=False)


@dataclass(frozen=True)
class TravelTimes:
    """Transit hours for every reachable pair; a pair that is absent is not reachable.

    ``unreachable`` maps a pair to the reason it has no time (e.g. cut off by avoided territory).
    """

    legs: Mapping[Pair, Leg]
    unreachable: Mapping[Pair, str] = field(default_factory=dict)
    source: str = "inline"
    warnings: tuple[str, ...] = ()

    @classmethod
    def from_hours(cls, hours: Mapping[Pair, float], *, source: str = "inline") -> TravelTimes:
        """Travel times from bare hours, as a user's matrix or a test gives them (no routes, no reasons).

        Parameters
        ----------
        hours
            Transit hours per (site_id, destination_id, system_id) pair; a pair left out is not reachable.
        source
            Where the hours came from, for reports (a file path, or "inline").

        Returns
        -------
        TravelTimes
            One ``Leg`` per pair with only its hours set, in a read-only mapping; no unreachable reasons.
        """
        return cls(legs=MappingProxyType({k: Leg(hours=float(v)) for k, v in hours.items()}), source=source)

    def hours(self, pair: Pair) -> float | None:
        """Transit hours of one pair.

        Parameters
        ----------
        pair
            (site_id, destination_id, system_id).

        Returns
        -------
        float or None
            The leg's hours, or None when the pair is not reachable.
        """
        leg = self.legs.get(pair)
        return None if leg is None else leg.hours

    def exposure(self) -> dict[Pair, float]:
        """Exposure hours of every reachable pair (0 where the source gives none).

        Returns
        -------
        dict
            (site_id, destination_id, system_id) -> ``Leg.exposure_h``.
        """
        return {k: leg.exposure_h for k, leg in self.legs.items()}


MATRIX_SCHEMA = {"site_id": identifier, "destination_id": identifier, "system_id": identifier, "transit_h": nonneg}
LEGACY_COLUMN = "hours"  # what the transit column was called before every output said transit_h
EXPOSURE_COLUMN = "exposure_h"  # optional: hours of each route exposed in transit ([objective] exposure_weight)


def matrix_schema(path: Path) -> tuple[dict, str]:
    """The matrix schema for this file and its transit column: ``transit_h``, or ``hours`` as before; with an
    optional ``exposure_h`` column when the header has one.

    Parameters
    ----------
    path
        A bring-your-own matrix; only its header is read, and only when it is a readable regular file.

    Returns
    -------
    (dict, str)
        Column -> parser, as ``read_table`` takes it (``MATRIX_SCHEMA`` unless the header names ``hours``),
        and the name of the transit column in it.
    """
    if unreadable(Path(path)) is not None:
        return MATRIX_SCHEMA, "transit_h"  # read_table reports why
    try:
        with Path(path).open(encoding="utf-8", newline="") as stream:
            header = [cell.strip() for cell in next(csv.reader(stream), [])]
    except (OSError, UnicodeDecodeError, csv.Error):
        return MATRIX_SCHEMA, "transit_h"  # read_table reports why the file cannot be read
    extra = {EXPOSURE_COLUMN: nonneg} if EXPOSURE_COLUMN in header else {}
    if LEGACY_COLUMN in header and "transit_h" not in header:
        base = {k: v for k, v in MATRIX_SCHEMA.items() if k != "transit_h"}
        return {**base, LEGACY_COLUMN: nonneg, **extra}, LEGACY_COLUMN
    return {**MATRIX_SCHEMA, **extra}, "transit_h"


def read_matrix(path: Path, inputs: Inputs) -> TravelTimes:
    """Read a ``site_id, destination_id, system_id, transit_h`` table; a missing pair means not reachable.

    The transit column may also be called ``hours`` (its name before every output said ``transit_h``); an
    optional ``exposure_h`` column gives each route's hours exposed in transit (0 without it).

    The bring-your-own-matrix path: the model sees the same ``TravelTimes`` as from the road network.

    Parameters
    ----------
    path
        The CSV matrix ([data] travel_times); hours between 0 and ``tables.MAX_AMOUNT``.
    inputs
        The loaded tables; every site, destination and system id must be one of theirs.

    Returns
    -------
    TravelTimes
        The hours of every listed pair, with ``source`` the path.

    Raises
    ------
    InputError
        Every unknown id, duplicate pair and bad value, with its line; or why the file cannot be read.
    """
    problems: list[str] = []
    schema, transit = matrix_schema(Path(path))
    rows = read_table(Path(path), schema, problems) or []
    name = Path(path).name
    hours: dict[Pair, float] = {}
    exposure: dict[Pair, float] = {}
    first: dict[Pair, int] = {}
    for line, row in rows:
        pair = (row["site_id"], row["destination_id"], row["system_id"])
        for column, known in (
            ("site_id", inputs.sites),
            ("destination_id", inputs.destinations),
            ("system_id", inputs.systems),
        ):
            if row[column] not in known:
                problems.append(
                    f"{name} line {line}: unknown {column} {row[column]!r}; use an id from the "
                    f"{column.split('_')[0]} table"
                )
        if pair in first:
            problems.append(
                f"{name} line {line}: duplicate pair {'/'.join(pair)} (first on line {first[pair]}); "
                "keep one row per pair"
            )
        first.setdefault(pair, line)
        hours[pair] = row[transit]
        exposure[pair] = row.get(EXPOSURE_COLUMN, 0.0)
    if problems:
        raise InputError(problems)
    log.info("read_matrix read %d pairs from %s", len(hours), name)
    legs = {k: Leg(hours=float(h), exposure_h=float(exposure[k])) for k, h in hours.items()}
    return TravelTimes(legs=MappingProxyType(legs), source=str(path))
