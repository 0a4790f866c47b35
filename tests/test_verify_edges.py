"""Edge cases of ``depotsite verify``: each edits a copy of the tiny hand-solved run of ``test_verify`` and
asserts the exact violations (or checks) verify must give, so a message that names the wrong thing, a
check that is skipped or a default that is lost fails here.

The expected texts are built in each test from the files it edits (their SHA-256, their feature counts, the
error the file's own reader gives), never copied from a run.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pyogrio
import pytest

from conftest import invoke
from depotsite.errors import InputError
from depotsite.output.gpkg import write_geopackage
from depotsite.scenario import load_scenario
from depotsite.tables import file_sha256
from depotsite.verify import Verification, check_scenario, verify_run
from test_verify import build, copy_run, edit_json, reseal, road_scenario, rows, tiny_run, write_rows

__all__ = ["road_scenario", "tiny_run"]  # the fixtures, shared with test_verify


@pytest.fixture
def run(tiny_run: Path, tmp_path: Path) -> Path:
    """A verified copy of the tiny run and its inputs, to edit."""
    return copy_run(tiny_run, tmp_path / "tiny")


def manifest(run: Path) -> dict:
    return json.loads((run / "manifest.json").read_text())


def reseal_inputs(run: Path) -> None:
    """Rewrite the manifest's input SHA-256 after an edit of the inputs, as a rerun on them would record."""
    edit_json(
        run / "manifest.json",
        lambda m: [e.update(sha256=file_sha256(Path(e["path"]))) for e in m["inputs"].values()],
    )


def input_path(run: Path, role: str) -> Path:
    return Path(manifest(run)["inputs"][role]["path"])


# --- reading the run's own files -----------------------------------------------------------------------------------


def test_a_resolved_scenario_that_is_not_utf8_is_named_and_stops(run):
    (run / "scenario.resolved.toml").write_bytes(b"name = \xff\n")
    reseal(run)
    with pytest.raises(UnicodeDecodeError) as caught:
        b"name = \xff\n".decode("utf-8")
    assert verify_run(run).violations == [
        f"scenario.resolved.toml: cannot be read as UTF-8 text ({caught.value})",
        "scenario.resolved.toml: no [data] table",
    ]


def test_the_optional_columns_of_the_tables_are_read(run):
    """The sites' ammunition capacity and the systems' net explosive mass, added to the recorded tables after
    the run (none of the sites holds any): every site holding tanks, 1 t each, is over its 0 t."""
    sites = rows(input_path(run, "sites"))
    write_rows(input_path(run, "sites"), [{**s, "ammo_capacity_t": "0"} for s in sites])
    systems = rows(input_path(run, "systems"))
    explosive = {"tank": "1", "jet": "0", "launcher": "0"}
    write_rows(
        input_path(run, "systems"), [{**w, "net_explosive_t_per_unit": explosive[w["system_id"]]} for w in systems]
    )
    reseal_inputs(run)
    tanks = {r["site_id"]: int(r["units"]) for r in rows(run / "allocation.csv") if r["system_id"] == "tank"}
    assert tanks
    assert verify_run(run).violations == [
        f"capacity: {s} needs {n} ammo_capacity_t but has 0" for s, n in sorted(tanks.items())
    ]


# --- the manifest --------------------------------------------------------------------------------------------------


def test_a_manifest_without_inputs_is_the_one_violation(run):
    (run / "manifest.json").write_text("{}")
    assert verify_run(run).violations == ["manifest.json: no 'inputs' table of {path, sha256} entries"]


def test_a_manifest_without_overrides_has_none(run):
    """A manifest may leave ``overrides`` out (none were given); tiny.toml already sets cost_weight 0.1, the
    run's one override, so it alone gives the resolved scenario."""
    edit_json(run / "manifest.json", lambda m: m.pop("overrides"))
    found = verify_run(run, scenario=run.parent / "tiny.toml")
    assert found.violations == []
    assert "scenario.resolved.toml is tiny.toml plus 0 recorded override(s)" in found.checks


# --- the SHA-256 of the inputs and outputs -------------------------------------------------------------------------


def test_a_missing_input_is_named_and_stops(run):
    path = input_path(run, "hosts")
    path.unlink()
    assert verify_run(run).violations == [f"input hosts ({path}) is missing; the run cannot be verified against it"]


def test_a_changed_input_names_both_digests_and_stops(run):
    path = input_path(run, "demand")
    recorded = manifest(run)["inputs"]["demand"]["sha256"]
    path.write_text(path.read_text().replace("x,tank,6", "x,tank,8"))
    now = file_sha256(path)
    assert verify_run(run).violations == [
        f"input demand ({path}) changed after the run: SHA-256 {now[:12]}... differs from the manifest's "
        f"{recorded[:12]}..."
    ]


def test_a_manifest_without_output_digests_says_so_once(run):
    edit_json(run / "manifest.json", lambda m: m.pop("outputs"))
    found = verify_run(run)
    assert found.violations == [
        "manifest.json records no output SHA-256 ('outputs'); rewrite the run with this version"
    ]
    inputs = len(manifest(run)["inputs"])
    assert found.checks[0] == f"{inputs} inputs and 0 outputs against their SHA-256"
    assert not any(c.startswith("layers.gpkg") for c in found.checks)  # no recorded GeoPackage to check


@pytest.mark.parametrize("outputs", [3, "x", [1]])
def test_output_digests_that_are_not_a_table_say_so_once(run, outputs):
    """Not only a missing 'outputs': one of another shape is the same one violation (the GeoPackage check
    once read it as a table and ended the whole verification as 'malformed')."""
    edit_json(run / "manifest.json", lambda m: m.update(outputs=outputs))
    assert verify_run(run).violations == [
        "manifest.json records no output SHA-256 ('outputs'); rewrite the run with this version"
    ]


def test_an_output_without_a_digest_is_named(run):
    edit_json(run / "manifest.json", lambda m: m["outputs"].pop("routes.geojson"))
    found = verify_run(run)
    assert found.violations == ["manifest.json records no SHA-256 for output routes.geojson"]
    outputs = len(manifest(run)["outputs"])
    assert found.checks[0] == f"{len(manifest(run)['inputs'])} inputs and {outputs} outputs against their SHA-256"


def test_a_changed_output_names_both_digests(run):
    recorded = manifest(run)["outputs"]["allocation.csv"]
    allocation = rows(run / "allocation.csv")
    allocation[0]["units"] = str(int(allocation[0]["units"]) + 1)
    write_rows(run / "allocation.csv", allocation)
    now = file_sha256(run / "allocation.csv")
    assert verify_run(run).violations[0] == (
        f"output allocation.csv changed after the run: SHA-256 {now[:12]}... differs from the manifest's "
        f"{recorded[:12]}..."
    )


def test_a_missing_newer_output_is_named_alone(run):
    """``sites.geojson`` is hashed but not required (older runs have none): missing, it is the one violation,
    and the GeoPackage check does not try to read it."""
    (run / "sites.geojson").unlink()
    assert verify_run(run).violations == ["output sites.geojson is missing from the run folder"]


# --- layers.gpkg ---------------------------------------------------------------------------------------------------


LAYERS = ("depots", "routes", "sites", "destinations")


def layers(run: Path) -> dict[str, dict]:
    return {name: json.loads((run / f"{name}.geojson").read_text()) for name in LAYERS}


def test_a_missing_geopackage_is_named_once(run):
    (run / "layers.gpkg").unlink()
    found = verify_run(run)
    assert found.violations == ["output layers.gpkg is missing from the run folder"]
    assert not any(c.startswith("layers.gpkg") for c in found.checks)


def test_a_geopackage_layer_with_a_feature_less_is_named(run):
    docs = layers(run)
    depots = len(docs["depots"]["features"])
    assert depots >= 2
    docs["depots"] = {**docs["depots"], "features": docs["depots"]["features"][1:]}
    write_geopackage(run / "layers.gpkg", docs)
    reseal(run)
    found = verify_run(run)
    assert found.violations == [
        f"output layers.gpkg: layer depots holds {depots - 1} features, depots.geojson {depots}"
    ]
    assert "layers.gpkg: 4 layers against the GeoJSON layers" in found.checks


def test_a_geopackage_without_a_layer_is_named(run):
    docs = layers(run)
    del docs["routes"]
    write_geopackage(run / "layers.gpkg", docs)
    reseal(run)
    assert verify_run(run).violations == ["output layers.gpkg has no layer routes (it has depots, destinations, sites)"]


def test_a_geopackage_that_gdal_cannot_open_is_named_with_gdals_error(run):
    (run / "layers.gpkg").write_bytes(b"not a GeoPackage")
    reseal(run)
    with pytest.raises((RuntimeError, OSError)) as caught:
        pyogrio.list_layers(run / "layers.gpkg")
    assert type(caught.value).__name__ != "NoneType"
    assert verify_run(run).violations == [
        f"output layers.gpkg cannot be read as a GeoPackage ({type(caught.value).__name__}: {caught.value})"
    ]


# --- the original scenario and the recorded overrides --------------------------------------------------------------


def test_the_recorded_overrides_are_applied_to_the_original(tmp_path):
    """A run solved with an override that changes the scenario (risk_weight 0.5 -> 0.4, and the description
    that says so) holds against the original only with that override applied."""
    original = build(tmp_path)
    result = invoke("solve", original, "--out", tmp_path / "run", "--no-maps", "--set", "objective.risk_weight=0.4")
    assert result.exit_code == 0, result.output
    resolved = tomllib.loads((tmp_path / "run" / "scenario.resolved.toml").read_text())
    assert resolved["objective"]["risk_weight"] == 0.4
    assert manifest(tmp_path / "run")["overrides"] == ["objective.risk_weight=0.4"]
    found = verify_run(tmp_path / "run", scenario=original)
    assert found.violations == []
    assert "scenario.resolved.toml is tiny.toml plus 1 recorded override(s)" in found.checks


def test_an_original_that_does_not_load_is_named_with_its_error(run):
    original = run.parent / "tiny.toml"
    original.write_text(original.read_text().replace("time_weight = 1.0", 'time_weight = "fast"'))
    with pytest.raises(InputError) as caught:
        load_scenario(original, overrides=manifest(run)["overrides"])
    assert verify_run(run, scenario=original).violations == [
        f"scenario: {original} with the recorded overrides does not load: {caught.value}"
    ]


def test_a_resolved_key_the_original_does_not_give_is_unset_there(run):
    resolved = tomllib.loads((run / "scenario.resolved.toml").read_text())
    resolved["objective"]["extra_weight"] = 2
    v = Verification()
    check_scenario(resolved, run.parent / "tiny.toml", manifest(run), v)
    assert v.violations == [
        "scenario: objective.extra_weight is 2 in scenario.resolved.toml, but tiny.toml with the recorded "
        "overrides gives '(unset)'"
    ]


# --- the [data] paths and the recorded tables ----------------------------------------------------------------------


def test_a_redirected_table_is_named_with_both_paths(run):
    recorded = input_path(run, "demand")
    copy = run.parent / "edited" / "demand.csv"
    copy.parent.mkdir()
    copy.write_text(recorded.read_text())
    text = (run / "scenario.resolved.toml").read_text()
    (run / "scenario.resolved.toml").write_text(text.replace(str(recorded), str(copy)))
    reseal(run)
    found = verify_run(run)
    assert found.violations == [
        f"data: [data] demand in scenario.resolved.toml is {copy}, but the manifest recorded {recorded}; "
        "verify reads inputs only through the manifest"
    ]
    assert "[data] paths of the resolved scenario against the manifest" in found.checks


def test_tables_the_manifest_does_not_record_are_named_and_stop(run):
    edit_json(run / "manifest.json", lambda m: [m["inputs"].pop(t) for t in ("sites", "demand")])
    data = tomllib.loads((run / "scenario.resolved.toml").read_text())["data"]
    assert verify_run(run).violations == [
        f"data: [data] {t} in scenario.resolved.toml is {data[t]}, but the manifest recorded None; "
        "verify reads inputs only through the manifest"
        for t in ("demand", "sites")
    ] + ["manifest.json: inputs demand, sites not recorded"]


@pytest.mark.parametrize("kind", ["folders", "files"])
def test_road_and_rail_sources_are_the_files_the_manifest_records(tmp_path, kind):
    """An extract folder stands for its two tables (``roads_nodes``, ``roads_edges``; ``rail_nodes``,
    ``rail_edges``), an OSM file for itself (``roads``, ``rail``): the names the run folder records
    (``runfolder.data_files``), so the [data] table and the manifest agree."""
    from depotsite.output.runfolder import data_files
    from depotsite.scenario import Scenario
    from depotsite.verify import check_data_paths

    data: dict[str, str] = {t: str(tmp_path / f"{t}.csv") for t in ("hosts", "sites", "systems", "destinations")}
    data |= {"demand": str(tmp_path / "demand.csv"), "boundaries": str(tmp_path / "countries.geojson")}
    for role in ("roads", "rail"):
        if kind == "folders":
            (tmp_path / role).mkdir()
            data[role] = str(tmp_path / role)
        else:
            data[role] = str(tmp_path / f"{role}.osm.pbf")
    files = data_files(Scenario.model_validate({"name": "paths", "data": data}).data)
    expected = {"folders": ["roads_nodes", "roads_edges", "rail_nodes", "rail_edges"], "files": ["roads", "rail"]}
    assert [role for role in files if role.startswith(("roads", "rail"))] == expected[kind]
    recorded = {"inputs": {role: {"path": str(path), "sha256": ""} for role, path in files.items()}}
    v = Verification()
    check_data_paths(data, recorded, v)
    assert v.violations == []
    assert v.checks == ["[data] paths of the resolved scenario against the manifest"]


# --- the purchasers' earmarks --------------------------------------------------------------------------------------


@pytest.fixture
def earmarked(tmp_path) -> Path:
    """The tiny scenario solved with purchaser PL's 2 tanks earmarked for host A, earmarks honoured."""
    scenario = build(tmp_path)
    (tmp_path / "purchasers.csv").write_text("purchaser_id,system_id,units,host_id\nPL,tank,2,A\nPL,jet,5,\n")
    text = scenario.read_text().replace("[network]", 'purchasers = "purchasers.csv"\n\n[network]')
    scenario.write_text(text + "\n[financing]\nhonour_earmarks = true\n")
    result = invoke("solve", scenario, "--out", tmp_path / "run", "--no-maps")
    assert result.exit_code == 0, result.output
    return tmp_path / "run"


def host_stock(run: Path, host: str, system: str) -> int:
    return sum(
        int(r["units"]) for r in rows(run / "allocation.csv") if (r["host_id"], r["system_id"]) == (host, system)
    )


def test_a_run_with_earmarks_verifies_and_an_earmark_above_the_stock_is_named(earmarked):
    assert "purchasers" in manifest(earmarked)["inputs"]
    assert verify_run(earmarked).violations == []
    held = host_stock(earmarked, "A", "tank")
    assert held >= 2
    path = input_path(earmarked, "purchasers")
    path.write_text(path.read_text().replace("PL,tank,2,A", f"PL,tank,{held + 1},A"))
    reseal_inputs(earmarked)
    assert verify_run(earmarked).violations == [f"earmark: A holds {held} tank, but PL earmarked {held + 1} for it"]


def test_a_purchasers_table_that_does_not_read_is_named_with_its_problems(earmarked):
    path = input_path(earmarked, "purchasers")
    path.write_text(path.read_text().replace("PL,jet,5,", "PL,drone,5,Z"))
    reseal_inputs(earmarked)
    from depotsite.purchasers import read_purchasers

    with pytest.raises(InputError) as caught:
        read_purchasers(path, {"tank", "jet", "launcher"}, set("ABCDE"))
    assert "drone" in str(caught.value) and "Z" in str(caught.value)
    assert verify_run(earmarked).violations == [f"purchasers: {caught.value}"]


# --- the travel times ----------------------------------------------------------------------------------------------


@pytest.fixture
def exposed(tmp_path) -> Path:
    """The tiny scenario solved on its matrix with an ``exposure_h`` column: a tenth of each route's hours."""
    scenario = build(tmp_path)
    table = rows(tmp_path / "matrix.csv")
    write_rows(tmp_path / "matrix.csv", [{**r, "exposure_h": f"{float(r['hours']) / 10:.3f}"} for r in table])
    result = invoke("solve", scenario, "--out", tmp_path / "run", "--no-maps")
    assert result.exit_code == 0, result.output
    return tmp_path / "run"


def matrix_hours(run: Path, column: str) -> dict[tuple[str, str, str], float]:
    return {
        (r["site_id"], r["destination_id"], r["system_id"]): float(r[column]) for r in rows(run.parent / "matrix.csv")
    }


def test_the_exposure_hours_of_the_matrix_are_read_and_checked(exposed):
    from depotsite.checks import transit_sha256

    exposure = matrix_hours(exposed, "exposure_h")
    assert manifest(exposed)["travel_times"]["exposure_sha256"] == transit_sha256(exposure)
    assert verify_run(exposed).violations == []
    edit_json(exposed / "manifest.json", lambda m: m["travel_times"].update(exposure_sha256="0" * 64))
    assert verify_run(exposed).violations == [
        "travel times: the exposure hours recomputed from the travel-time matrix differ from those the run used "
        f"(SHA-256 {transit_sha256(exposure)[:12]}... vs the manifest's 000000000000...)"
    ]


def test_a_wrong_transit_digest_names_both(run):
    from depotsite.checks import transit_sha256

    edit_json(run / "manifest.json", lambda m: m["travel_times"].update(sha256="f" * 64))
    found = verify_run(run)
    assert found.violations == [
        "travel times: the hours recomputed from the travel-time matrix differ from those the run used "
        f"(SHA-256 {transit_sha256(matrix_hours(run, 'hours'))[:12]}... vs the manifest's ffffffffffff...)"
    ]
    assert f"{len(matrix_hours(run, 'hours'))} transit hours recomputed from the travel-time matrix" in found.checks


def test_a_manifest_without_travel_times_says_so(run):
    edit_json(run / "manifest.json", lambda m: m.pop("travel_times"))
    assert verify_run(run).violations == ["manifest.json records no SHA-256 of the travel times the run used"]


def test_travel_times_that_are_not_an_object_record_no_digest(run):
    edit_json(run / "manifest.json", lambda m: m.update(travel_times="matrix.csv"))
    assert verify_run(run).violations == ["manifest.json records no SHA-256 of the travel times the run used"]


def test_roads_that_cannot_be_routed_again_are_named_and_stop(road_scenario, tmp_path):
    """A run routed over the roads, its resolved scenario then given a snap limit the schema refuses: verify
    cannot recompute the travel times, says why (the schema's own error) and stops."""
    from pydantic import ValidationError

    from depotsite.scenario import Scenario

    run = tmp_path / "run"
    assert invoke("solve", road_scenario, "--out", run, "--no-maps").exit_code == 0
    assert verify_run(run).violations == []
    text = (run / "scenario.resolved.toml").read_text()
    assert "\nsnap_max_km = 100.0\n" in text
    (run / "scenario.resolved.toml").write_text(text.replace("\nsnap_max_km = 100.0\n", "\nsnap_max_km = -1.0\n"))
    reseal(run)
    with pytest.raises(ValidationError) as caught:
        Scenario.model_validate(tomllib.loads((run / "scenario.resolved.toml").read_text()))
    assert verify_run(run).violations == [f"travel times cannot be recomputed from the roads: {caught.value}"]


# --- the run's outputs ---------------------------------------------------------------------------------------------


def test_a_stock_split_over_two_allocation_rows_is_named(run):
    """The same units in two rows of one site and system: the totals still match, the duplicate is the one
    violation."""
    allocation = rows(run / "allocation.csv")
    row = next(r for r in allocation if int(r["units"]) >= 2)
    allocation.append({**row, "units": "1"})
    row["units"] = str(int(row["units"]) - 1)
    write_rows(run / "allocation.csv", allocation)
    reseal(run)
    assert verify_run(run).violations == [f"allocation.csv: two rows for {row['site_id']}/{row['system_id']}"]


def test_a_reported_exposure_the_matrix_does_not_give_is_named(exposed):
    deliveries = rows(exposed / "deliveries.csv")
    row = deliveries[0]
    key = (row["site_id"], row["destination_id"], row["system_id"])
    given = matrix_hours(exposed, "exposure_h")[key]
    assert float(row["exposure_h"]) == pytest.approx(given, abs=1e-6)
    row["exposure_h"] = f"{given + 1:.4f}"
    write_rows(exposed / "deliveries.csv", deliveries)
    reseal(exposed)
    assert verify_run(exposed).violations == [
        f"exposure: {key[0]} -> {key[1]} for {key[2]} reports {given + 1:.3f} h exposed; the travel times give "
        f"{given:.3f} h"
    ]


def test_a_summary_that_is_not_an_object_is_the_one_violation(run):
    (run / "summary.json").write_text("[1, 2]")
    reseal(run)
    assert verify_run(run).violations == ["summary.json: not a JSON object"]


def test_a_resolved_scenario_without_data_is_named_and_stops(run):
    (run / "scenario.resolved.toml").write_text('name = "tiny"\n')
    reseal(run)
    assert verify_run(run).violations == ["scenario.resolved.toml: no [data] table"]


def test_a_folder_missing_required_files_names_them_all(run):
    for name in ("summary.json", "routes.geojson"):
        (run / name).unlink()
    assert verify_run(run).violations == [
        f"{run}: missing summary.json, routes.geojson; not a complete depotsite run folder"
    ]


def test_a_demand_of_one_unit_is_checked(tmp_path):
    """The tiny scenario with z needing 1 launcher (not 2): the run holds, and without that delivery verify
    names the unit missing."""
    scenario = build(tmp_path)
    demand = rows(tmp_path / "demand.csv")
    next(r for r in demand if (r["destination_id"], r["system_id"]) == ("z", "launcher"))["units"] = "1"
    write_rows(tmp_path / "demand.csv", demand)
    run = tmp_path / "run"
    assert invoke("solve", scenario, "--out", run, "--no-maps").exit_code == 0
    assert verify_run(run).violations == []
    deliveries = rows(run / "deliveries.csv")
    (dropped,) = [r for r in deliveries if (r["destination_id"], r["system_id"]) == ("z", "launcher")]
    assert dropped["units"] == "1"
    write_rows(run / "deliveries.csv", [r for r in deliveries if r is not dropped])
    reseal(run)
    found = verify_run(run).violations
    assert "demand: z receives 0 launcher but needs 1" in found, found


def test_a_road_file_that_no_longer_reads_is_named_as_an_input(road_scenario, tmp_path):
    """A road run whose OSM file, after the run, holds no data (its SHA-256 recorded anew): verify cannot route
    again, and names the road file and what is wrong with it (once osmnx's own error, caught as "a run file
    is malformed", which blamed the run folder for an input)."""
    from depotsite.errors import NetworkError

    osm = tmp_path / "roads.osm"
    osm.write_text(Path(tomllib.loads(road_scenario.read_text())["data"]["roads"]).read_text())
    road_scenario.write_text(re_roads(road_scenario.read_text(), osm))
    run = tmp_path / "run"
    assert invoke("solve", road_scenario, "--out", run, "--no-maps").exit_code == 0
    assert input_path(run, "roads") == osm
    osm.write_text('<?xml version="1.0"?>\n<osm version="0.6"></osm>\n')
    reseal_inputs(run)
    empty = NetworkError([f"{osm}: road file holds no OpenStreetMap nodes or ways; export an area with roads into it"])
    assert verify_run(run).violations == [f"travel times cannot be recomputed from the roads: {empty}"]


def re_roads(text: str, osm: Path) -> str:
    """The scenario text with its [data] roads pointing at ``osm``."""
    old = next(line for line in text.splitlines() if line.startswith("roads = "))
    return text.replace(old, f'roads = "{osm}"')


def test_a_system_whose_demand_is_all_zero_has_no_requirement(tmp_path):
    """A fourth system, drone, with min_hosts 2 and one demand row of 0 units: nothing is needed, so nothing
    is stocked, and its minimum of hosts does not apply (as in the model)."""
    scenario = build(tmp_path)
    systems = rows(tmp_path / "systems.csv")
    write_rows(tmp_path / "systems.csv", [*systems, {**systems[2], "system_id": "drone", "name": "Drone"}])
    with (tmp_path / "demand.csv").open("a") as stream:
        stream.write("x,drone,0\n")
    scenario.write_text(scenario.read_text() + "\n[systems.drone]\nmin_hosts = 2\n")
    run = tmp_path / "run"
    result = invoke("solve", scenario, "--out", run, "--no-maps")
    assert result.exit_code == 0, result.output
    assert not [r for r in rows(run / "allocation.csv") if r["system_id"] == "drone"]
    assert verify_run(run).violations == []
