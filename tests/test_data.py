"""The shipped data against the real world (by the shipped Natural Earth boundaries)."""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point

from depotsite.inputs import load_inputs

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"


@pytest.fixture(scope="module")
def inputs():
    return load_inputs(
        **{name: DATA / f"{name}.csv" for name in ("hosts", "sites", "systems", "destinations", "demand")}
    )


@pytest.fixture(scope="module")
def countries():
    return gpd.read_file(DATA / "boundaries" / "countries.geojson").set_index("country_id")


def test_every_site_lies_inside_its_host(inputs, countries):
    outside = [
        s.site_id for s in inputs.sites.values() if not countries.loc[s.host_id].geometry.contains(Point(s.lon, s.lat))
    ]
    assert outside == []


def test_every_destination_lies_inside_ukraine(inputs, countries):
    ukraine = countries.loc["UA"].geometry
    assert [d.destination_id for d in inputs.destinations.values() if not ukraine.contains(Point(d.lon, d.lat))] == []


def test_sites_cover_every_host_and_kind(inputs):
    per_host = Counter(s.host_id for s in inputs.sites.values())
    assert set(per_host) == {"PL", "RO", "DE", "CZ", "LT", "LV", "EE"}
    assert min(per_host.values()) >= 3
    assert len(inputs.sites) >= 30
    kinds = Counter(s.kind for s in inputs.sites.values())
    assert kinds["air_base"] >= 8 and all(kinds[k] >= 1 for k in ("army_base", "logistics_hub", "rail_hub", "port"))
    assert all(s.source for s in inputs.sites.values())
    assert all(s.aircraft_shelters > 0 for s in inputs.sites.values() if s.kind == "air_base")


def test_destinations_and_package(inputs):
    assert len(inputs.destinations) >= 10
    kinds = Counter(d.kind for d in inputs.destinations.values())
    assert kinds["air_base"] >= 3 and kinds["city"] >= 3
    f16_points = {d for (d, w) in inputs.demand if w == "f16"}
    assert all(inputs.destinations[d].kind == "air_base" for d in f16_points)
    # The UN Register's definitions (UNODA, Disarmament Study Series no. 36, 2017): I battle tanks, III
    # large-calibre artillery incl. MLRS of 75 mm and more, IV combat aircraft; VII(a) excludes ground-to-air
    # missiles and VII(b) is MANPADS only, so a Patriot battery is in no category.
    assert {w: s.unroca_category for w, s in inputs.systems.items() if inputs.requirement[w]} == {
        "leopard2": "I",
        "himars": "III",
        "f16": "IV",
        "patriot": "NONE",
    }


def test_one_release_delay_for_every_host(inputs):
    """The proposal: one binding EU-Ukraine agreement unlocks every stockpile, so hosts.csv states no
    per-host delay and the base scenario states the one consultation period."""
    assert all(h.release_delay_h is None for h in inputs.hosts.values())
    base = tomllib.loads((ROOT / "models" / "base.toml").read_text(encoding="utf-8"))
    assert base["network"]["release_delay_h"] > 0
    assert all("release_delay_h" not in rule for rule in base.get("hosts", {}).values())


def test_boundaries_keep_the_region_and_iso_ids(countries):
    for code in ("PL", "RO", "DE", "CZ", "LT", "LV", "EE", "UA", "BY", "RU", "MD", "SK", "HU"):
        assert code in countries.index
    assert countries.crs.to_epsg() == 4326
    assert countries.loc["RU"].geometry.contains(Point(20.5, 54.7))  # Kaliningrad


def test_purchasers_are_european_and_within_the_package(inputs):
    """The proposal: American arms purchased by Europeans and European donors (no US funding row), purchasers
    need not be hosts (Sweden's HIMARS for a stockpile in Romania), and nobody funds more than the package."""
    from depotsite.purchasers import read_purchasers

    rows = read_purchasers(DATA / "purchasers.csv", inputs.systems, inputs.hosts)
    assert "US" not in {r["purchaser_id"] for r in rows}
    assert {"purchaser_id": "SE", "system_id": "himars", "units": 8, "host_id": "RO"} in rows
    funded = Counter()
    for r in rows:
        funded[r["system_id"]] += r["units"]
    assert all(funded[w] <= inputs.requirement[w] for w in funded)


def test_the_full_package_adds_munitions_and_abrams_without_changing_the_base_demand(inputs):
    """data/demand_full_package.csv is data/demand.csv row for row plus rows for the new systems only; the
    munitions are UNROCA VII except the PAC-3 (ground-to-air: outside the Register), Abrams is I; munitions
    take no bays or shelters, only net explosive mass, and only ammunition depots (real ones in at least two
    hosts) have ammunition capacity."""
    base = (DATA / "demand.csv").read_text().splitlines()
    full = (DATA / "demand_full_package.csv").read_text().splitlines()
    assert full[: len(base)] == base
    new = {line.split(",")[1] for line in full[len(base) :]}
    assert new == {"gmlrs", "atacms", "pac3", "storm_shadow", "abrams"}
    assert all(inputs.requirement[w] == 0 for w in new)  # the base run holds none of them
    systems = inputs.systems
    assert {w: systems[w].unroca_category for w in new} == {
        "gmlrs": "VII",
        "atacms": "VII",
        "storm_shadow": "VII",
        "pac3": "NONE",
        "abrams": "I",
    }
    for w in new - {"abrams"}:
        s = systems[w]
        assert (s.vehicle_bays_per_unit, s.shelters_per_unit) == (0, 0) and s.net_explosive_t_per_unit > 0
        assert s.site_kinds == {"ammo_depot"}
    assert systems["abrams"].net_explosive_t_per_unit == 0
    depots = {s.site_id: s for s in inputs.sites.values() if s.ammo_capacity_t > 0}
    assert all(s.kind == "ammo_depot" for s in depots.values())
    assert all(s.ammo_capacity_t == 0 for s in inputs.sites.values() if s.kind != "ammo_depot")
    assert len({s.host_id for s in depots.values()}) >= 2
    assert all(s.source for s in depots.values())


def test_full_package_purchasers_are_european_and_earmark_swedish_missiles_for_romania(inputs):
    from depotsite.purchasers import read_purchasers

    rows = read_purchasers(DATA / "purchasers_full_package.csv", inputs.systems, inputs.hosts)
    assert "US" not in {r["purchaser_id"] for r in rows}
    assert {"purchaser_id": "SE", "system_id": "gmlrs", "units": 24, "host_id": "RO"} in rows
    base = read_purchasers(DATA / "purchasers.csv", inputs.systems, inputs.hosts)
    assert rows[: len(base)] == base
    demand = Counter()
    for line in (DATA / "demand_full_package.csv").read_text().splitlines()[1:]:
        _, w, n = line.split(",")
        demand[w] += int(n)
    funded = Counter()
    for r in rows:
        funded[r["system_id"]] += r["units"]
    assert all(funded[w] <= demand[w] for w in funded)  # nobody funds more than the package
    assert all(funded[w] == demand[w] for w in ("gmlrs", "atacms", "pac3", "storm_shadow", "abrams"))


def test_the_scenarios_with_earmarks_and_the_full_package_extend_the_base():
    for name, key in (("earmarks", "financing"), ("full_package", "data")):
        raw = tomllib.loads((ROOT / "models" / f"{name}.toml").read_text())
        assert raw["extends"] == "base.toml" and key in raw and raw["description"]
    assert tomllib.loads((ROOT / "models" / "earmarks.toml").read_text())["financing"] == {"honour_earmarks": True}
