"""Input tables: the shipped data loads, and every validation message (type and text)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from depotsite.errors import InputError
from depotsite.inputs import load_inputs

DATA = Path(__file__).resolve().parents[1] / "data"
TABLES = ("hosts", "sites", "systems", "destinations", "demand")


@pytest.fixture
def tables(tmp_path):
    """A writable copy of the shipped tables; returns (folder, loader)."""
    for name in TABLES:
        shutil.copy(DATA / f"{name}.csv", tmp_path / f"{name}.csv")

    def load(**kwargs):
        return load_inputs(**{name: tmp_path / f"{name}.csv" for name in TABLES}, **kwargs)

    return tmp_path, load


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems_of(load, **kwargs) -> list[str]:
    with pytest.raises(InputError) as caught:
        load(**kwargs)
    return caught.value.problems


def test_shipped_tables_load(tables):
    _, load = tables
    inputs = load(profiles={"tracked", "wheeled", "air"})
    assert inputs.requirement == {"patriot": 6, "himars": 40, "leopard2": 120, "f16": 48}
    assert inputs.package_value_musd == pytest.approx(6 * 1000 + 40 * 5 + 120 * 10 + 48 * 60)
    assert len(inputs.sites) >= 30
    assert inputs.sites["pl_lask"].kind == "air_base"
    with pytest.raises(TypeError):
        inputs.sites["x"] = None  # read-only mappings


def test_missing_and_extra_columns(tables):
    folder, load = tables
    edit(folder / "hosts.csv", "host_id,name,group,release_delay_h", "host_id,name,groop,release_delay_h")
    assert problems_of(load) == [
        "hosts.csv: missing column 'group'; the header must be: host_id, name, group, release_delay_h",
        "hosts.csv: unexpected column 'groop' (did you mean 'group'?); the header must be: "
        "host_id, name, group, release_delay_h",
    ]


def test_duplicate_id(tables):
    folder, load = tables
    edit(folder / "sites.csv", "pl_krzesiny,", "pl_lask,")
    assert problems_of(load) == ["sites.csv line 4: duplicate site_id 'pl_lask' (first on line 3); "
                                 "give every row its own id"]


def test_unknown_host(tables):
    folder, load = tables
    edit(folder / "sites.csv", "pl_lask,32nd Tactical Air Base Łask,PL,", "pl_lask,32nd Tactical Air Base Łask,PX,")
    assert problems_of(load) == ["sites.csv line 3 (pl_lask): unknown host_id 'PX'; add it to hosts.csv or fix "
                                 "the id (did you mean 'PL'?)"]


def test_bad_coordinates(tables):
    folder, load = tables
    edit(folder / "destinations.csv", "ua_kyiv,Kyiv,50.4500,30.5240", "ua_kyiv,Kyiv,95.0,30.5240")
    assert problems_of(load) == ["destinations.csv line 2 (ua_kyiv): lat must be a latitude in degrees between "
                                 "-90 and 90, got '95.0'"]


def test_negative_and_fractional_counts(tables):
    folder, load = tables
    edit(folder / "demand.csv", "ua_kyiv,patriot,2", "ua_kyiv,patriot,-2")
    edit(folder / "demand.csv", "ua_kharkiv,patriot,1", "ua_kharkiv,patriot,1.5")
    assert problems_of(load) == [
        "demand.csv line 2 (ua_kyiv): units must be a whole number between 0 and 1,000,000, got '-2'",
        "demand.csv line 3 (ua_kharkiv): units must be a whole number between 0 and 1,000,000, got '1.5'",
    ]


def test_bad_site_kind_and_unroca_category(tables):
    folder, load = tables
    edit(folder / "sites.csv", ",air_base,40,24,30,60,", ",airfield,40,24,30,60,")
    edit(folder / "systems.csv", "Leopard 2A6 main battle tank,I,", "Leopard 2A6 main battle tank,IX,")
    assert problems_of(load) == [
        "sites.csv line 3 (pl_lask): kind must be one of air_base, army_base, logistics_hub, rail_hub, port, "
        "got 'airfield'",
        "systems.csv line 4 (leopard2): unroca_category must be a UN Register category I to VII, got 'IX'",
    ]


def test_unknown_destination_and_system_in_demand(tables):
    folder, load = tables
    edit(folder / "demand.csv", "ua_kyiv,patriot,2", "ua_kiev,patriot,2")
    edit(folder / "demand.csv", "ua_kharkiv,patriot,1", "ua_kharkiv,patriots,1")
    assert problems_of(load) == [
        "demand.csv line 2: unknown destination_id 'ua_kiev'; add it to destinations.csv or fix the id "
        "(did you mean 'ua_kyiv'?)",
        "demand.csv line 3: unknown system_id 'patriots'; add it to systems.csv or fix the id "
        "(did you mean 'patriot'?)",
    ]


def test_duplicate_demand_row(tables):
    folder, load = tables
    edit(folder / "demand.csv", "ua_kharkiv,patriot,1", "ua_kyiv,patriot,1")
    assert problems_of(load) == ["demand.csv line 3: duplicate row for ua_kyiv/patriot (first on line 2); "
                                 "merge the two rows into one"]


def test_system_no_site_may_hold(tables):
    folder, load = tables
    edit(folder / "systems.csv", ",4,air_base\n", ",4,rail_hub\n")
    assert problems_of(load) == [
        "systems.csv (f16): no site may hold it (allowed kinds: rail_hub; it needs 0 vehicle bays and 1 shelters "
        "per unit); add a site of an allowed kind with room, or allow more kinds in site_kinds",
    ]


def test_total_capacity_below_requirement(tables):
    folder, load = tables
    edit(folder / "demand.csv", "ua_starokostiantyniv,f16,16", "ua_starokostiantyniv,f16,400")
    assert problems_of(load) == [
        "demand.csv (f16): the requirement of 432 units exceeds the 276 units that the sites of kind air_base "
        "can hold; add capacity or lower the demand",
        "sites.csv: the package needs 432 aircraft shelters but all sites together have 276; add aircraft "
        "shelters or lower the demand",
    ]


def test_unknown_profile(tables):
    _, load = tables
    assert problems_of(load, profiles={"tracked", "wheeled"}) == [
        "systems.csv line 5 (f16): unknown transport profile 'air'; use one of tracked, wheeled or define it "
        "under [network.profiles] in the scenario",
    ]


def test_missing_file_and_malformed_csv(tables):
    folder, load = tables
    (folder / "hosts.csv").unlink()
    edit(folder / "destinations.csv", "ua_kyiv,Kyiv,50.4500,30.5240,city", "ua_kyiv,Kyiv, Ukraine,50.4500,30.5240,city")
    assert problems_of(load) == [
        f"{folder / 'hosts.csv'}: file not found; check the path in the scenario's [data] table",
        "destinations.csv line 2: 6 fields but the header has 5; quote any field that contains a comma",
    ]


def test_several_problems_in_several_files_reported_at_once(tables):
    folder, load = tables
    edit(folder / "sites.csv", "pl_lask,32nd Tactical Air Base Łask,PL,51.5517,", "pl_lask,32nd Tactical Air Base "
         "Łask,XX,151.5517,")
    edit(folder / "sites.csv", "pl_powidz,", "pl_minsk_mazowiecki,")
    edit(folder / "systems.csv", "M142 HIMARS launcher,III,wheeled,5,", "M142 HIMARS launcher,III,wheeled,-5,")
    edit(folder / "demand.csv", "ua_kyiv,patriot,2", "ua_nowhere,patriot,2")
    with pytest.raises(InputError) as caught:
        load()
    message = str(caught.value)
    assert message.startswith("invalid input (4 problems):\n  - ")
    assert caught.value.problems == [
        "sites.csv line 3 (pl_lask): lat must be a latitude in degrees between -90 and 90, got '151.5517'",
        "systems.csv line 3 (himars): value_musd must be a number between 0.001 and 1,000,000, got '-5'",
        "sites.csv line 6: duplicate site_id 'pl_minsk_mazowiecki' (first on line 5); give every row its own id",
        "demand.csv line 2: unknown destination_id 'ua_nowhere'; add it to destinations.csv or fix the id "
        "(known ids: ua_dnipro, ua_ivano_frankivsk, ua_kharkiv, ua_kyiv, ua_lviv, ua_mykolaiv, ua_myrhorod, "
        "ua_odesa, ua_pavlohrad, ua_poltava, ua_starokostiantyniv, ua_vasylkiv, ua_vinnytsia, ua_zaporizhzhia)",
    ]
