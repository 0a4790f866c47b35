"""The command line end to end on the shipped data: exit codes, messages, outputs checked from the files."""

from __future__ import annotations

import csv
import json
import math
import re
import subprocess
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

import geopandas as gpd
import pytest

from conftest import BASE, ROOT, base_lp, invoke
from depotsite.scenario import load_scenario


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as stream:
        return list(csv.DictReader(stream))


def test_base_writes_every_output_and_states_its_status(base_run):
    """Whatever the machine reached within the default limit, the run says what it is: proven optimal with a
    gap of 0 and no time-limit warning, or stopped at the limit with its gap and the warning that states it
    (``depotsite.solve.outcome_of``). How far a machine gets is never asserted."""
    out, output = base_run
    names = {
        "allocation.csv",
        "deliveries.csv",
        "summary.json",
        "depots.geojson",
        "routes.geojson",
        "scenario.resolved.toml",
        "manifest.json",
        "map.html",
        "map.png",
    }
    assert names <= {p.name for p in out.iterdir()}
    summary = json.loads((out / "summary.json").read_text())
    limit_s = tomllib.loads((out / "scenario.resolved.toml").read_text(encoding="utf-8"))["solver"]["time_limit_s"]
    stopped = [w for w in summary["warnings"] if w.startswith("stopped at")]
    if summary["status"] == "optimal":
        assert summary["gap"] == 0.0 and not stopped
    else:
        assert summary["status"] == "time_limit" and summary["gap"] > 0
        assert stopped == [
            f"stopped at the time limit of {limit_s:g} s with a feasible posture; it is within "
            f"{100 * summary['gap']:.2f}% of the best bound, not proven optimal"
        ]
    assert set(summary["terms"]) == {"time", "risk", "cost"}
    assert summary["terms"]["time"]["unit"] == "hours"
    assert summary["terms"]["risk"]["unit"] == "percentage points"
    assert summary["terms"]["cost"]["unit"] == "M USD"
    assert f"base: {summary['status']}, objective" in output and "wrote" in output


def test_base_outputs_satisfy_every_rule_recomputed_from_the_files(base_run):
    """Demand met, stock = shipments, capacities, kinds, host and group caps, deadlines, objective terms."""
    out, _ = base_run
    data = {name: read_csv(ROOT / "data" / f"{name}.csv") for name in ("hosts", "sites", "systems", "demand")}
    sites = {r["site_id"]: r for r in data["sites"]}
    systems = {r["system_id"]: r for r in data["systems"]}
    allocation = read_csv(out / "allocation.csv")
    deliveries = read_csv(out / "deliveries.csv")
    stock = {(r["site_id"], r["system_id"]): int(r["units"]) for r in allocation}
    shipped = defaultdict(int)
    received = defaultdict(int)
    for r in deliveries:
        shipped[r["site_id"], r["system_id"]] += int(r["units"])
        received[r["destination_id"], r["system_id"]] += int(r["units"])
    assert dict(shipped) == stock
    assert dict(received) == {(r["destination_id"], r["system_id"]): int(r["units"]) for r in data["demand"]}
    for s in {s for s, _ in stock}:
        bays = sum(float(systems[w]["vehicle_bays_per_unit"]) * n for (s2, w), n in stock.items() if s2 == s)
        shelters = sum(float(systems[w]["shelters_per_unit"]) * n for (s2, w), n in stock.items() if s2 == s)
        assert bays <= int(sites[s]["vehicle_bays"]) and shelters <= int(sites[s]["aircraft_shelters"])
    for (s, w), n in stock.items():
        assert sites[s]["kind"] in systems[w]["site_kinds"].split(";")
        assert n >= int(systems[w]["min_lot"])
    value = {w: float(r["value_musd"]) for w, r in systems.items()}
    package = sum(value[r["system_id"]] * int(r["units"]) for r in data["demand"])
    host_value = defaultdict(float)
    for (s, w), n in stock.items():
        host_value[sites[s]["host_id"]] += value[w] * n
    # the rules as the run recorded them (scenario.resolved.toml), groups as hosts.csv defines them
    rules = tomllib.loads((out / "scenario.resolved.toml").read_text(encoding="utf-8"))
    for host, rule in rules["hosts"].items():
        if rule.get("max_value_share") is not None:
            assert host_value[host] <= rule["max_value_share"] * package + 1e-6
    for group, rule in rules["groups"].items():
        members = [r["host_id"] for r in data["hosts"] if r["group"] == group]
        assert members and sum(host_value[h] for h in members) <= rule["max_value_share"] * package + 1e-6
    deadline = {w: rule["deadline_h"] for w, rule in rules["systems"].items()}
    demanded = {r["system_id"] for r in data["demand"] if int(r["units"]) > 0}
    assert set(deadline) == demanded  # the base demands only its four systems (the rest is full_package's)
    assert all(float(r["available_h"]) <= deadline[r["system_id"]] + 1e-6 for r in deliveries)
    hosts_holding = defaultdict(set)
    for s, w in stock:
        hosts_holding[w].add(sites[s]["host_id"])
    assert all(len(hosts_holding[w]) >= rules["systems"][w]["min_hosts"] for w in demanded)
    assert len({s for s, _ in stock}) <= rules["constraints"]["max_sites"]
    summary = json.loads((out / "summary.json").read_text())
    assert rules["objective"]["time"] == "system_mean"  # each system's own mean, averaged with equal priority
    unit_hours, units = defaultdict(float), defaultdict(int)
    for r in deliveries:
        unit_hours[r["system_id"]] += float(r["available_h"]) * int(r["units"])
        units[r["system_id"]] += int(r["units"])
    mean_time = sum(unit_hours[w] / units[w] for w in units) / len(units)
    assert summary["terms"]["time"]["value"] == pytest.approx(mean_time, rel=1e-6)
    assert summary["terms"]["risk"]["value"] == pytest.approx(100 * max(host_value.values()) / package, rel=1e-6)
    cost = sum(float(sites[s]["fixed_cost_musd"]) for s in {s for s, _ in stock})
    assert summary["terms"]["cost"]["value"] == pytest.approx(cost)
    weights = rules["objective"]
    assert summary["objective"] == pytest.approx(
        weights["time_weight"] * mean_time
        + weights["risk_weight"] * summary["terms"]["risk"]["value"]
        + weights["cost_weight"] * cost,
        rel=1e-6,
    )


def test_geojson_is_rfc7946_and_matches_the_allocation(base_run):
    out, _ = base_run
    depots = gpd.read_file(out / "depots.geojson")
    routes = gpd.read_file(out / "routes.geojson")
    assert depots.crs.to_epsg() == 4326 and routes.crs.to_epsg() == 4326
    assert set(depots.geom_type) == {"Point"} and set(routes.geom_type) == {"LineString"}
    allocation = read_csv(out / "allocation.csv")
    for w in {r["system_id"] for r in allocation}:
        total = sum(int(r["units"]) for r in allocation if r["system_id"] == w)
        assert depots[f"units_{w}"].sum() == total
        assert routes.loc[routes.system_id == w, "units"].sum() == total
    assert set(depots.site_id) == {r["site_id"] for r in allocation}
    assert {"site_id", "host_id", "destination_id", "system_id", "units", "transit_h", "available_h"} <= set(
        routes.columns
    )
    assert "hours" not in routes.columns and "units" not in depots.columns  # named for what they are, flat
    # lon/lat order: every depot lies in the box of the shipped extract
    assert depots.geometry.x.between(5.5, 41).all() and depots.geometry.y.between(43, 60).all()
    road = routes[routes.profile != "air"]
    assert (road.geometry.apply(lambda g: len(g.coords)) > 2).all()  # along the road graph, not straight lines


def test_manifest_hashes_every_input(base_run):
    import hashlib

    out, _ = base_run
    manifest = json.loads((out / "manifest.json").read_text())
    assert {
        "hosts",
        "sites",
        "systems",
        "destinations",
        "demand",
        "roads_nodes",
        "roads_edges",
        "boundaries",
        "purchasers",
        "regions",
        "countries",
    } == set(manifest["inputs"])
    for entry in manifest["inputs"].values():
        assert hashlib.sha256(Path(entry["path"]).read_bytes()).hexdigest() == entry["sha256"]
    assert {"depotsite", "pyomo", "highspy", "HiGHS"} <= set(manifest["versions"])


def test_resolve_from_the_resolved_scenario_reproduces_the_allocation(base_run, tmp_path):
    out, _ = base_run
    moved = tmp_path / "elsewhere" / "scenario.toml"
    moved.parent.mkdir()
    moved.write_text((out / "scenario.resolved.toml").read_text())
    again = tmp_path / "again"
    result = invoke("solve", moved, "--out", again, "--no-maps")
    assert result.exit_code == 0, result.output
    assert read_csv(again / "allocation.csv") == read_csv(out / "allocation.csv")


def test_set_override_caps_poland_and_shows_in_compare(base_run, tmp_path):
    out, _ = base_run
    capped = tmp_path / "pl20"
    result = invoke("solve", BASE, "--out", capped, "--no-maps", "--set", "hosts.PL.max_value_share=0.2")
    assert result.exit_code == 0, result.output
    summary = json.loads((capped / "summary.json").read_text())
    assert summary["host_value_shares"]["PL"] <= 20.0 + 1e-6
    assert "max_value_share = 0.2" in (capped / "scenario.resolved.toml").read_text().split("[hosts.PL]")[1]
    compared = invoke("compare", out, capped)
    assert compared.exit_code == 0
    assert "hosts.PL.max_value_share" in compared.output
    assert "0.35" in compared.output and "0.2" in compared.output
    same = invoke("compare", out, out)
    assert "identical" in same.output


def test_a_limit_spent_before_the_solve_is_exit_4_on_any_machine(tmp_path, cache):
    """A limit of a millisecond runs out before any machine has built the base model (the deadline starts
    before the instance is resolved; the build alone takes many milliseconds), so the solve stage stops
    with exit 4, names the limit and how to raise it, and writes nothing. Which check notices first (the
    build between families, the hand-over to HiGHS, or HiGHS itself) may vary; the report may not."""
    out = tmp_path / "limited"
    result = invoke("solve", BASE, "--out", out, "--no-maps", "--time-limit", "0.001")
    assert result.exit_code == 4, result.output
    text = " ".join(result.output.split())
    assert re.search(
        r"error: (time limit reached while (building the model \(before \w+\)|solving \(before handing the model "
        r"to HiGHS\)): \d+\.\d s of the time limit of 0\.001 s used|no feasible posture found within the time "
        r"limit of 0\.001 s); raise \[solver\] time_limit_s or --time-limit",
        text,
    ), text
    assert "Traceback" not in result.output
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == []


def _fails(args, code: int, message: str, tmp_path: Path) -> None:
    out = tmp_path / "failed-run"
    result = invoke(*args, "--out", out) if args[0] == "solve" else invoke(*args)
    assert result.exit_code == code, result.output
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".failed-run")]


def test_unknown_scenario_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(f'extends = "{BASE}"\n[constraints]\nmax_site = 3\n')
    _fails(["solve", bad], 1, "unknown key 'constraints.max_site'; did you mean 'max_sites'?", tmp_path)


def test_bad_set_value(tmp_path):
    _fails(
        ["solve", BASE, "--set", "objective.risk_weight=-1"],
        1,
        "--set: objective.risk_weight: Input should be greater than or equal to 0 (got -1)",
        tmp_path,
    )


def test_missing_data_file(tmp_path):
    _fails(
        ["solve", BASE, "--set", f"data.sites={tmp_path / 'nope.csv'}"],
        1,
        "nope.csv: file not found; check the path in the scenario's [data] table",
        tmp_path,
    )


def test_malformed_csv(tmp_path):
    broken = tmp_path / "sites.csv"
    text = (ROOT / "data" / "sites.csv").read_text()
    broken.write_text(text.replace(",Rzeszów-Jasionka airport", ",Rzeszów, Jasionka", 1))
    _fails(
        ["solve", BASE, "--set", f"data.sites={broken}"],
        1,
        "sites.csv line 2: 13 fields but the header has 12; quote any field that contains a comma",
        tmp_path,
    )


def test_infeasible_scenario_exits_3_with_the_explanation(tmp_path, cache):
    """The explanation's sub-solves share the time limit; a generous one (it takes about a second) keeps a
    loaded machine from cutting the explanation short ("this explanation is incomplete")."""
    _fails(
        [
            "solve",
            BASE,
            "--time-limit",
            "600",
            "--set",
            "hosts.PL.max_value_share=0.05",
            "--set",
            "hosts.RO.max_value_share=0.05",
            "--set",
            "hosts.DE.max_value_share=0.05",
            "--set",
            "hosts.CZ.max_value_share=0.05",
        ],
        3,
        "relaxing any one of these alone would make it feasible: host caps (PL value 5%, RO value 5%, DE value 5%, "
        "CZ value 5%, leopard2 at most 50% per host)",
        tmp_path,
    )


def test_failed_run_keeps_an_earlier_good_run(tmp_path, cache):
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "manifest.json").write_text('{"tool": "depotsite", "kind": "run"}\n')  # an earlier run: replaceable
    (keep / "allocation.csv").write_text("site_id,host_id,system_id,units\n")
    caps = [f"--set=hosts.{h}.max_value_share=0.01" for h in ("PL", "RO", "DE", "CZ")]
    result = invoke("solve", BASE, "--out", keep, *caps)
    assert result.exit_code == 3
    assert (keep / "allocation.csv").read_text() == "site_id,host_id,system_id,units\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep"]  # nothing staged, nothing left beside it


def test_debug_shows_the_traceback(tmp_path):
    result = invoke("--debug", "solve", BASE, "--out", tmp_path / "x", "--set", "objective.risk_weight=-1")
    assert result.exit_code != 0
    assert result.exception is not None and type(result.exception).__name__ == "ScenarioError"


def test_validate_and_version():
    """The counts are the shipped tables' rows; the package is demand.csv summed per system, in the order of
    systems.csv, and its value the units times value_musd."""
    result = invoke("validate", BASE)
    assert result.exit_code == 0
    data = {name: read_csv(ROOT / "data" / f"{name}.csv") for name in ("hosts", "sites", "systems", "destinations")}
    units: dict[str, int] = defaultdict(int)
    for r in read_csv(ROOT / "data" / "demand.csv"):
        units[r["system_id"]] += int(r["units"])
    package = ", ".join(f"{units[w['system_id']]} {w['system_id']}" for w in data["systems"] if units[w["system_id"]])
    value = sum(n * float(w["value_musd"]) for w in data["systems"] for n in [units[w["system_id"]]])
    assert (
        f"valid; {len(data['sites'])} sites in {len(data['hosts'])} hosts, {len(data['destinations'])} destinations, "
        f"package {package} ({value:,.0f} M USD)"
    ) in " ".join(result.output.split())
    version = subprocess.run([sys.executable, "-m", "depotsite.cli", "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("depotsite ")


def test_help_documents_every_exit_code():
    from depotsite.cli import EXIT_CODES

    result = invoke("--help")
    text = " ".join(result.output.split())
    assert len(set(EXIT_CODES)) == len(EXIT_CODES) == 8
    for code, meaning in EXIT_CODES.items():
        assert f"{code} {meaning}" in text, (code, meaning)
    assert "3 infeasible scenario" in text and "70 internal error" in text


def test_a_wrong_command_line_keeps_the_usage_exit_code():
    result = invoke("solve")  # no scenario, no --out
    assert result.exit_code == 2
    assert "Missing argument 'scenario'" in result.output


def test_travel_times_command_writes_every_pair(tmp_path, cache):
    out = tmp_path / "tt.csv"
    result = invoke("travel-times", BASE, "--out", out)
    assert result.exit_code == 0, result.output
    rows = read_csv(out)
    assert list(rows[0]) == [
        "site_id",
        "destination_id",
        "system_id",
        "profile",
        "mode",
        "transit_h",
        "road_km",
        "rail_km",
        "borders_crossed",
        "gauge_breaks",
        "snap_km",
        "countries",
        "regions",
        "crossings",
        "border_h",
        "ukraine_h",
        "exposure_h",
        "note",
        "unreachable_reason",
    ]
    road = [r for r in rows if r["profile"] in ("wheeled", "tracked")]
    patriot_and_himars = len(read_csv(ROOT / "data" / "sites.csv")) * 14 * 2  # every site, every destination
    assert len([r for r in road if r["system_id"] in ("patriot", "himars")]) == patriot_and_himars
    assert all(float(r["transit_h"]) > 0 for r in rows if r["transit_h"])
    # the crossings agree with the countries and their count; their hours with border_h
    for r in road:
        countries, crossings = r["countries"].split(">"), r["crossings"].split("; ") if r["crossings"] else []
        assert len(crossings) == int(r["borders_crossed"]) >= len(countries) - 1
        assert countries[-1] == "UA" and not {"BY", "RU"} & set(countries)
        assert sum(float(c.split()[-2]) for c in crossings) == pytest.approx(float(r["border_h"]), abs=1e-4)
        assert 0 <= float(r["exposure_h"]) <= float(r["ukraine_h"]) + 1e-4
    lviv = next(
        r for r in road if (r["site_id"], r["destination_id"], r["system_id"]) == ("pl_przemysl", "ua_lviv", "himars")
    )
    assert (lviv["countries"], lviv["crossings"]) == ("PL>UA", "PL>UA external 3 h")


def test_cli_runs_as_a_real_process(tmp_path, cache):
    """The installed entry point, in a subprocess: one red line and exit 1 on a bad scenario."""
    bad = tmp_path / "bad.toml"
    bad.write_text(f'extends = "{BASE}"\n[objective]\nrisk = "variance"\n')
    done = subprocess.run([sys.executable, "-m", "depotsite.cli", "validate", str(bad)], capture_output=True, text=True)
    assert done.returncode == 1
    assert "objective.risk: Input should be 'max_host_share', 'hhi' or 'expected_loss'" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("variant", sorted(p.stem for p in (ROOT / "models").glob("*.toml") if p.stem != "base"))
def test_every_variant_solves(variant, tmp_path, cache):
    """Each variant solved with a limit of at most 60 s (queues.toml asks 300 s and takes a minute or more to
    prove; it has a posture within seconds, and a posture is all these checks need: the rules and figures are
    checked on whatever posture is written)."""
    out = tmp_path / variant
    own_limit_s = load_scenario(ROOT / "models" / f"{variant}.toml").solver.time_limit_s
    limit = ["--time-limit", "60"] if own_limit_s > 60 else []
    result = invoke("solve", ROOT / "models" / f"{variant}.toml", "--out", out, "--no-maps", *limit)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    # Every rule below holds for any posture written, proven optimal or stopped at the limit on a slow machine.
    assert summary["status"] in ("optimal", "time_limit"), summary["warnings"]
    assert (summary["gap"] == 0.0) == (summary["status"] == "optimal")
    verified = invoke("verify", out)
    assert verified.exit_code == 0, verified.output
    allocation = read_csv(out / "allocation.csv")
    requirement: dict[str, int] = defaultdict(int)
    scenario = tomllib.loads((out / "scenario.resolved.toml").read_text(encoding="utf-8"))
    for r in read_csv(Path(scenario["data"]["demand"])):  # full_package names its own demand file
        requirement[r["system_id"]] += int(r["units"])
    assert sum(int(r["units"]) for r in allocation) == sum(requirement.values())
    excluded = set(scenario.get("constraints", {}).get("exclude_hosts", []))
    assert not {r["host_id"] for r in allocation} & excluded
    resilient = {w: rule for w, rule in scenario.get("systems", {}).items() if "resilience" in rule}
    assert bool(resilient) == (variant == "host_withholds")
    assert bool(excluded) == (variant == "no_baltics")
    for w, rule in resilient.items():
        if rule["resilience"]["lose_hosts"] == 1:
            # after losing the host that holds most of w, at least keep_fraction of it (whole units, rounded up)
            need = math.ceil(rule["resilience"]["keep_fraction"] * requirement[w] - 1e-9)
            held = defaultdict(int)
            for r in allocation:
                if r["system_id"] == w:
                    held[r["host_id"]] += int(r["units"])
            assert sum(held.values()) - max(held.values()) >= need, w


def test_save_lp_reads_as_policy_language(base_run):
    """The LP file the base run wrote (``--save-lp``, see ``conftest.base_run``) names its rows and columns
    after the formulation (stock, ship, meet_demand, host caps)."""
    out, _ = base_run
    text = base_lp(out).read_text()
    for name in (
        "meet_demand(ua_kyiv_patriot)",
        "ship_from_stock(",
        "site_capacity(",
        "host_share_cap_value(PL)",
        "group_share_cap_value(baltics)",
        "min_hosts(f16)",
        "min_lot_low(",
        "max_sites(0)",
        "stock(pl_lask_f16)",
        "open_site(pl_lask)",
    ):
        assert name in text, name


def test_overrides_are_logged_by_default(tmp_path):
    result = invoke("validate", ROOT / "models" / "no_baltics.toml", "--set", "hosts.PL.max_value_share=0.3")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "override from no_baltics.toml: constraints.exclude_hosts: (unset) -> ['LT', 'LV', 'EE']" in text
    assert "override from --set: hosts.PL.max_value_share: 0.35 -> 0.3" in text
