"""Runs that say what changed, and every run-like folder a full run: overrides recorded in the name, the
description and summary.json; Pareto points and alternatives as run folders that verify, compare, report
and stress accept; compare of many runs; global options after the subcommand; the GIS layers and their GeoPackage.

Solves use the tiny bring-your-own-matrix scenario of ``test_verify`` (no road network, well under a
second each); the override records are checked on the shipped base scenario without solving.
"""

from __future__ import annotations

import csv
import json
import tomllib
from pathlib import Path

import pytest

from conftest import BASE, ROOT, invoke
from depotsite.scenario import load_scenario, resolve_scenario
from depotsite.tables import file_sha256
from test_verify import build

BASE_DESCRIPTION = "Reference posture: all seven hosts, no host above 35% of the package value, Baltics at most 25%"


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as stream:
        return list(csv.DictReader(stream))


def read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """The tiny scenario's folder (tables, matrix, tiny.toml)."""
    folder = tmp_path_factory.mktemp("tiny")
    build(folder)
    return folder


# --- the record of overrides (no solve) ----------------------------------------------------------------------


def test_a_set_override_renames_the_run_and_regenerates_its_description():
    scenario, changes = resolve_scenario(BASE, overrides=["hosts.PL.max_value_share=0.15"])
    assert scenario.name == "base+1 override"
    assert scenario.description == (
        "base changed by 1 override (--set): hosts.PL.max_value_share: 0.35 -> 0.15. The description of base "
        f'before these changes, which may no longer hold: "{BASE_DESCRIPTION}"'
    )
    assert [c.as_json() for c in changes] == [
        {"key": "hosts.PL.max_value_share", "old": 0.35, "new": 0.15, "from": "--set"}
    ]


def test_only_overrides_that_change_the_question_are_counted_in_the_name():
    """A time limit, a thread count or a value set to what it already was changes no rule of the posture."""
    scenario, changes = resolve_scenario(
        BASE,
        overrides=[
            "solver.time_limit_s=30",
            "solver.threads=1",
            "hosts.RO.max_value_share=0.35",
            "constraints.exclude_hosts=LT,LV",
            "objective.risk=hhi",
        ],
    )
    assert scenario.name == "base+2 overrides"
    assert scenario.description.startswith(
        'base changed by 2 overrides (--set): constraints.exclude_hosts: (unset) -> ["LT", "LV"]; '
        'objective.risk: "max_host_share" -> "hhi". The description of base before these changes'
    )
    assert [c.as_json() for c in changes][-2]["new"] == ["LT", "LV"]  # as validated, not the text typed
    assert load_scenario(BASE, overrides=["solver.time_limit_s=30"]).name == "base"


def test_a_variant_records_what_it_changes_in_the_file_it_extends_without_renaming():
    scenario, changes = resolve_scenario(ROOT / "models" / "no_baltics.toml", overrides=["objective.time=makespan"])
    assert scenario.name == "no_baltics+1 override"
    assert [c.as_json() for c in changes] == [
        {"key": "constraints.exclude_hosts", "old": None, "new": ["LT", "LV", "EE"], "from": "no_baltics.toml"},
        {"key": "objective.time", "old": "system_mean", "new": "makespan", "from": "--set"},
    ]


def test_a_renamed_run_solved_again_with_more_overrides_adds_to_its_count(tmp_path):
    again = tmp_path / "again.toml"
    again.write_text(load_scenario(BASE, overrides=["hosts.PL.max_value_share=0.3"]).to_toml())
    assert load_scenario(again, overrides=["hosts.RO.max_value_share=0.3"]).name == "base+2 overrides"


def test_a_name_and_a_description_given_are_kept():
    from depotsite.overrides import name_override

    scenario = load_scenario(BASE, overrides=["hosts.PL.max_value_share=0.2", name_override("2024")])
    assert scenario.name == "2024"  # a string, though it reads as a TOML number
    assert scenario.description.startswith("base changed by 1 override (--set): hosts.PL.max_value_share")
    kept = load_scenario(BASE, overrides=["hosts.PL.max_value_share=0.2", 'description="PL capped"'])
    assert (kept.name, kept.description) == ("base+1 override", "PL capped")


# --- solve: the name, the summary, --json and global options after the subcommand ------------------------


def test_solve_records_every_override_and_verify_reproduces_the_name(tiny, tmp_path):
    out = tmp_path / "run"
    result = invoke(
        "solve",
        tiny / "tiny.toml",
        "--out",
        out,
        "--no-maps",
        "--set",
        "hosts.A.max_value_share=0.45",
        "--time-limit",
        30,
    )
    assert result.exit_code == 0, result.output
    assert "tiny+1 override: optimal, objective" in result.output
    summary = read_json(out / "summary.json")
    assert summary["scenario"] == "tiny+1 override"
    assert summary["overrides"] == [
        {"key": "hosts.A.max_value_share", "old": 0.5, "new": 0.45, "from": "--set"},
        {"key": "solver.time_limit_s", "old": None, "new": 30.0, "from": "--set"},
    ]  # tiny.toml sets no limit
    resolved = tomllib.loads((out / "scenario.resolved.toml").read_text(encoding="utf-8"))
    assert resolved["name"] == "tiny+1 override"
    assert resolved["description"] == "tiny changed by 1 override (--set): hosts.A.max_value_share: 0.5 -> 0.45."
    verified = invoke("verify", out, "--scenario", tiny / "tiny.toml")
    assert verified.exit_code == 0, verified.output


def test_a_name_given_on_the_command_line_is_the_runs_name(tiny, tmp_path):
    out = tmp_path / "named"
    result = invoke("solve", tiny / "tiny.toml", "--out", out, "--no-maps", "--name", "-q")
    assert result.exit_code == 0, result.output
    assert read_json(out / "summary.json")["scenario"] == "-q"  # the value of --name, not the quiet flag
    assert "-q: optimal, objective" in result.output
    assert invoke("verify", out, "--scenario", tiny / "tiny.toml").exit_code == 0


def test_solve_json_prints_the_summary_to_stdout_only(tiny, tmp_path):
    out = tmp_path / "json"
    result = invoke("solve", tiny / "tiny.toml", "--out", out, "--no-maps", "--json", "-v")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == read_json(out / "summary.json")
    assert "solve returned" not in result.stdout and "wrote" not in result.stdout


@pytest.mark.parametrize(
    "args, moved",
    [
        (["solve", "s.toml", "--out", "x", "-q"], ["-q", "solve", "s.toml", "--out", "x"]),
        (["-v", "solve", "s.toml", "--debug", "-vv"], ["-v", "--debug", "-vv", "solve", "s.toml"]),
        (["solve", "s.toml", "--name", "-q", "--out", "-v"], ["solve", "s.toml", "--name", "-q", "--out", "-v"]),
        (["compare", "a", "--", "-q"], ["compare", "a", "--", "-q"]),
    ],
)
def test_global_options_after_the_subcommand_move_before_it(args, moved):
    from depotsite.cli import app
    from depotsite.cli.common import hoist_global_options

    group = __import__("typer").main.get_command(app)
    assert hoist_global_options(group, None, args) == moved


def test_quiet_and_debug_work_after_the_subcommand(tiny, tmp_path):
    quiet = invoke("solve", tiny / "tiny.toml", "--out", tmp_path / "q", "--no-maps", "-q")
    assert quiet.exit_code == 0 and quiet.output == ""
    debug = invoke("validate", tiny / "tiny.toml", "--set", "objective.risk_weight=-1", "--debug")
    assert type(debug.exception).__name__ == "ScenarioError"


# --- Pareto points and alternatives are full runs ----------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_front(tiny, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("front") / "front"
    result = invoke("pareto", tiny / "tiny.toml", "--points", 3, "--out", out)
    assert result.exit_code == 0, result.output
    return out


def test_every_pareto_point_is_a_run_that_verifies_with_its_bound(tiny, tiny_front):
    front = rows(tiny_front / "front.csv")
    assert [r["run"] for r in front] == ["point_00", "point_01", "point_02"]
    for i, r in enumerate(front):
        point = tiny_front / r["run"]
        verified = invoke("verify", point, "--scenario", tiny / "tiny.toml")
        assert verified.exit_code == 0, verified.output
        summary = read_json(point / "summary.json")
        epsilon = float(r["epsilon"])
        assert summary["scenario"] == f"tiny, Pareto point {i}"
        assert summary["bound"]["epsilon"] == pytest.approx(epsilon, rel=1e-9)
        assert summary["description"].startswith(
            f"Pareto point {i} of 3: the posture with the least mean time whose risk (max_host_share) is at most "
            f"{summary['bound']['epsilon']:.6g} percentage points"
        )
        resolved = tomllib.loads((point / "scenario.resolved.toml").read_text(encoding="utf-8"))
        original = tomllib.loads((tiny / "tiny.toml").read_text(encoding="utf-8"))
        for host in "ABCDE":  # the bound as a value cap on every host, unless the host's own is tighter
            own = original.get("hosts", {}).get(host, {}).get("max_value_share", 1.0)
            assert resolved["hosts"][host]["max_value_share"] == pytest.approx(min(own, epsilon / 100), rel=1e-9)
        weights = resolved["objective"]
        terms = {t: summary["terms"][t]["value"] for t in ("time", "risk", "cost")}
        assert summary["objective"] == pytest.approx(sum(weights[f"{t}_weight"] * v for t, v in terms.items()))
        assert float(r["risk"]) <= epsilon + 1e-9


def test_report_and_stress_accept_a_pareto_point(tiny_front, tmp_path):
    point = tiny_front / "point_02"
    report = invoke("report", point, "--tier", "host", "--out", tmp_path / "report", "-q")
    assert report.exit_code == 0, report.output
    assert (
        (tmp_path / "report" / "report.md")
        .read_text()
        .startswith("# depotsite disclosure report, tier 'host': tiny, Pareto point 2")
    )
    stress = invoke("stress", point, "--out", tmp_path / "stress", "-q")
    assert stress.exit_code == 0, stress.output
    assert len(rows(tmp_path / "stress" / "stress.csv")) == 5  # five hosts, one lost at a time


def test_compare_many_runs_as_json_against_the_first(tiny_front):
    points = [tiny_front / f"point_{i:02d}" for i in range(3)]
    result = invoke("compare", *points, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["reference"] == str(points[0]) and not doc["identical"]
    reference = {(r["site_id"], r["system_id"]): int(r["units"]) for r in rows(points[0] / "allocation.csv")}
    for run, column in zip(points, doc["runs"], strict=True):
        stock = {(r["site_id"], r["system_id"]): int(r["units"]) for r in rows(run / "allocation.csv")}
        sites = set(read_json(run / "summary.json")["open_sites"])  # c1 is forced open, held or not
        ref_sites = set(read_json(points[0] / "summary.json")["open_sites"])
        assert column["opened"] == sorted(sites - ref_sites) and column["closed"] == sorted(ref_sites - sites)
        assert column["units_moved"] == sum(max(0, n - reference.get(k, 0)) for k, n in stock.items())
        assert column["terms"]["risk"] == read_json(run / "summary.json")["terms"]["risk"]["value"]
    caps = doc["scenario_differences"]["hosts.B.max_value_share"]
    assert caps == [pytest.approx(float(r["epsilon"]) / 100) for r in rows(tiny_front / "front.csv")]
    assert "hosts.C.threat" not in doc["scenario_differences"]  # a default is no difference


def test_compare_prints_one_table_and_needs_two_runs(tiny_front):
    result = invoke("compare", tiny_front / "point_00", tiny_front / "point_02")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "tiny, Pareto point 0" in text and "units moved" in text and "sites opened" in text
    one = invoke("compare", tiny_front / "point_00")
    assert one.exit_code == 1
    assert "compare needs two or more run folders; the first is the reference" in " ".join(one.output.split())


def test_every_alternative_is_a_run_that_verifies(tiny, tmp_path):
    out = tmp_path / "alternatives"
    result = invoke("alternatives", tiny / "tiny.toml", "--count", 2, "--within", 5, "--out", out)
    assert result.exit_code == 0, result.output
    table = rows(out / "alternatives.csv")
    assert [r["run"] for r in table][:2] == ["optimum", "alternative_01"]
    optimum = read_json(out / "optimum" / "summary.json")
    for r in table:
        verified = invoke("verify", out / r["run"], "--scenario", tiny / "tiny.toml")
        assert verified.exit_code == 0, verified.output
        summary = read_json(out / r["run"] / "summary.json")
        assert summary["objective"] <= optimum["objective"] * 1.05 + 1e-9
        assert summary["open_sites"] == r["open_sites"].split(";")
    alternative = read_json(out / "alternative_01" / "summary.json")
    assert alternative["scenario"] == "tiny, alternative 1"
    assert alternative["bound"] == {
        "kind": "alternative",
        "rank": 1,
        "within_pct": 5.0,
        "optimum_objective": optimum["objective"],
        "objective_at_most": pytest.approx(optimum["objective"] * 1.05),
        "difference": table[1]["difference"],
        "method": "no-good cuts on the open sites of the optimum and every earlier alternative",
    }
    compared = json.loads(invoke("compare", out / "optimum", out / "alternative_01", "--json").stdout)
    assert compared["runs"][1]["opened"] == sorted(set(alternative["open_sites"]) - set(optimum["open_sites"]))


# --- the GIS layers ------------------------------------------------------------------------------------------


def test_layers_name_their_hours_and_list_every_site_and_destination(tiny, tmp_path):
    out = tmp_path / "layers"
    assert invoke("solve", tiny / "tiny.toml", "--out", out, "--no-maps").exit_code == 0
    deliveries = rows(out / "deliveries.csv")
    routes = read_json(out / "routes.geojson")["features"]
    by_key = {(r["site_id"], r["destination_id"], r["system_id"]): r for r in deliveries}
    for f in routes:
        props = f["properties"]
        row = by_key[props["site_id"], props["destination_id"], props["system_id"]]
        assert props["available_h"] == pytest.approx(float(row["available_h"]), abs=1e-4)
        assert props["transit_h"] == pytest.approx(float(row["transit_h"]), abs=1e-4)
        assert props["available_h"] == pytest.approx(props["release_h"] + props["transit_h"] + props["queue_h"])
        assert "hours" not in props
    depots = read_json(out / "depots.geojson")["features"]
    assert all(not isinstance(v, dict | list) for f in depots for v in f["properties"].values())
    sites = {f["properties"]["site_id"]: f["properties"] for f in read_json(out / "sites.geojson")["features"]}
    assert sorted(sites) == sorted(r["site_id"] for r in rows(tiny / "sites.csv"))
    opened = set(read_json(out / "summary.json")["open_sites"])
    assert {s for s, props in sites.items() if props["open"]} == opened
    assert {r["site_id"] for r in rows(out / "allocation.csv")} <= opened
    assert sites["d2"]["why_not"] == "excluded (constraints.exclude_sites)"
    assert sites["e1"]["why_not"] == "host E excluded (constraints.exclude_hosts)"
    assert all(sites[s]["why_not"] == "" for s in opened)
    assert all(props["why_not"] for s, props in sites.items() if s not in opened)
    destinations = {
        f["properties"]["destination_id"]: f["properties"] for f in read_json(out / "destinations.geojson")["features"]
    }
    for r in rows(tiny / "demand.csv"):
        assert destinations[r["destination_id"]][f"demand_{r['system_id']}"] == int(r["units"])
    for d, props in destinations.items():
        assert props["last_available_h"] == pytest.approx(
            max(float(r["available_h"]) for r in deliveries if r["destination_id"] == d), abs=1e-4
        )


def test_a_closed_site_says_why():
    """a1 serves everything (1 h); p1's kind (port) is allowed for no system; s1 is 10 h away with a 5 h
    deadline; n1 could serve (2 h) but one site is enough; x1 is excluded, c1's host is."""
    from depotsite.instance import build_instance
    from depotsite.output.geojson import sites_geojson
    from depotsite.posture import SolveOutcome
    from depotsite.results import summarise
    from instances import make_inputs, make_scenario, site, system, times

    inputs = make_inputs(
        hosts=["A", "B", "C"],
        sites=[
            site("a1", "A"),
            site("p1", "A", kind="port"),
            site("s1", "B"),
            site("n1", "B"),
            site("x1", "B"),
            site("c1", "C"),
        ],
        systems=[system("w")],
        demand={("d", "w"): 2},
    )
    travel = times(
        {
            ("a1", "d", "w"): 1,
            ("p1", "d", "w"): 1,
            ("s1", "d", "w"): 10,
            ("n1", "d", "w"): 2,
            ("x1", "d", "w"): 1,
            ("c1", "d", "w"): 1,
        }
    )
    p = build_instance(
        inputs,
        travel,
        make_scenario(systems={"w": {"deadline_h": 5}}, constraints={"exclude_sites": ["x1"], "exclude_hosts": ["C"]}),
    )
    result = summarise(
        p,
        {("a1", "w"): 2},
        {("a1", "d", "w"): 2},
        ("a1",),
        outcome=SolveOutcome(status="optimal", objective=1.0, bound=None, gap=0.0, solve_s=0.0),
    )
    why = {f["properties"]["site_id"]: f["properties"]["why_not"] for f in sites_geojson(result, p)["features"]}
    assert why == {
        "a1": "",
        "p1": "kind port is allowed for no system of the package",
        "s1": "no route within the deadline for w, the systems its kind allows",
        "n1": "not chosen: this posture holds nothing there",
        "x1": "excluded (constraints.exclude_sites)",
        "c1": "host C excluded (constraints.exclude_hosts)",
    }


def test_the_geopackage_holds_every_layer_as_the_geojson_states_it(tiny, tmp_path):
    import geopandas as gpd
    import pyogrio

    out = tmp_path / "gpkg"
    assert invoke("solve", tiny / "tiny.toml", "--out", out, "--no-maps").exit_code == 0
    layers = ["depots", "routes", "sites", "destinations"]
    assert [str(name) for name, _ in pyogrio.list_layers(out / "layers.gpkg")] == layers
    for name in layers:
        features = read_json(out / f"{name}.geojson")["features"]
        assert pyogrio.read_info(out / "layers.gpkg", layer=name)["features"] == len(features)
        table = gpd.read_file(out / "layers.gpkg", layer=name)
        assert table.crs.to_epsg() == 4326
        assert set(table.columns) - {"geometry"} == set(features[0]["properties"])
        assert [list(g.coords) for g in table.geometry] == [
            [
                tuple(xy)
                for xy in (
                    f["geometry"]["coordinates"]
                    if f["geometry"]["type"] == "LineString"
                    else [f["geometry"]["coordinates"]]
                )
            ]
            for f in features
        ]
    routes = gpd.read_file(out / "layers.gpkg", layer="routes")
    assert routes["available_h"].tolist() == [
        f["properties"]["available_h"] for f in read_json(out / "routes.geojson")["features"]
    ]
    manifest = read_json(out / "manifest.json")
    assert manifest["outputs"]["layers.gpkg"] == file_sha256(out / "layers.gpkg")


def test_verify_passes_with_the_geopackage_and_names_it_when_altered(tiny, tmp_path):
    import shutil

    import pyogrio

    from depotsite.verify import verify_run
    from test_verify import reseal

    out = tmp_path / "run"
    assert invoke("solve", tiny / "tiny.toml", "--out", out, "--no-maps").exit_code == 0
    assert verify_run(out).ok
    appended = tmp_path / "appended"
    shutil.copytree(out, appended)
    with (appended / "layers.gpkg").open("ab") as stream:
        stream.write(b"\0")
    assert next(v for v in verify_run(appended).violations if "layers.gpkg" in v).startswith(
        "output layers.gpkg changed after the run: SHA-256 "
    )
    # a careful tamperer: one route dropped from the GeoPackage and the manifest resealed
    resealed = tmp_path / "resealed"
    shutil.copytree(out, resealed)
    frame = pyogrio.read_dataframe(resealed / "layers.gpkg", layer="routes")
    pyogrio.write_dataframe(frame.iloc[1:], resealed / "layers.gpkg", layer="routes", driver="GPKG")
    reseal(resealed)
    routes = len(read_json(out / "routes.geojson")["features"])
    assert verify_run(resealed).violations == [
        f"output layers.gpkg: layer routes holds {routes - 1} features, routes.geojson {routes}"
    ]
    missing = tmp_path / "missing"
    shutil.copytree(out, missing)
    (missing / "layers.gpkg").unlink()
    assert "output layers.gpkg is missing from the run folder" in verify_run(missing).violations


def test_every_pareto_point_folder_has_its_geopackage(tiny_front):
    import pyogrio

    for point in sorted(tiny_front.glob("point_*")):
        assert "layers.gpkg" in read_json(point / "manifest.json")["outputs"]
        assert len(pyogrio.list_layers(point / "layers.gpkg")) == 4
