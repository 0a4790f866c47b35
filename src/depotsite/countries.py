"""What kind of border a route crosses: the EU and Schengen membership of each country (``[data] countries``).

A countries table is a CSV with ``country_id, name, eu, schengen, source`` (``eu`` and ``schengen`` are
``yes`` or ``no``); the shipped ``data/countries.csv`` covers every country of the shipped boundaries. A
crossing between two countries is of one of three kinds, each with its own delay per transport profile
(``[network.profiles.<name>] border_h``):

- ``internal``: both countries are in the Schengen area (no border checks);
- ``external``: one of them is in the EU or the Schengen area and the other is not, or one is in the EU but
  not in Schengen (the Schengen area's external border: PL, SK, HU or RO to UA, RO to MD);
- ``non_eu``: neither is in the EU or Schengen (MD to UA).

A country the table does not list is treated as outside both, and so is every country when no table is
given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from depotsite.errors import InputError
from depotsite.tables import _text, identifier, read_table

KINDS = ("internal", "external", "non_eu")
"""The kinds of border crossing, in the order of ``[network.profiles.<name>] border_h``."""


def _yes_no(raw: str) -> bool:
    value = raw.strip().lower()
    if value not in ("yes", "no"):
        raise ValueError(f"must be yes or no, got {raw!r}")
    return value == "yes"


COUNTRIES_SCHEMA = {"country_id": identifier, "name": _text, "eu": _yes_no, "schengen": _yes_no, "source": _text}


@dataclass(frozen=True)
class CountryKind:
    """A country's membership of the European Union and of the Schengen area."""

    name: str
    eu: bool
    schengen: bool


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
    rows = read_table(Path(path), COUNTRIES_SCHEMA, problems) or []
    kinds: dict[str, CountryKind] = {}
    for line, row in rows:
        if row["country_id"] in kinds:
            problems.append(
                f"{Path(path).name} line {line}: duplicate country_id {row['country_id']!r}; keep one row per country"
            )
        kinds[row["country_id"]] = CountryKind(row["name"], row["eu"], row["schengen"])
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
