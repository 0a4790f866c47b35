"""What kind of border a route crosses: the EU and Schengen membership of each country (``[data] countries``).

A countries table is a CSV with ``country_id, name, eu, schengen, source`` (``eu`` and ``schengen`` are
``yes`` or ``no``) and an optional ``rail_gauge_mm`` (the track gauge of the country's main network, for the
gauge breaks of rail routes: 1435 mm standard gauge, 1520 mm Russian gauge); the shipped
``data/countries.csv`` covers every country of the shipped boundaries. A
crossing between two countries is of one of three kinds, each with its own delay per transport profile
(``[network.profiles.<name>] border_h``):

- ``internal``: both countries are in the Schengen area (no border checks);
- ``external``: one of them is in the EU or the Schengen area and the other is not, or one is in the EU but
  not in Schengen (the Schengen area's external border: PL, SK, HU or RO to UA, RO to MD);
- ``non_eu``: neither is in the EU or Schengen (MD to UA).

A country the table does not list is treated as outside both, and so is every country when no table is
given. A rail route breaks gauge where it crosses between two countries whose gauges differ by more than
``GAUGE_TOLERANCE_MM`` (a country without a gauge breaks nothing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from depotsite.errors import InputError
from depotsite.tables import _text, identifier, read_table, shown

KINDS = ("internal", "external", "non_eu")
"""The kinds of border crossing, in the order of ``[network.profiles.<name>] border_h``."""


def _yes_no(raw: str) -> bool:
    value = raw.strip().lower()
    if value not in ("yes", "no"):
        raise ValueError(f"must be yes or no, got {raw!r}")
    return value == "yes"


def _gauge_mm(raw: str) -> int | None:
    value = raw.strip()
    if not value:
        return None
    if not value.isdigit() or not 500 <= int(value) <= 2000:
        raise ValueError(f"must be a track gauge in whole millimetres (e.g. 1435 or 1520), or empty, got {shown(raw)}")
    return int(value)


COUNTRIES_SCHEMA = {"country_id": identifier, "name": _text, "eu": _yes_no, "schengen": _yes_no, "source": _text}
COUNTRIES_OPTIONAL = {"rail_gauge_mm": (_gauge_mm, None)}
GAUGE_TOLERANCE_MM = 10
"""Gauges closer than this run through without a break (Finland's 1524 mm and the 1520 mm network)."""


@dataclass(frozen=True)
class CountryKind:
    """A country's membership of the European Union and of the Schengen area."""

    name: str
    eu: bool
    schengen: bool
    rail_gauge_mm: int | None = None  # the main network's track gauge; None when the table gives none


def read_countries(path: Path) -> dict[str, CountryKind]:
    """The countries table, by ``country_id``.

    Parameters
    ----------
    path
        A CSV with the columns of ``COUNTRIES_SCHEMA``.

    Returns
    -------
    dict
        Country id -> its ``CountryKind``.

    Raises
    ------
    InputError
        Every bad cell, duplicate id or unreadable file, naming the file and line.
    """
    problems: list[str] = []
    rows = read_table(Path(path), COUNTRIES_SCHEMA, problems, optional=COUNTRIES_OPTIONAL) or []
    kinds: dict[str, CountryKind] = {}
    for line, row in rows:
        if row["country_id"] in kinds:
            problems.append(
                f"{Path(path).name} line {line}: duplicate country_id {row['country_id']!r}; keep one row per country"
            )
        kinds[row["country_id"]] = CountryKind(row["name"], row["eu"], row["schengen"], row["rail_gauge_mm"])
    if problems:
        raise InputError(problems)
    return kinds


def crossing_kind(a: str, b: str, kinds: Mapping[str, CountryKind]) -> str:
    """The kind of the border between countries ``a`` and ``b``: ``internal``, ``external`` or ``non_eu``.

    Parameters
    ----------
    a, b
        Country ids (ISO 3166-1 alpha-2 in the shipped data).
    kinds
        The countries table; a country it does not list is outside the EU and Schengen.

    Returns
    -------
    str
        One of ``KINDS``.
    """
    first, second = kinds.get(a), kinds.get(b)
    if first is not None and second is not None and first.schengen and second.schengen:
        return "internal"
    if any(k is not None and (k.eu or k.schengen) for k in (first, second)):
        return "external"
    return "non_eu"


def breaks_gauge(a: str, b: str, kinds: Mapping[str, CountryKind]) -> bool:
    """Whether a train crossing from country ``a`` into ``b`` changes track gauge (transshipment or bogies).

    Parameters
    ----------
    a, b
        Country ids.
    kinds
        The countries table; a country it does not list, or lists without a gauge, breaks nothing.

    Returns
    -------
    bool
        True when both gauges are known and differ by more than ``GAUGE_TOLERANCE_MM``.
    """
    first, second = kinds.get(a), kinds.get(b)
    if first is None or second is None or first.rail_gauge_mm is None or second.rail_gauge_mm is None:
        return False
    return abs(first.rail_gauge_mm - second.rail_gauge_mm) > GAUGE_TOLERANCE_MM
