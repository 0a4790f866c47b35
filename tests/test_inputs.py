"""Input tables: the shipped data loads, and every validation message (type and text)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from conftest import DATA, TABLES, problems_of
from depotsite.errors import InputError
from depotsite.tables import read_rows, write_csv


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_shipped_tables_load(tables):
    _, load = tables
    inputs = load(profiles={"tracked", "wheeled", "air"})
    demanded = {w: n for w, n in inputs.requirement.items() if n}  # the other systems are full_package's
    assert demanded == {"patriot": 6, "himars": 40, "leopard2": 120, "f16": 48}
    # The package value recomputed from the raw CSV cells (value per unit x units demanded), not the loader.
    value = {r["system_id"]: float(r["value_musd"]) for r in read_rows(DATA / "systems.csv")}
    expected = sum(value[r["system_id"]] * int(r["units"]) for r in read_rows(DATA / "demand.csv"))
    assert inputs.package_value_musd == pytest.approx(expected)
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
    assert problems_of(load) == [
        "sites.csv line 4: duplicate site_id 'pl_lask' (first on line 3); give every row its own id"
    ]


def test_unknown_host(tables):
    folder, load = tables
    edit(folder / "sites.csv", "pl_lask,32nd Tactical Air Base Łask,PL,", "pl_lask,32nd Tactical Air Base Łask,PX,")
    assert problems_of(load) == [
        "sites.csv line 3 (pl_lask): unknown host_id 'PX'; add it to hosts.csv or fix the id (did you mean 'PL'?)"
    ]


def test_bad_coordinates(tables):
    folder, load = tables
    edit(folder / "destinations.csv", "ua_kyiv,Kyiv,50.4500,30.5240", "ua_kyiv,Kyiv,95.0,30.5240")
    assert problems_of(load) == [
        "destinations.csv line 2 (ua_kyiv): lat must be a latitude in degrees between -90 and 90, got '95.0'"
    ]


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
        "ammo_depot, got 'airfield'",
        "systems.csv line 4 (leopard2): unroca_category must be a UN Register category I to VII, or NONE, got 'IX'",
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
    assert problems_of(load) == [
        "demand.csv line 3: duplicate row for ua_kyiv/patriot (first on line 2); merge the two rows into one"
    ]


def test_system_no_site_may_hold(tables):
    folder, load = tables
    edit(folder / "systems.csv", ",4,air_base,0,1\n", ",4,rail_hub,0,1\n")
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
    edit(
        folder / "sites.csv",
        "pl_lask,32nd Tactical Air Base Łask,PL,51.5517,",
        "pl_lask,32nd Tactical Air Base Łask,XX,151.5517,",
    )
    edit(folder / "sites.csv", "pl_powidz,", "pl_minsk_mazowiecki,")
    edit(folder / "systems.csv", "M142 HIMARS launcher,III,wheeled,7,", "M142 HIMARS launcher,III,wheeled,-5,")
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


# --- numbers that would make the model meaningless ------------------------------------------------------


def test_huge_infinite_and_tiny_numbers_are_input_errors(tables):
    folder, load = tables
    edit(folder / "sites.csv", ",air_base,40,24,30,60,", ",air_base,1e16,inf,nan,-inf,")
    edit(folder / "systems.csv", "M142 HIMARS launcher,III,wheeled,7,2,", "M142 HIMARS launcher,III,wheeled,7,1e-9,")
    edit(folder / "demand.csv", "ua_kyiv,patriot,2", "ua_kyiv,patriot,1000001")
    edit(folder / "hosts.csv", "PL,Poland,central,", "PL,Poland,central,1e300")
    assert problems_of(load) == [
        "hosts.csv line 2 (PL): release_delay_h must be empty or a number of hours between 0 and 100,000, got '1e300'",
        "sites.csv line 3 (pl_lask): vehicle_bays must be a whole number between 0 and 1,000,000, got '1e16'",
        "sites.csv line 3 (pl_lask): aircraft_shelters must be a whole number between 0 and 1,000,000, got 'inf'",
        "sites.csv line 3 (pl_lask): dispatch_per_day must be a number between 0.001 and 1,000,000, got 'nan'",
        "sites.csv line 3 (pl_lask): fixed_cost_musd must be a number between 0 and 1,000,000, got '-inf'",
        "systems.csv line 3 (himars): vehicle_bays_per_unit must be 0 or a number between 0.001 and 1,000,000, "
        "got '1e-9'",
        "demand.csv line 2 (ua_kyiv): units must be a whole number between 0 and 1,000,000, got '1000001'",
    ]


def test_a_capacity_above_the_package_is_clipped_in_the_model():
    from depotsite.instance import build_instance
    from depotsite.model import build_model
    from instances import make_inputs, make_scenario, site, system, times

    inputs = make_inputs(
        hosts=["A"], sites=[site("a1", "A", bays=1_000_000)], systems=[system("x", bays=2)], demand={("d1", "x"): 3}
    )
    model = build_model(build_instance(inputs, times({("a1", "d1", "x"): 1.0}), make_scenario()))
    row = model.site_capacity["a1", "vehicle_bays"]
    assert (row.upper, str(row.body)) == (0.0, "2*stock[a1,x] - 6*open_site[a1]")  # 6 = 2 bays x 3 units


def test_long_cells_are_cut_in_messages(tables):
    folder, load = tables
    edit(folder / "demand.csv", "ua_kyiv,patriot,2", "ua_kyiv,patriot," + "9" * 100_000)
    assert problems_of(load) == [
        "demand.csv line 2 (ua_kyiv): units must be a whole number between 0 and "
        f"1,000,000, got {'9' * 60!r}... (100,000 characters)"
    ]


# --- size limits ----------------------------------------------------------------------------------------


def test_a_100_000_row_sites_table_is_refused_while_reading(tables):
    folder, load = tables
    row = "s{i},S,PL,51.5,19.2,army_base,100,0,30,10,made up,0\n"
    with (folder / "sites.csv").open("a", encoding="utf-8") as stream:
        stream.writelines(row.format(i=i) for i in range(100_000))
        stream.write("bad,S,PL,north,19.2,army_base,100,0,30,10,made up,0\n")  # past the limit: never parsed
    assert problems_of(load) == [
        "sites.csv: more than 20,000 candidate sites; depotsite handles at most 20,000 (the model has a variable "
        "per site, destination and system, and beyond this it cannot be built and solved in minutes); "
        "pre-select the candidates"
    ]


def test_too_many_candidate_routes_are_refused():
    from depotsite.inputs import Inputs, check_size
    from instances import site, system

    inputs = Inputs.assemble(
        hosts=[],
        sites=[site(f"s{i}", "A") for i in range(19_000)],
        systems=[system("x")],
        destinations=[],
        demand={(f"d{j}", "x"): 1 for j in range(106)},
    )
    assert check_size(inputs) == [  # 19,000 sites x 106 destinations
        "sites.csv: 2,014,000 candidate (site, destination, system) routes, more than the 2,000,000 depotsite "
        "handles (each route's travel time and coefficients are kept in memory); pre-select fewer candidate sites "
        "or merge destinations"
    ]


# --- sites against their host's country -----------------------------------------------------------------


BOUNDARIES = DATA / "boundaries" / "countries.geojson"


def test_every_shipped_site_lies_in_its_host_country(tables):
    _, load = tables
    assert len(load(boundaries=BOUNDARIES).sites) == len(read_rows(DATA / "sites.csv")) == 44


def test_a_site_in_another_country_is_an_input_error(tables):
    folder, load = tables
    lask = "pl_lask,32nd Tactical Air Base Łask,PL,51.5517,19.1792"
    edit(folder / "sites.csv", lask, "pl_lask,32nd Tactical Air Base Łask,PL,52.5200,13.4000")  # Berlin
    edit(folder / "sites.csv", ",LT,55.8939,23.3950,", ",LT,23.3950,55.8939,")  # lat and lon swapped
    assert problems_of(load, boundaries=BOUNDARIES) == [
        "sites.csv (pl_lask): lat 52.52, lon 13.4 lies in DE, 61 km outside its host_id PL; fix the coordinates "
        "(latitude first) or the host_id",
        "sites.csv (lt_siauliai): lat 23.395, lon 55.8939 lies in no country of countries.geojson, 4304 km outside "
        "its host_id LT; fix the coordinates (latitude first) or the host_id",
    ]
    assert "pl_lask" in load().sites  # without boundaries, nothing to check against


def test_a_site_a_few_km_outside_its_border_is_tolerated(tables):
    folder, load = tables
    # the port of Gdynia moved 3.5 km out to sea: a coast site, within the 5 km tolerance
    text = (folder / "sites.csv").read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("pl_gdynia"))
    cells = line.split(",")
    cells[3], cells[4] = "54.5300", "18.6200"
    (folder / "sites.csv").write_text(text.replace(line, ",".join(cells)), encoding="utf-8")
    assert "pl_gdynia" in load(boundaries=BOUNDARIES).sites


# --- odd files and cells --------------------------------------------------------------------------------


def in_thread(call, *, fifo: Path | None = None):
    """Run ``call`` in a thread; if it blocks (on a FIFO), unblock it by writing to the FIFO and fail."""
    result: dict[str, object] = {}

    def run():
        try:
            result["value"] = call()
        except Exception as exc:
            result["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(30)
    if thread.is_alive() and fifo is not None:
        with fifo.open("w"):
            pass
        thread.join()
        pytest.fail("reading blocked on the FIFO")
    return result


def test_non_utf8_table_names_the_byte_offset(tables):
    folder, load = tables
    data = (folder / "hosts.csv").read_bytes()
    offset = data.index(b"Poland")
    (folder / "hosts.csv").write_bytes(data[:offset] + b"\xff\xfe" + data[offset:])
    assert problems_of(load) == [
        f"hosts.csv: not UTF-8 text (invalid byte at offset {offset}); save it as a UTF-8 CSV file"
    ]


def test_fifo_device_and_directory_are_refused_before_opening(tables):
    folder, load = tables
    (folder / "hosts.csv").unlink()
    os.mkfifo(folder / "hosts.csv")
    (folder / "sites.csv").unlink()
    (folder / "sites.csv").mkdir()
    (folder / "demand.csv").unlink()
    (folder / "demand.csv").symlink_to("/dev/null")
    outcome = in_thread(load, fifo=folder / "hosts.csv")
    assert isinstance(outcome["error"], InputError)
    assert outcome["error"].problems == [
        f"{folder / 'hosts.csv'}: is a named pipe (FIFO), not a regular file; check the path in the scenario's "
        "[data] table",
        f"{folder / 'sites.csv'}: is a directory, not a file; check the path in the scenario's [data] table",
        f"{folder / 'demand.csv'}: is a device, not a regular file; check the path in the scenario's [data] table",
    ]


def test_a_foreign_file_given_as_a_table_is_not_echoed(tables):
    folder, load = tables
    (folder / "hosts.csv").write_text("root:x:0:0:root:/root:/bin/bash\nsecret:x:1:1::/home/secret:/bin/sh\n")
    (folder / "systems.csv").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    problems = problems_of(load)
    assert problems == [
        "hosts.csv: the first row has none of the expected columns; is this the right file? The header must be: "
        "host_id, name, group, release_delay_h",
        "systems.csv: not UTF-8 text (invalid byte at offset 0); save it as a UTF-8 CSV file",
    ]


def test_whitespace_around_headers_and_ids_is_stripped(tables):
    folder, load = tables
    edit(folder / "sites.csv", "site_id,name,host_id,", " site_id , name ,\thost_id ,")
    edit(folder / "sites.csv", "pl_lask,32nd Tactical Air Base Łask,PL,", "  pl_lask\t,Łask, PL ,")
    inputs = load()
    assert inputs.sites["pl_lask"].host_id == "PL"


def test_non_ascii_ids_load_and_unprintable_ids_are_refused(tables):
    folder, load = tables
    edit(folder / "sites.csv", "pl_lask,", "site_é,")
    edit(folder / "hosts.csv", "PL,Poland,", "hôst,Poland,")
    sites = folder / "sites.csv"
    sites.write_text(sites.read_text(encoding="utf-8").replace(",PL,", ",hôst,"), encoding="utf-8")
    assert load().sites["site_é"].host_id == "hôst"
    edit(folder / "systems.csv", "himars,", "him\x07ars,")
    edit(folder / "systems.csv", "leopard2,", f"{'l' * 101},")
    assert problems_of(load)[:2] == [
        "systems.csv line 3 ('him\\x07ars'): system_id must be a non-empty id of at most 100 printable characters "
        "without spaces, got 'him\\x07ars'",
        f"systems.csv line 4 ({'l' * 100}): system_id must be a non-empty id of at most 100 printable characters "
        f"without spaces, got {'l' * 60!r}... (101 characters)",
    ]


def test_user_text_prints_literally_never_as_markup(tmp_path):
    from conftest import invoke

    odd = "[bold]him:x:"
    for name in TABLES:
        text = (DATA / f"{name}.csv").read_text(encoding="utf-8")
        (tmp_path / f"{name}.csv").write_text(text.replace("himars,", f'"{odd}",'), encoding="utf-8")
    base = (DATA.parent / "models" / "base.toml").read_text(encoding="utf-8")
    base = base.replace('purchasers = "../data/purchasers.csv"\n', "").replace("../data/roads", str(DATA / "roads"))
    base = base.replace("../data/boundaries", str(DATA / "boundaries"))
    base = base.replace("../data/regions", str(DATA / "regions")).replace("../data/countries", str(DATA / "countries"))
    base = base.replace("../data/", "")
    (tmp_path / "base.toml").write_text(base.replace("[systems.himars]", f'[systems."{odd}"]'), encoding="utf-8")
    valid = invoke("validate", tmp_path / "base.toml")
    assert valid.exit_code == 0, valid.output
    assert f"40 {odd}," in " ".join(valid.output.split())  # as typed, however the line wraps
    edit(tmp_path / "sites.csv", ",air_base,40,24,", ",air_base,:x: [/],24,")
    invalid = invoke("validate", tmp_path / "base.toml")
    assert invalid.exit_code == 1
    assert "vehicle_bays must be a whole number between 0 and 1,000,000, got ':x: [/]'" in " ".join(
        invalid.output.split()
    )


def test_purchasers_that_are_a_fifo_or_not_utf8_are_input_errors(tmp_path):
    from conftest import invoke

    base = DATA.parent / "models" / "base.toml"
    fifo, binary = tmp_path / "fifo.csv", tmp_path / "binary.csv"
    os.mkfifo(fifo)
    binary.write_bytes(b"purchaser_id,system_id,units,host_id\n\xff\xfe\n")
    outcome = in_thread(lambda: invoke("validate", base, "--set", f"data.purchasers={str(fifo)!r}"), fifo=fifo)
    assert outcome["value"].exit_code == 1
    assert f"{fifo}: is a named pipe (FIFO), not a regular file; check [data] purchasers" in outcome["value"].output
    result = invoke("validate", base, "--set", f"data.purchasers={str(binary)!r}")
    assert (result.exit_code, result.exception is None or isinstance(result.exception, SystemExit)) == (1, True)
    assert "binary.csv: not a readable UTF-8 CSV file; save it as CSV with a header row" in result.output


def test_a_system_outside_the_register_is_category_none(tables):
    """A ground-to-air battery is in none of the UN Register's seven categories; any case of 'none' reads
    as NONE, the key the reports describe as not covered."""
    folder, load = tables
    edit(folder / "systems.csv", "Patriot air-defence battery,NONE,", "Patriot air-defence battery,none,")
    assert load().systems["patriot"].unroca_category == "NONE"


def test_purchasers_rows_short_long_spaced_and_a_bare_wrong_header(tmp_path):
    """A short row (no units cell), a row with a fifth cell, spaces round ids and headers, and a header that
    lacks a column even when no row follows: each an input error naming the line, or read as stripped."""
    from depotsite.errors import InputError
    from depotsite.purchasers import read_purchasers

    path = tmp_path / "purchasers.csv"
    path.write_text("purchaser_id, system_id ,units,host_id\nSE, himars ,8, RO \nPL,himars\nDE,himars,2,,extra\n")
    with pytest.raises(InputError) as caught:
        read_purchasers(path, {"himars"}, {"RO"})
    assert caught.value.problems == [
        "purchasers.csv line 3: units must be a whole number >= 0, got ''",
        "purchasers.csv line 4: more cells than the header's 4 columns",
    ]
    path.write_text("purchaser_id, system_id ,units,host_id\nSE, himars ,8, RO \n")
    assert read_purchasers(path, {"himars"}, {"RO"}) == [
        {"purchaser_id": "SE", "system_id": "himars", "units": 8, "host_id": "RO"}
    ]
    path.write_text("purchaser_id,system_id,units\n")
    with pytest.raises(InputError) as caught:
        read_purchasers(path, {"himars"}, {"RO"})
    assert caught.value.problems == [
        "purchasers.csv: missing column(s) host_id; the header must be: purchaser_id, system_id, units, host_id"
    ]


def test_tables_without_the_ammunition_columns_load_with_zero(tables):
    """Old inputs: a sites.csv without ammo_capacity_t and a systems.csv without net_explosive_t_per_unit load,
    every site holding no munitions and every system being no munition; the shipped tables have both."""
    folder, load = tables
    full = load()
    assert full.sites["de_miesau"].ammo_capacity_t == 400
    assert full.systems["gmlrs"].net_explosive_t_per_unit == 0.75
    for name, column in (("sites", "ammo_capacity_t"), ("systems", "net_explosive_t_per_unit")):
        table = read_rows(folder / f"{name}.csv")
        header = [c for c in table[0] if c != column]
        write_csv(folder / f"{name}.csv", header, [[r[c] for c in header] for r in table])
    old = load()
    assert {s.ammo_capacity_t for s in old.sites.values()} == {0.0}
    assert {w.net_explosive_t_per_unit for w in old.systems.values()} == {0.0}
    assert old.requirement == full.requirement  # the base demand has no munitions


def test_a_munition_needs_ammunition_capacity_and_bad_tonnes_are_named(tables):
    """Demand for GMLRS pods (0.75 t each) beyond the 850 t the four depots hold is refused before any solve;
    a negative capacity names the file, line, site and column."""
    folder, load = tables
    with (folder / "demand.csv").open("a") as stream:
        stream.write("ua_kharkiv,gmlrs,1200\n")
    room = sum(int(t / 0.75) for t in (400, 200, 150, 100))  # whole pods per depot (data/README.md)
    assert problems_of(load) == [
        f"demand.csv (gmlrs): the requirement of 1200 units exceeds the {room} units that the sites of kind "
        "ammo_depot can hold; add capacity or lower the demand",
        f"sites.csv: the package needs {1200 * 0.75:g} tonnes of ammunition capacity (net explosive mass) but all "
        f"sites together have {400 + 200 + 150 + 100}; add tonnes of ammunition capacity (net explosive mass) or "
        "lower the demand",
    ]
    edit(folder / "sites.csv", 'to about 3 km",150', 'to about 3 km",-1')
    assert "sites.csv line 44 (cz_kvetna): ammo_capacity_t must be a number between 0 and 1,000,000, got '-1'" in (
        problems_of(load)
    )
