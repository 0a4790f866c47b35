"""Tiny inline instances for model tests: every number on one screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from depotsite.inputs import SCHEMAS, Destination, Host, Inputs, Site, System
from depotsite.purchasers import Purchase
from depotsite.scenario import Scenario
from depotsite.traveltimes import TravelTimes

# the column headers of the input tables, in order (what the writers of tiny instances on disk need)
HEADERS = {table: list(columns) for table, columns in SCHEMAS.items()}


def site(
    site_id: str,
    host_id: str,
    *,
    kind: str = "army_base",
    bays: int = 100,
    shelters: int = 0,
    dispatch: float = 24.0,
    cost: float = 0.0,
) -> Site:
    return Site(site_id, site_id, host_id, 50.0, 20.0, kind, bays, shelters, dispatch, cost, "test")


def system(
    system_id: str,
    *,
    value: float = 1.0,
    bays: float = 1.0,
    shelters: float = 0.0,
    crew: float = 1.0,
    min_lot: int = 1,
    kinds: str = "army_base",
    profile: str = "wheeled",
    slots: int = 1,
) -> System:
    return System(
        system_id,
        system_id,
        "I",
        profile,
        value,
        bays,
        shelters,
        crew,
        min_lot,
        frozenset(kinds.split(";")),
        dispatch_slots_per_unit=slots,
    )


def make_inputs(
    *,
    hosts: dict[str, str | None] | list[str],
    sites: list[Site],
    systems: list[System],
    demand: dict[tuple[str, str], int],
    earmarks: dict[tuple[str, str, str], int] | None = None,
) -> Inputs:
    """Inputs from records; ``earmarks`` maps (purchaser, system, host) to units (the purchasers table)."""
    groups = hosts if isinstance(hosts, dict) else dict.fromkeys(hosts, None)
    return Inputs.build(
        hosts=[Host(h, h, g or "", 0.0) for h, g in groups.items()],
        sites=sites,
        systems=systems,
        destinations=[Destination(d, d, 49.0, 30.0, "city") for d in sorted({d for d, _ in demand})],
        demand=demand,
        purchases=[Purchase(p, w, n, h, line=i + 2) for i, ((p, w, h), n) in enumerate((earmarks or {}).items())],
    )


def make_scenario(**sections: Any) -> Scenario:
    """A scenario with no geography; risk and cost off unless a test turns them on."""
    raw: dict[str, Any] = {
        "name": "test",
        "data": {k: Path("unused.csv") for k in ("hosts", "sites", "systems", "destinations", "demand")}
        | {"travel_times": Path("unused.csv")},
        "objective": {"time": "mean", "time_weight": 1.0, "risk_weight": 0.0, "cost_weight": 0.0},
        "network": {"release_delay_h": 0.0},
    }
    for key, value in sections.items():
        raw[key] = {**raw.get(key, {}), **value} if isinstance(value, dict) else value
    return Scenario.model_validate(raw)


def times(rows: dict[tuple[str, str, str], float]) -> TravelTimes:
    return TravelTimes.from_hours(rows)
