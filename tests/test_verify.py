"""A table of tamperings of one solved run, each caught by ``verify`` with a message naming it; and the
post-solve check that keeps a posture breaking its own rules from ever being written.

The run is a tiny bring-your-own-matrix scenario with every rule family active (no road network, solves
in well under a second): five hosts in two groups, nine sites of four kinds, three systems with lots,
caps, minimum hosts, a deadline and host-loss resilience, site limits, a budget, forced and excluded
sites and hosts.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import invoke
from depotsite.tables import file_sha256
from depotsite.verify import verify_run
from instances import HEADERS

RELEASE_H = {"A": 10.0, "B": 12.0, "C": 20.0, "D": 8.0, "E": 5.0}


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)


def build(folder: Path) -> Path:
    """Write the tables, the matrix and the scenario; return the scenario file."""
    write_csv(
        folder / "hosts.csv",
        ["host_id", "name", "group", "release_delay_h"],
        [
            ["A", "Alpha", "north", 10],
            ["B", "Bravo", "north", 12],
            ["C", "Charlie", "south", ""],
            ["D", "Delta", "south", 8],
            ["E", "Echo", "south", 5],
        ],
    )
    # site, host, kind, vehicle bays, aircraft shelters, dispatch per day, fixed cost
    sites = [
        ("a1", "A", "army_base", 30, 0, 10, 5),
        ("a2", "A", "air_base", 2, 10, 10, 8),
        ("b1", "B", "army_base", 30, 0, 8, 4),
        ("b2", "B", "air_base", 0, 8, 10, 6),
        ("c1", "C", "logistics_hub", 40, 0, 12, 3),
        ("c2", "C", "air_base", 0, 6, 10, 7),
        ("d1", "D", "army_base", 25, 0, 10, 2),
        ("d2", "D", "rail_hub", 20, 0, 10, 1),
        ("e1", "E", "army_base", 50, 0, 20, 1),
    ]
    write_csv(
        folder / "sites.csv",
        HEADERS["sites"],
        [
            [s, s.upper(), h, 50 + i * 0.1, 20 + i * 0.2, kind, bays, shelters, dispatch, cost, "test"]
            for i, (s, h, kind, bays, shelters, dispatch, cost) in enumerate(sites)
        ],
    )
    write_csv(
        folder / "systems.csv",
        HEADERS["systems"],
        [
            ["tank", "Tank", "I", "tracked", 5, 1, 0, 4, 2, "army_base;logistics_hub;rail_hub"],
            ["jet", "Jet", "IV", "air", 20, 0, 1, 2, 1, "air_base"],
            ["launcher", "Launcher", "III", "wheeled", 3, 1, 0, 3, 1, "army_base;logistics_hub"],
        ],
    )
    write_csv(
        folder / "destinations.csv",
        ["destination_id", "name", "lat", "lon", "kind"],
        [["x", "X", 50.4, 30.5, "city"], ["y", "Y", 49.8, 24.0, "air_base"], ["z", "Z", 48.5, 35.0, "city"]],
    )
    write_csv(
        folder / "demand.csv",
        ["destination_id", "system_id", "units"],
        [
            ["x", "tank", 6],
            ["y", "tank", 4],
            ["z", "tank", 2],
            ["x", "jet", 3],
            ["z", "jet", 2],
            ["y", "launcher", 4],
            ["z", "launcher", 2],
        ],
    )
    base = {"a1": 20, "a2": 22, "b1": 15, "b2": 18, "c1": 25, "c2": 24, "d1": 30, "d2": 12, "e1": 5}
    hours = [
        [s, d, w, f"{base[s] + (3 + i) * j + 2 * k + 0.25 * i:.2f}"]
        for i, (s, *_) in enumerate(sites)
        for j, d in enumerate("xyz")
        for k, w in enumerate(("tank", "jet", "launcher"))
        if (s, d) != ("d1", "z")
    ]  # d1 -> z: unreachable
    write_csv(folder / "matrix.csv", ["site_id", "destination_id", "system_id", "hours"], hours)
    (folder / "tiny.toml").write_text("""name = "tiny"
[data]
hosts = "hosts.csv"
sites = "sites.csv"
systems = "systems.csv"
destinations = "destinations.csv"
demand = "demand.csv"
travel_times = "matrix.csv"

[network]
release_delay_h = 20

[objective]
time = "mean"                    # the tamperings below were written for this measure's posture
time_weight = 1.0
risk_weight = 0.5
cost_weight = 0.1

[hosts.A]
max_value_share = 0.5
[hosts.B]
max_unit_share = { tank = 0.5 }
threat = 0.2

[groups.north]
max_value_share = 0.7
max_unit_share = { jet = 0.8 }

[systems.tank]
min_hosts = 2
max_host_share = 0.5
deadline_h = 45
resilience = { lose_hosts = 1, keep_fraction = 0.5 }

[systems.jet]
min_hosts = 2
priority = 2

[constraints]
max_sites = 6
budget_musd = 34
force_open = ["c1"]
exclude_sites = ["d2"]
exclude_hosts = ["E"]
""")
    return folder / "tiny.toml"


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """One solved run of the tiny scenario; every tampering edits a copy of it."""
    folder = tmp_path_factory.mktemp("tiny")
    scenario = build(folder)
    result = invoke("solve", scenario, "--out", folder / "run", "--no-maps", "--set", "objective.cost_weight=0.1")
    assert result.exit_code == 0, result.output
    assert verify_run(folder / "run", scenario=scenario).ok
    return folder / "run"


# --- editing a run folder -----------------------------------------------------------------------------------


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as stream:
        return list(csv.DictReader(stream))


def write_rows(path: Path, data: list[dict[str, str]], header: list[str] | None = None) -> None:
    with path.open("w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=header or list(data[0]))
        writer.writeheader()
        writer.writerows(data)


def edit_json(path: Path, change: Callable[[dict], None]) -> None:
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc, indent=2))


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def matrix(run: Path) -> dict[tuple[str, str, str], float]:
    return {
        (r["site_id"], r["destination_id"], r["system_id"]): float(r["hours"]) for r in rows(run.parent / "matrix.csv")
    }


def shift(
    run: Path, system: str, source: str, target: str, units: int | None = None, destination: str | None = None
) -> int:
    """Move stock of ``system`` from ``source`` to ``target`` with its deliveries, in both files, with the
    target's own transit and available hours (so only the rule the move breaks is reported)."""
    hours, host = matrix(run), {s["site_id"]: s["host_id"] for s in rows(run.parent / "sites.csv")}
    deliveries = rows(run / "deliveries.csv")
    moved = 0
    for r in deliveries:
        if r["site_id"] != source or r["system_id"] != system or destination not in (None, r["destination_id"]):
            continue
        n = int(r["units"]) if units is None else min(int(r["units"]), units - moved)
        if n <= 0:
            continue
        transit = hours.get((target, r["destination_id"], system), float(r["transit_h"]))
        r["units"] = str(int(r["units"]) - n)
        deliveries.append(
            {
                **r,
                "site_id": target,
                "units": str(n),
                "transit_h": f"{transit:.4f}",
                "available_h": f"{RELEASE_H[host[target]] + transit:.4f}",
            }
        )
        moved += n
    assert moved and (units is None or moved == units), (source, system, moved)
    write_rows(run / "deliveries.csv", [r for r in deliveries if int(r["units"]) > 0])
    allocation = rows(run / "allocation.csv")
    for r in allocation:
        if r["site_id"] == source and r["system_id"] == system:
            r["units"] = str(int(r["units"]) - moved)
    target_row = next((r for r in allocation if r["site_id"] == target and r["system_id"] == system), None)
    if target_row is None:
        allocation.append({"site_id": target, "host_id": host[target], "system_id": system, "units": str(moved)})
    else:
        target_row["units"] = str(int(target_row["units"]) + moved)
    write_rows(run / "allocation.csv", [r for r in allocation if int(r["units"]) > 0])
    return moved


def held(run: Path, site: str, system: str) -> int:
    return sum(
        int(r["units"]) for r in rows(run / "allocation.csv") if r["site_id"] == site and r["system_id"] == system
    )


def copy_run(run: Path, folder: Path) -> Path:
    """A copy of the run and of its inputs, the copy's manifest and resolved scenario naming the copied inputs."""
    shutil.copytree(run.parent, folder)
    for name in ("manifest.json", "scenario.resolved.toml", "summary.json"):
        path = folder / "run" / name
        path.write_text(path.read_text().replace(str(run.parent), str(folder)))
    reseal(folder / "run")
    assert verify_run(folder / "run").ok
    return folder / "run"


def reseal(run: Path) -> None:
    """Rewrite the manifest's output SHA-256 as a careful tamperer would, so the rule itself must catch it."""
    edit_json(
        run / "manifest.json",
        lambda m: m["outputs"].update(
            {name: file_sha256(run / name) for name in m["outputs"] if (run / name).is_file()}
        ),
    )


def first(run: Path, name: str, **match: str) -> dict[str, str]:
    return next(r for r in rows(run / name) if all(r[k] == v for k, v in match.items()))


# --- the tamperings: what each edits, and the violation that must name it --------------------------------


def drop_delivery(run: Path) -> None:
    write_rows(run / "deliveries.csv", rows(run / "deliveries.csv")[1:])


def extra_stock(run: Path) -> None:
    allocation = rows(run / "allocation.csv")
    allocation[0]["units"] = str(int(allocation[0]["units"]) + 1)
    write_rows(run / "allocation.csv", allocation)


def redirect_data(run: Path) -> None:
    copy = run.parent / "edited" / "demand.csv"
    copy.parent.mkdir(exist_ok=True)
    copy.write_text((run.parent / "demand.csv").read_text().replace("x,tank,6", "x,tank,60"))
    replace(run / "scenario.resolved.toml", str(run.parent / "demand.csv"), str(copy))


def loosen_min_hosts(run: Path) -> None:
    """The issue's case: min_hosts 2 -> 1 and the share cap and resilience removed, every tank in one host."""
    text = (run / "scenario.resolved.toml").read_text()
    section = text[text.index("[systems.tank]") :]
    loosened = section.replace("min_hosts = 2", "min_hosts = 1").replace("max_host_share = 0.5\n", "")
    loosened = loosened.replace("resilience = { lose_hosts = 1, keep_fraction = 0.5 }\n", "")
    (run / "scenario.resolved.toml").write_text(text.replace(section, loosened))
    for source in ("b1", "c1", "d1"):
        if held(run, source, "tank"):
            shift(run, "tank", source, "a1")


def remove_share_cap(run: Path) -> None:
    replace(run / "scenario.resolved.toml", "max_host_share = 0.5\n", "")


def edit_summary(*path: str, change: Callable[[object], object]) -> Callable[[Path], None]:
    def tamper(run: Path) -> None:
        def apply(doc: dict) -> None:
            node = doc
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = change(node[path[-1]])

        edit_json(run / "summary.json", apply)

    return tamper


def edit_cell(name: str, column: str, change: Callable[[str], str], **match: str) -> Callable[[Path], None]:
    def tamper(run: Path) -> None:
        table = rows(run / name)
        row = next(r for r in table if all(r[k] == v for k, v in match.items()))
        row[column] = change(row[column])
        write_rows(run / name, table)

    return tamper


def edit_feature(name: str, change: Callable[[dict], None]) -> Callable[[Path], None]:
    return lambda run: edit_json(run / name, lambda doc: change(doc["features"][0]))


def move_to_excluded(run: Path) -> None:
    shift(run, "tank", "a1", "d2")


def open_extra_site(run: Path) -> None:
    edit_json(run / "summary.json", lambda s: s["open_sites"].append("d1"))


def close_forced_site(run: Path) -> None:
    edit_json(run / "summary.json", lambda s: s["open_sites"].remove("c1"))


def unreachable_route(run: Path) -> None:
    source = next(
        r["site_id"] for r in rows(run / "deliveries.csv") if (r["destination_id"], r["system_id"]) == ("z", "tank")
    )
    shift(run, "tank", source, "d1", destination="z")


def all_jets_in_c(run: Path) -> None:
    for source in ("a2", "b2"):
        if held(run, source, "jet"):
            shift(run, "jet", source, "c2")


def jets_north(run: Path) -> None:
    shift(run, "jet", "c2", "a2")


def tanks_to_a(run: Path) -> None:
    shift(run, "tank", "b1", "a1", units=2)


def late_tanks(run: Path) -> None:
    source = next(
        r["site_id"]
        for r in rows(run / "deliveries.csv")
        if (r["destination_id"], r["system_id"]) == ("x", "tank") and int(r["units"]) >= 2
    )
    shift(run, "tank", source, "c1", units=2, destination="x")


def half_lot(run: Path) -> None:
    shift(run, "tank", "b1", "d1", units=1, destination="x")


def edit_cached_matrix(run: Path) -> None:
    replace(run.parent / "matrix.csv", "b1,x,tank,15.50", "b1,x,tank,1.50")


def manifest_transit(run: Path) -> None:
    edit_json(run / "manifest.json", lambda m: m["travel_times"].update(sha256="0" * 64))


@dataclass(frozen=True)
class Tampering:
    name: str
    tamper: Callable[[Path], None]
    expected: str  # a fragment of the violation that names it
    with_scenario: bool = False  # verify with --scenario ORIGINAL


TAMPERINGS = [
    Tampering("demand", drop_delivery, "demand: "),
    Tampering("stock equals shipments", extra_stock, "but ships"),
    Tampering(
        "capacity", lambda run: shift(run, "launcher", "a1", "a2"), "capacity: a2 needs 3 vehicle_bays but has 2"
    ),
    Tampering(
        "site kind",
        lambda run: shift(run, "jet", "a2", "a1"),
        "site kind: a1 is a army_base but jet may only be at air_base",
    ),
    Tampering("lots", half_lot, "min lot: d1 holds 1 tank, below the lot of 2"),
    Tampering("unit cap", tanks_to_a, "host cap: A holds 8 tank, above 50% of 12"),
    Tampering("resilience", tanks_to_a, "resilience: losing A leaves 4 tank, needs 6"),
    Tampering("value cap", jets_north, "host cap: A holds 66.85% of the package value, above its cap of 50%"),
    Tampering("group unit cap", jets_north, "group cap: north holds 5 jet, above 80% of 5"),
    Tampering("group value cap", jets_north, "group cap: north (A, B) holds 100.00% of the value, above 70%"),
    Tampering("min hosts", all_jets_in_c, "min hosts: jet is in 1 host(s) (C), needs 2"),
    Tampering("max sites", open_extra_site, "max sites: 7 sites open, at most 6 allowed"),
    Tampering("budget", open_extra_site, "budget: open sites cost 35 M USD, above 34"),
    Tampering("forced site", close_forced_site, "force open: c1 is not open"),
    Tampering("excluded site", move_to_excluded, "exclusion: d2 is open or holds stock but is excluded"),
    Tampering("excluded host", lambda run: shift(run, "launcher", "a1", "e1"), "exclusion: e1 is open or holds"),
    Tampering(
        "deadline",
        late_tanks,
        "deadline: the last of 2 tank from c1 reaches x at 46.0 h (its wait in the dispatch queue included), "
        "after the 45 h deadline",
    ),
    Tampering("unreachable route", unreachable_route, "route: d1 -> z for tank is not reachable"),
    Tampering(
        "transit hours",
        edit_cell(
            "deliveries.csv",
            "transit_h",
            lambda h: f"{float(h) + 1:.4f}",
            site_id="b1",
            destination_id="x",
            system_id="tank",
        ),
        "transit: b1 -> x for tank reports 16.500 h; the travel times give 15.500 h",
    ),
    Tampering(
        "available_h",
        edit_cell(
            "deliveries.csv",
            "available_h",
            lambda h: f"{float(h) - 5:.4f}",
            site_id="b1",
            destination_id="x",
            system_id="tank",
        ),
        "available_h: b1 -> x for tank reports 22.500 h; release delay, transit and the dispatch queue give 27.500 h",
    ),
    Tampering(
        "host column",
        edit_cell("allocation.csv", "host_id", lambda h: "B", site_id="a1"),
        "host column: allocation.csv puts a1 in B, but sites.csv puts it in A",
    ),
    Tampering(
        "objective",
        edit_summary("objective", change=lambda v: v - 1),
        "objective: 56.7611 is below what the posture scores, 57.7611 (1 x time 37.6071 + 0.5 x "
        "risk 33.7079 + 0.1 x cost 33)",
    ),
    Tampering("objective above", edit_summary("objective", change=lambda v: v + 1), "(proven optimal) is above"),
    Tampering("status", edit_summary("status", change=lambda v: "feasible"), "status: summary.json reports 'feasible'"),
    Tampering(
        "gap",
        edit_summary("gap", change=lambda v: 0.05),
        "status: summary.json reports 'optimal' with a gap of 0.05, above the scenario's mip_gap of 0",
    ),
    Tampering(
        "risk term",
        edit_summary("terms", "risk", "value", change=lambda v: v - 1),
        "objective: summary.json reports risk",
    ),
    Tampering(
        "time term",
        edit_summary("terms", "time", "value", change=lambda v: v * 0.9),
        "objective: summary.json reports time",
    ),
    Tampering(
        "host share", edit_summary("host_value_shares", "C", change=lambda v: v - 10), "summary: host_value_shares.C is"
    ),
    Tampering(
        "group share",
        edit_summary("group_value_shares", "north", change=lambda v: 50.0),
        "summary: group_value_shares.north is 50.0",
    ),
    Tampering(
        "host units", edit_summary("host_units", "A", change=lambda v: {**v, "tank": 1}), "summary: host_units is"
    ),
    Tampering(
        "worst time",
        edit_summary("system_times_h", "tank", "worst", change=lambda v: v - 5),
        "summary: system_times_h.tank.worst is",
    ),
    Tampering(
        "crews",
        edit_summary("crews", "by_system", "tank", change=lambda v: 1.0),
        "summary: crews.by_system.tank is 1.0",
    ),
    Tampering(
        "depot units",
        edit_feature("depots.geojson", lambda f: f["properties"].update(units_tank=99)),
        "'tank': 99}; the allocation holds {",
    ),
    Tampering(
        "depot units of another system",
        edit_feature("depots.geojson", lambda f: f["properties"].update(units_jet=f["properties"]["units_jet"] + 5)),
        "depots.geojson: a1 shows units {",
    ),
    Tampering(
        "depot point",
        edit_feature("depots.geojson", lambda f: f["geometry"].update(coordinates=[0.0, 0.0])),
        "is drawn at [0.0, 0.0]",
    ),
    Tampering(
        "route hours",
        edit_feature("routes.geojson", lambda f: f["properties"].update(available_h=1.0)),
        "shows available_h 1.0, recomputed",
    ),
    Tampering(
        "route transit",
        edit_feature("routes.geojson", lambda f: f["properties"].update(transit_h=0.5)),
        "shows transit_h 0.5, the travel times give",
    ),
    Tampering(
        "route end",
        edit_feature("routes.geojson", lambda f: f["geometry"]["coordinates"].pop()),
        "not from the site to the destination",
    ),
    Tampering("data redirected", redirect_data, "data: [data] demand in scenario.resolved.toml is "),
    Tampering(
        "share cap removed",
        remove_share_cap,
        "scenario: systems.tank.max_host_share is '(unset)' in "
        "scenario.resolved.toml, but tiny.toml with the recorded overrides gives 0.5",
        with_scenario=True,
    ),
    Tampering(
        "min hosts loosened",
        loosen_min_hosts,
        "scenario: systems.tank.min_hosts is 1 in "
        "scenario.resolved.toml, but tiny.toml with the recorded overrides gives 2",
        with_scenario=True,
    ),
    Tampering("input matrix edited", edit_cached_matrix, "input travel_times ("),
    Tampering(
        "travel-time hash",
        manifest_transit,
        "travel times: the hours recomputed from the travel-time matrix differ from those the run used",
    ),
]


@pytest.mark.parametrize("case", TAMPERINGS, ids=[t.name for t in TAMPERINGS])
def test_every_tampering_is_caught_by_name(case, tiny_run, tmp_path):
    run = copy_run(tiny_run, tmp_path / "tiny")
    folder = run.parent
    case.tamper(run)
    reseal(run)
    found = verify_run(run, scenario=folder / "tiny.toml" if case.with_scenario else None).violations
    assert any(case.expected in v for v in found), found


def test_the_library_holds_at_least_thirty_tamperings():
    assert len({t.name for t in TAMPERINGS}) >= 30


def test_a_careless_tamperer_is_also_caught_by_the_output_hashes(tiny_run, tmp_path):
    run = copy_run(tiny_run, tmp_path / "tiny")
    extra_stock(run)
    found = verify_run(run).violations
    assert found[0].startswith("output allocation.csv changed after the run: SHA-256 ")
    assert any("but ships" in v for v in found)


def test_the_cli_exits_6_and_lists_the_violation(tiny_run, tmp_path):
    run = copy_run(tiny_run, tmp_path / "tiny")
    remove_share_cap(run)
    reseal(run)
    assert invoke("verify", run).exit_code == 0  # without the original, a consistent loosened run holds
    result = invoke("verify", run, "--scenario", run.parent / "tiny.toml")
    assert result.exit_code == 6, result.output
    assert "systems.tank.max_host_share is '(unset)' in scenario.resolved.toml" in " ".join(result.output.split())


def test_the_manifest_records_outputs_overrides_and_travel_times(tiny_run):
    from depotsite.checks import transit_sha256

    manifest = json.loads((tiny_run / "manifest.json").read_text())
    assert manifest["overrides"] == ["objective.cost_weight=0.1"]
    assert sorted(manifest["outputs"]) == [
        "allocation.csv",
        "deliveries.csv",
        "depots.geojson",
        "destinations.geojson",
        "layers.gpkg",
        "routes.geojson",
        "scenario.resolved.toml",
        "sites.geojson",
        "summary.json",
    ]
    assert all(file_sha256(tiny_run / name) == digest for name, digest in manifest["outputs"].items())
    hours = matrix(tiny_run)
    assert manifest["travel_times"] == {
        "source": str(tiny_run.parent / "matrix.csv"),
        "pairs": len(hours),
        "sha256": transit_sha256(hours),
        "exposure_sha256": transit_sha256(dict.fromkeys(hours, 0.0)),  # the matrix has no exposure_h column
    }


# --- malformed run files: a list of violations, never an exception ----------------------------------------


def write_bytes(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda run: (run / name).write_bytes(data)


MALFORMED = [
    ("summary not JSON", write_bytes("summary.json", b"{not json"), "summary.json: not valid JSON"),
    ("summary a list", write_bytes("summary.json", b"[1, 2]"), "summary.json: not a JSON object"),
    ("manifest not JSON", write_bytes("manifest.json", b"\x00\x01"), "manifest.json: not valid JSON"),
    ("manifest without inputs", write_bytes("manifest.json", b"{}"), "manifest.json: no 'inputs' table"),
    ("scenario not TOML", write_bytes("scenario.resolved.toml", b"[data"), "scenario.resolved.toml: not valid TOML"),
    (
        "bad units",
        edit_cell("allocation.csv", "units", lambda v: "abc", site_id="a1"),
        "allocation.csv line 2 (a1): units must be a number between 0 and 1,000,000, got 'abc'",
    ),
    (
        "missing column",
        lambda run: write_rows(
            run / "deliveries.csv",
            [{k: v for k, v in r.items() if k != "available_h"} for r in rows(run / "deliveries.csv")],
        ),
        "deliveries.csv: missing column 'available_h'",
    ),
    (
        "not UTF-8",
        write_bytes("allocation.csv", b"site_id,host_id,system_id,units\n\xff\xfe,A,tank,2\n"),
        "allocation.csv: not UTF-8 text (invalid byte at offset 32); save it as a UTF-8 CSV file",
    ),
    ("GeoJSON a list", write_bytes("depots.geojson", b"[]"), "depots.geojson: not a GeoJSON FeatureCollection"),
    (
        "terms a string",
        edit_summary("terms", change=lambda v: "none"),
        "objective, terms, status and gap: cannot be checked, a value is missing or malformed (AttributeError",
    ),
    ("missing output", lambda run: (run / "routes.geojson").unlink(), "missing routes.geojson"),
    (
        "input path a number",
        lambda run: edit_json(run / "manifest.json", lambda m: m["inputs"]["hosts"].update(path=5)),
        "manifest.json: no 'inputs' table of {path, sha256} entries",
    ),
    (
        "overrides a number",
        lambda run: edit_json(run / "manifest.json", lambda m: m.update(overrides=5)),
        "manifest.json: 'overrides' must be a list of key=value strings, got 5",
    ),
    (
        "open sites numbers",
        edit_summary("open_sites", change=lambda v: [1, 2]),
        "sites: summary.json lists unknown open site '1'",
    ),
]


@pytest.mark.parametrize("name, tamper, expected", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_run_file_is_a_violation(name, tamper, expected, tiny_run, tmp_path):
    run = copy_run(tiny_run, tmp_path / "tiny")
    tamper(run)
    result = invoke("verify", run)
    assert result.exit_code == 6, result.output
    assert any(v.startswith(expected) or expected in v for v in verify_run(run).violations), result.output


def test_verify_shares_no_code_with_the_model_the_solver_or_the_results(tiny_run):
    code = (
        "import sys; from depotsite.verify import verify_run; "
        f"assert verify_run({str(tiny_run)!r}).ok; "
        "print(sorted(m for m in sys.modules if m.split('.')[-1] in ('model', 'solve', 'results', 'export', "
        "'selfcheck', 'pyomo', 'highspy')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# --- travel times from the roads, never from the cache ------------------------------------------------------


FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def road_scenario(tmp_path, monkeypatch) -> Path:
    """Two sites and a destination on the three-node OSM fixture, with a private travel-time cache."""
    monkeypatch.setenv("DEPOTSITE_CACHE", str(tmp_path / "cache"))
    write_csv(tmp_path / "hosts.csv", ["host_id", "name", "group", "release_delay_h"], [["AA", "West", "", 1]])
    write_csv(
        tmp_path / "sites.csv",
        HEADERS["sites"],
        [
            ["a1", "A1", "AA", 0.0, 0.0, "army_base", 10, 0, 24, 0, "test"],
            ["a2", "A2", "AA", 0.0, 0.1, "army_base", 1, 0, 24, 0, "test"],
        ],
    )
    write_csv(
        tmp_path / "systems.csv",
        HEADERS["systems"],
        [["x", "X", "I", "wheeled", 1, 1, 0, 1, 1, "army_base"]],
    )
    write_csv(
        tmp_path / "destinations.csv", ["destination_id", "name", "lat", "lon", "kind"], [["c", "C", 0.0, 0.2, "city"]]
    )
    write_csv(tmp_path / "demand.csv", ["destination_id", "system_id", "units"], [["c", "x", 2]])
    (tmp_path / "roads.toml").write_text(f'''name = "roads"
[data]
hosts = "hosts.csv"
sites = "sites.csv"
systems = "systems.csv"
destinations = "destinations.csv"
demand = "demand.csv"
roads = "{FIXTURES / "tiny.osm"}"
boundaries = "{FIXTURES / "tiny_countries.geojson"}"
[network]
avoid_countries = []
[objective]
risk_weight = 0
''')
    return tmp_path / "roads.toml"


def halve_cached_hours(folder: Path) -> None:
    """Rewrite the cache entry with every transit time halved, sealed with a fresh checksum: a cache that
    passes its own integrity check but lies."""
    import json

    import numpy as np

    from depotsite.network.cache import load_entry, save_entry
    from depotsite.traveltimes import Leg

    (entry,) = folder.glob("travel-*.npz")
    with np.load(entry, allow_pickle=False) as data:
        key = json.loads(str(data["meta"]))["key"]
    loaded = load_entry(entry, key)
    assert loaded is not None
    legs, unreachable, warnings = loaded
    save_entry(
        entry,
        key,
        (
            {
                k: Leg(hours=leg.hours / 2, profile=leg.profile, road_km=leg.road_km, path=leg.path)
                for k, leg in legs.items()
            },
            unreachable,
            warnings,
        ),
    )


def test_an_edited_cache_entry_does_not_change_the_verdict(road_scenario, tmp_path):
    run = tmp_path / "run"
    assert invoke("solve", road_scenario, "--out", run, "--no-maps").exit_code == 0
    halve_cached_hours(tmp_path / "cache")
    assert verify_run(run).ok  # verify routes over the roads itself


def test_a_run_that_used_an_edited_cache_entry_is_caught(road_scenario, tmp_path):
    assert invoke("travel-times", road_scenario, "--out", tmp_path / "times.csv").exit_code == 0
    halve_cached_hours(tmp_path / "cache")
    run = tmp_path / "run"
    assert invoke("solve", road_scenario, "--out", run, "--no-maps").exit_code == 0
    found = verify_run(run).violations
    assert any(
        v.startswith("travel times: the hours recomputed from the roads (no cache) differ from those the run used")
        for v in found
    ), found
    assert any(v.startswith("transit: a1 -> c for x reports ") for v in found), found


def test_a_capacity_of_1e16_is_refused_before_the_solver(tmp_path):
    """The issue's case: one site with 1e16 vehicle bays made HiGHS report an empty posture as optimal.
    It is now an input error naming the cell and the bound, and nothing is written."""
    scenario = build(tmp_path)
    sites = rows(tmp_path / "sites.csv")
    line = 2 + [r["site_id"] for r in sites].index("c1")
    next(r for r in sites if r["site_id"] == "c1")["vehicle_bays"] = "1e16"
    write_rows(tmp_path / "sites.csv", sites)
    result = invoke("solve", scenario, "--out", tmp_path / "run", "--no-maps")
    assert result.exit_code == 1, result.output
    assert (
        f"sites.csv line {line} (c1): vehicle_bays must be a whole number between 0 and 1,000,000, got '1e16'"
        in " ".join(result.output.split())
    )
    assert not (tmp_path / "run").exists()


def hand_posture(
    stock: dict[tuple[str, str], int],
    ship: dict[tuple[str, str, str], int],
    *,
    reported: float,
    status: str = "optimal",
    gap: float = 0.0,
    **rules: dict,
):
    """A posture written by hand for two hosts, one site each, one destination needing 4 units (10 h from a,
    12 h from b); mean time only, unless ``rules`` say otherwise."""
    from depotsite.instance import build_instance
    from depotsite.posture import SolveOutcome
    from depotsite.results import summarise
    from instances import make_inputs, make_scenario, site, system, times

    inputs = make_inputs(
        hosts=["A", "B"], sites=[site("a", "A"), site("b", "B")], systems=[system("w")], demand={("d", "w"): 4}
    )
    travel = times({("a", "d", "w"): 10.0, ("b", "d", "w"): 12.0})
    p = build_instance(inputs, travel, make_scenario(**rules))
    outcome = SolveOutcome(status=status, objective=reported, bound=None, gap=gap, solve_s=0.0)
    opened = tuple(sorted({s for s, _ in stock}))
    return summarise(p, stock, ship, opened, outcome=outcome), p, travel


def test_write_run_refuses_a_posture_that_breaks_a_cap_and_writes_nothing(tmp_path):
    from depotsite.errors import NumericsError
    from depotsite.output.runfolder import write_run

    result, p, travel = hand_posture(
        {("a", "w"): 4}, {("a", "d", "w"): 4}, reported=10.0, systems={"w": {"max_host_share": 0.5}}
    )
    with pytest.raises(NumericsError) as caught:
        write_run(tmp_path / "run", result, p, travel)
    assert str(caught.value) == (
        "the solver's posture breaks its own rules (numerical trouble; nothing was written):\n"
        "  - host cap: A holds 4 w, above 50% of 4"
    )
    assert list(tmp_path.iterdir()) == []


def test_write_run_refuses_stock_that_is_not_shipped(tmp_path):
    from depotsite.errors import NumericsError
    from depotsite.output.runfolder import write_run

    result, p, travel = hand_posture(
        {("a", "w"): 2, ("b", "w"): 2}, {("a", "d", "w"): 2, ("b", "d", "w"): 1}, reported=8.0
    )
    with pytest.raises(NumericsError) as caught:
        write_run(tmp_path / "run", result, p, travel)
    assert caught.value.violations == ["demand: d receives 3 w but needs 4", "stock: b holds 2 w but ships 1"]
    assert list(tmp_path.iterdir()) == []


def test_write_run_refuses_an_objective_its_terms_do_not_give(tmp_path):
    from depotsite.errors import NumericsError
    from depotsite.output.runfolder import write_run

    result, p, travel = hand_posture(
        {("a", "w"): 2, ("b", "w"): 2}, {("a", "d", "w"): 2, ("b", "d", "w"): 2}, reported=0.0
    )
    with pytest.raises(NumericsError) as caught:
        write_run(tmp_path / "run", result, p, travel)
    assert caught.value.violations == [
        "objective: 0 is below what the posture scores, 11 (1 x time 11 + 0 x risk 50 + 0 x cost 0)"
    ]
    assert list(tmp_path.iterdir()) == []


def test_a_time_limit_posture_passes_with_a_looser_objective():
    """At the time limit an incumbent's auxiliary variables may be slack: its objective may exceed its terms."""
    from depotsite.errors import NumericsError
    from depotsite.selfcheck import check_posture

    stock, ship = {("a", "w"): 2, ("b", "w"): 2}, {("a", "d", "w"): 2, ("b", "d", "w"): 2}
    check_posture(*hand_posture(stock, ship, reported=12.5, status="time_limit", gap=0.1))
    with pytest.raises(NumericsError, match=r"objective: 12.5 \(proven optimal\) is above what the posture scores, 11"):
        check_posture(*hand_posture(stock, ship, reported=12.5))


@pytest.mark.parametrize("objective, ok", [(5010.5, True), (6260.5, True), (5000.0, False), (6300.0, False)])
def test_hhi_objective_lies_between_its_tangent_cuts_and_the_true_index(objective, ok):
    """3 units in A, 1 in B: true HHI 75^2 + 25^2 = 6250; three tangent points (0, 0.5, 1) give 5000 + 0."""
    from depotsite.errors import NumericsError
    from depotsite.selfcheck import check_posture

    posture = hand_posture(
        {("a", "w"): 3, ("b", "w"): 1},
        {("a", "d", "w"): 3, ("b", "d", "w"): 1},
        reported=objective,
        objective={"risk": "hhi", "risk_weight": 1.0, "hhi_tangents": 3},
    )
    if ok:
        check_posture(*posture)
    else:
        with pytest.raises(NumericsError, match="objective: "):
            check_posture(*posture)


@pytest.mark.parametrize("command", [("pareto", "--points", "3"), ("alternatives", "--count", "2")])
def test_the_trade_off_writers_check_every_posture_and_pass_real_solves(command, tiny_run, tmp_path):
    result = invoke(command[0], tiny_run.parent / "tiny.toml", *command[1:], "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
