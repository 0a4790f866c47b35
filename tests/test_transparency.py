"""Disclosure tiers, UNROCA tables, crews, financing, and `depotsite verify` against tampering."""

from __future__ import annotations

import csv
import html
import json
import re
import shutil
import tomllib
from collections import defaultdict
from pathlib import Path

import pytest

from conftest import BASE, ROOT, invoke
from depotsite.tables import UNROCA
from depotsite.verify import verify_run


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as stream:
        return list(csv.DictReader(stream))


def write_rows(path: Path, data: list[dict[str, str]]) -> None:
    with path.open("w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(data[0]))
        writer.writeheader()
        writer.writerows(data)


@pytest.fixture(scope="module")
def tiers(base_run, tmp_path_factory):
    out, _ = base_run
    folders = {}
    for tier in ("full", "host", "kinds"):
        folder = tmp_path_factory.mktemp("report") / tier
        result = invoke("report", out, "--tier", tier, "--out", folder)
        assert result.exit_code == 0, result.output
        folders[tier] = folder
    return folders


def all_text(folder: Path) -> str:
    """Everything a reader of the folder sees: CSV and Markdown as written, HTML as rendered text."""
    texts = []
    for path in sorted(folder.iterdir()):
        text = path.read_text()
        if path.suffix == ".html":
            text = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", "", text, flags=re.S)))
        texts.append(text)
    return "\n".join(texts)


def test_kinds_tier_discloses_no_site_coordinate_or_count(tiers):
    text = all_text(tiers["kinds"])
    sites = rows(ROOT / "data" / "sites.csv")
    assert not [s["site_id"] for s in sites if s["site_id"] in text or s["name"] in text]
    assert not [s for s in sites if s["lat"] in text or s["lon"] in text]
    # once the system names and category words are taken out, not a single digit is left: no count at all
    systems = rows(ROOT / "data" / "systems.csv")
    for name in sorted([s["name"] for s in systems] + list(UNROCA.values()), key=len, reverse=True):
        text = text.replace(name, "")
    assert re.findall(r"\d", text) == []
    assert {p.suffix for p in tiers["kinds"].iterdir()} == {".csv", ".md", ".html", ".json"}  # + the marker


def test_host_tier_discloses_no_site_or_coordinate(tiers):
    text = all_text(tiers["host"])
    sites = rows(ROOT / "data" / "sites.csv")
    assert not [s["site_id"] for s in sites if s["site_id"] in text]
    assert not [s["name"] for s in sites if s["name"] in text]
    assert not [s for s in sites if s["lat"] in text or s["lon"] in text]
    assert not list(tiers["host"].glob("*.geojson")) and not list(tiers["kinds"].glob("*.geojson"))
    assert list(tiers["full"].glob("depots.geojson"))


def test_full_tier_lists_every_site_with_coordinates(base_run, tiers):
    out, _ = base_run
    full = {r["site_id"]: r for r in rows(tiers["full"] / "sites.csv")}
    allocation = rows(out / "allocation.csv")
    assert set(full) == {r["site_id"] for r in allocation}
    for r in allocation:
        assert int(full[r["site_id"]][r["system_id"]]) == int(r["units"])
    site = next(s for s in rows(ROOT / "data" / "sites.csv") if s["site_id"] in full)
    assert full[site["site_id"]]["lat"] == site["lat"]


def test_unroca_table_matches_the_allocation(base_run, tiers):
    out, _ = base_run
    category = {r["system_id"]: r["unroca_category"] for r in rows(ROOT / "data" / "systems.csv")}
    expected = defaultdict(int)
    for r in rows(out / "allocation.csv"):
        expected[category[r["system_id"]], r["host_id"]] += int(r["units"])
    table = {(r["category"], r["host"]): int(r["number_of_items"]) for r in rows(tiers["host"] / "unroca.csv")}
    assert table == dict(expected)
    for (c, h), n in expected.items():
        national = rows(tiers["host"] / f"unroca_{h}.csv")
        assert {(r["category"], int(r["number_of_items"])) for r in national} >= {(c, n)}
        assert all(r["reporting_host"] == h for r in national)


def resolved(run: Path) -> dict:
    """The scenario a run was solved with, as recorded in its folder."""
    return tomllib.loads((run / "scenario.resolved.toml").read_text(encoding="utf-8"))


def test_crews_and_financing(base_run, tiers):
    """Crews = units x crew_per_unit (systems.csv) x the recorded rotation factor; financing = units x
    value_musd per purchaser (purchasers.csv), counted at the recorded counted_share."""
    out, _ = base_run
    summary = json.loads((out / "summary.json").read_text())
    scenario = resolved(out)
    systems = {r["system_id"]: r for r in rows(ROOT / "data" / "systems.csv")}
    units = defaultdict(int)
    for r in rows(ROOT / "data" / "demand.csv"):
        units[r["system_id"]] += int(r["units"])
    rotation = float(scenario["report"]["crew_rotation_factor"])
    crews = {r["system_id"]: float(r["crews_to_train"]) for r in rows(tiers["host"] / "crews.csv")}
    assert crews == pytest.approx({w: n * float(systems[w]["crew_per_unit"]) * rotation for w, n in units.items()})
    assert summary["crews"]["by_system"] == crews
    counted = float(scenario["report"]["counted_share"])
    assert 0 < counted < 1  # the proposal: only "a portion" counts toward NATO's target
    expected = defaultdict(float)
    for r in rows(ROOT / "data" / "purchasers.csv"):
        expected[r["purchaser_id"]] += int(r["units"]) * float(systems[r["system_id"]]["value_musd"])
    by_purchaser = defaultdict(float)
    for r in rows(tiers["host"] / "financing.csv"):
        by_purchaser[r["purchaser_id"]] += float(r["value_musd"])
        assert float(r["counted_musd"]) == pytest.approx(counted * float(r["value_musd"]))
    assert by_purchaser == pytest.approx(dict(expected))


def test_counted_share_scales_financing(tmp_path, cache):
    out = tmp_path / "run"
    result = invoke("solve", BASE, "--out", out, "--no-maps", "--set", "report.counted_share=0.25")
    assert result.exit_code == 0, result.output
    assert invoke("report", out, "--tier", "host", "--out", tmp_path / "r").exit_code == 0
    for r in rows(tmp_path / "r" / "financing.csv"):
        assert float(r["counted_musd"]) == pytest.approx(0.25 * float(r["value_musd"]))


# --- verify ----------------------------------------------------------------------------------------------


def test_verify_passes_on_the_base_run(base_run):
    """Every rule group of ``checks.RULE_CHECKS`` and figure group of ``figures.FIGURE_CHECKS`` is run, after
    the id check and the five checks of the files themselves (hashes, GeoPackage, [data] paths, transit hours,
    the original scenario); the count printed is that list's length."""
    from depotsite.checks import RULE_CHECKS
    from depotsite.figures import FIGURE_CHECKS

    out, _ = base_run
    result = invoke("verify", out, "--scenario", BASE)
    assert result.exit_code == 0, result.output
    checks = verify_run(out, scenario=BASE).checks
    assert {name for name, _ in RULE_CHECKS + FIGURE_CHECKS} <= set(checks)
    assert len(checks) == len(RULE_CHECKS) + len(FIGURE_CHECKS) + 1 + 5
    text = " ".join(result.output.split())  # the terminal may wrap a long run-folder path's line
    assert f"every rule holds ({len(checks)} groups of checks)" in text
    assert "scenario.resolved.toml is base.toml plus 0 recorded override(s)" in text
    assert "transit hours recomputed from the roads (no cache)" in text


@pytest.fixture
def tampered(base_run, tmp_path):
    out, _ = base_run
    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    return copy


def violations(run: Path) -> list[str]:
    result = invoke("verify", run)
    assert result.exit_code == 6, result.output
    return verify_run(run).violations


def test_verify_catches_a_unit_moved_to_another_site(tampered):
    allocation = rows(tampered / "allocation.csv")
    donor = next(r for r in allocation if r["system_id"] == "leopard2")
    receiver = next(r for r in allocation if r["system_id"] == "leopard2" and r is not donor)
    donor["units"], receiver["units"] = str(int(donor["units"]) - 1), str(int(receiver["units"]) + 1)
    write_rows(tampered / "allocation.csv", allocation)
    found = violations(tampered)
    assert f"stock: {donor['site_id']} holds {donor['units']} leopard2 but ships {int(donor['units']) + 1}" in found


def _move(run: Path, system: str, source: str, target: str, host: str, units: int | None = None) -> None:
    """Move a site's stock of ``system`` (and its deliveries) to another site, consistently in both files."""
    allocation = rows(run / "allocation.csv")
    moved = 0
    for r in allocation:
        if r["site_id"] == source and r["system_id"] == system:
            moved = int(r["units"])
            r["site_id"], r["host_id"] = target, host
    assert moved and (units is None or units == moved)
    write_rows(run / "allocation.csv", allocation)
    deliveries = rows(run / "deliveries.csv")
    for r in deliveries:
        if r["site_id"] == source and r["system_id"] == system:
            r["site_id"] = target
    write_rows(run / "deliveries.csv", deliveries)


def test_verify_catches_a_host_cap_exceeded(tampered):
    """Move the most valuable stock held outside Poland to a Polish air base; Poland's share after the move
    is recomputed here from the run's allocation and systems.csv, and must exceed its recorded cap."""
    value = {r["system_id"]: float(r["value_musd"]) for r in rows(ROOT / "data" / "systems.csv")}
    allocation = rows(tampered / "allocation.csv")
    package = sum(int(r["units"]) * value[r["system_id"]] for r in allocation)
    poland = sum(int(r["units"]) * value[r["system_id"]] for r in allocation if r["host_id"] == "PL")
    moved = max(
        (r for r in allocation if r["host_id"] != "PL" and r["system_id"] == "patriot"), key=lambda r: int(r["units"])
    )
    after = poland + int(moved["units"]) * value["patriot"]
    cap = float(resolved(tampered)["hosts"]["PL"]["max_value_share"])
    assert after > cap * package  # the tampering breaks the cap
    _move(tampered, "patriot", moved["site_id"], "pl_lask", "PL")
    found = violations(tampered)
    assert (
        f"host cap: PL holds {100 * after / package:.2f}% of the package value, above its cap of {100 * cap:g}%"
    ) in found, found


def test_verify_catches_an_f16_on_an_army_base(tampered):
    """Move one site's F-16s to a training area: wrong kind, and shelters needed = units x shelters_per_unit
    against the site's aircraft_shelters (both from the data)."""
    source = next(r for r in rows(tampered / "allocation.csv") if r["system_id"] == "f16")
    f16 = next(r for r in rows(ROOT / "data" / "systems.csv") if r["system_id"] == "f16")
    shelters = float(f16["shelters_per_unit"])
    site = next(r for r in rows(ROOT / "data" / "sites.csv") if r["site_id"] == "pl_nowa_deba")
    held = sum(
        int(r["units"])
        for r in rows(tampered / "allocation.csv")
        if r["site_id"] == "pl_nowa_deba" and r["system_id"] == "f16"
    )
    _move(tampered, "f16", source["site_id"], "pl_nowa_deba", "PL")
    found = violations(tampered)
    assert "site kind: pl_nowa_deba is a army_base but f16 may only be at air_base" in found
    need = (held + int(source["units"])) * shelters
    assert f"capacity: pl_nowa_deba needs {need:g} aircraft_shelters but has {int(site['aircraft_shelters'])}" in found


def test_verify_catches_a_dropped_delivery(tampered):
    deliveries = rows(tampered / "deliveries.csv")
    dropped = deliveries.pop(0)
    write_rows(tampered / "deliveries.csv", deliveries)
    found = violations(tampered)
    demand = {(r["destination_id"], r["system_id"]): int(r["units"]) for r in rows(ROOT / "data" / "demand.csv")}
    need = demand[dropped["destination_id"], dropped["system_id"]]
    got = need - int(dropped["units"])
    assert f"demand: {dropped['destination_id']} receives {got} {dropped['system_id']} but needs {need}" in found


def test_verify_catches_an_input_changed_after_the_run(tmp_path, cache):
    demand = tmp_path / "demand.csv"
    shutil.copy(ROOT / "data" / "demand.csv", demand)
    out = tmp_path / "run"
    assert invoke("solve", BASE, "--out", out, "--no-maps", "--set", f"data.demand={demand}").exit_code == 0
    assert verify_run(out).ok
    demand.write_text(demand.read_text().replace("ua_kyiv,patriot,2", "ua_kyiv,patriot,3"))
    found = violations(out)
    assert len(found) == 1 and found[0].startswith(f"input demand ({demand}) changed after the run: SHA-256 ")


def test_verify_catches_a_reported_term_that_does_not_match(tampered):
    summary = json.loads((tampered / "summary.json").read_text())
    summary["terms"]["risk"]["value"] -= 1.0
    (tampered / "summary.json").write_text(json.dumps(summary))
    assert any(v.startswith("objective: summary.json reports risk") for v in violations(tampered))
