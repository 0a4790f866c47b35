"""Command paths no other file runs end to end: ``alternatives``, ``report --with-hosts``, ``stress`` given a
scenario, every way a command ends in exit 3, and the manifest's entry for each road file.

The scenario ``three`` is solved by hand (no road network; each solve takes milliseconds): hosts A, B, C
with one army base each, a1 (room for 3 units, 1 h from d), b1 (room for 2, 2 h) and c1 (room for 10, 3 h);
6 units of one system x (value 1 each) for d; release delays 0; time alone in the objective. The optimum
fills the faster sites first: a1 3, b1 2, c1 1, mean (3 * 1 + 2 * 2 + 1 * 3) / 6 = 10/6 h.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest

from conftest import invoke
from depotsite.tables import UNROCA
from instances import HEADERS
from test_network import FIXTURES
from tinynet import write_network

OPTIMUM_H = 10 / 6


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as stream:
        return list(csv.DictReader(stream))


def write_tables(folder: Path, *, lat: float = 50.0) -> None:
    """The tables of ``three`` (sites at ``lat``, 0.1 degree apart in longitude; d east of them)."""
    write_csv(folder / "hosts.csv", HEADERS["hosts"], [[h, h, "", ""] for h in "ABC"])
    write_csv(
        folder / "sites.csv",
        HEADERS["sites"],
        [
            [s, s, h, lat, 0.1 * i, "army_base", bays, 0, 24, 0, "hand-made"]
            for i, (s, h, bays) in enumerate((("a1", "A", 3), ("b1", "B", 2), ("c1", "C", 10)))
        ],
    )
    write_csv(folder / "systems.csv", HEADERS["systems"], [["x", "Xsys", "I", "wheeled", 1, 1, 0, 1, 1, "army_base"]])
    write_csv(folder / "destinations.csv", HEADERS["destinations"], [["d", "D", lat, 0.2, "city"]])
    write_csv(folder / "demand.csv", HEADERS["demand"], [["d", "x", 6]])


TABLES = """hosts = "hosts.csv"
sites = "sites.csv"
systems = "systems.csv"
destinations = "destinations.csv"
demand = "demand.csv"
"""
RULES = """[network]
release_delay_h = 0
[objective]
time_weight = 1
risk_weight = 0
cost_weight = 0
"""


@pytest.fixture(scope="module")
def three(tmp_path_factory) -> Path:
    """The scenario file of ``three``, with its tables and a travel-time matrix beside it."""
    folder = tmp_path_factory.mktemp("three")
    write_tables(folder)
    write_csv(
        folder / "matrix.csv",
        ["site_id", "destination_id", "system_id", "hours"],
        [["a1", "d", "x", 1.0], ["b1", "d", "x", 2.0], ["c1", "d", "x", 3.0]],
    )
    path = folder / "three.toml"
    path.write_text(f'name = "three"\n[data]\n{TABLES}travel_times = "matrix.csv"\n{RULES}')
    return path


@pytest.fixture(scope="module")
def three_run(three, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "three"
    result = invoke("solve", three, "--out", out, "--no-maps")
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["terms"]["time"]["value"] == pytest.approx(OPTIMUM_H)
    return out


def flat(text: str) -> str:
    return " ".join(text.split())


# --- alternatives -------------------------------------------------------------------------------------------


def test_alternatives_command_finds_the_next_best_site_sets_by_hand(three, tmp_path):
    """The optimum opens {a1, b1, c1}. The other site sets that can hold 6 units: {a1, c1} (a1 3, c1 3:
    (3 + 9) / 6 = 2 h, +20%), {b1, c1} (b1 2, c1 4: (4 + 12) / 6 = 8/3 h, +60%) and {c1} (3 h, +80%); {a1, b1}
    holds only 5. Within 100% and at most two: {a1, c1}, then {b1, c1}. Their share moves: closing b1 moves
    B's third of the package to C (16.7% -> 50%); closing a1 moves A's half to C (16.7% -> 66.7%)."""
    out = tmp_path / "alternatives"
    result = invoke("alternatives", three, "--count", 2, "--within", 100, "--out", out)
    assert result.exit_code == 0, result.output
    table = rows(out / "alternatives.csv")
    assert [(r["rank"], r["open_sites"], r["run"]) for r in table] == [
        ("0", "a1;b1;c1", "optimum"),
        ("1", "a1;c1", "alternative_01"),
        ("2", "b1;c1", "alternative_02"),
    ]
    assert [float(r["time_h"]) for r in table] == pytest.approx([OPTIMUM_H, 2.0, 8 / 3], abs=1e-4)
    assert [r["difference"] for r in table] == [
        "optimum",
        "closes b1; shares B 33.3->0.0%, C 16.7->50.0% (objective +20.00%)",
        "closes a1; shares A 50.0->0.0%, C 16.7->66.7% (objective +60.00%)",
    ]
    for r in table:  # each a run folder that verifies against the scenario it came from
        assert invoke("verify", out / r["run"], "--scenario", three).exit_code == 0
    text = flat(result.output)
    assert f"three: 2 alternative(s) within 100% of {OPTIMUM_H:.4g}" in text
    assert "optimum: a1, b1, c1" in text and f"wrote {out}" in text


def test_alternatives_within_a_tight_allowance_finds_only_what_it_allows(three, tmp_path):
    """Within 19% nothing qualifies (the next best is +20%): the optimum alone is written."""
    out = tmp_path / "none"
    result = invoke("alternatives", three, "--count", 3, "--within", 19, "--out", out)
    assert result.exit_code == 0, result.output
    assert [r["run"] for r in rows(out / "alternatives.csv")] == ["optimum"]
    assert f"three: 0 alternative(s) within 19% of {OPTIMUM_H:.4g}" in flat(result.output)


# --- report --with-hosts ------------------------------------------------------------------------------------


def test_report_kinds_tier_with_hosts_names_the_hosts_and_still_no_number(three_run, tmp_path):
    """The kinds tier lists the system, its UN Register category and, with --with-hosts, the hosts that hold
    it (A, B and C all hold x); without it, no host. Neither discloses a count, a site or a coordinate."""
    plain, named = tmp_path / "plain", tmp_path / "named"
    assert invoke("report", three_run, "--tier", "kinds", "--out", plain).exit_code == 0
    result = invoke("report", three_run, "--tier", "kinds", "--out", named, "--with-hosts")
    assert result.exit_code == 0, result.output
    assert rows(plain / "kinds.csv") == [
        {"system": "Xsys", "UNROCA category": "I", "category description": UNROCA["I"]}
    ]
    assert rows(named / "kinds.csv") == [
        {"system": "Xsys", "UNROCA category": "I", "category description": UNROCA["I"], "hosts": "A, B, C"}
    ]
    text = (named / "report.md").read_text()
    assert "| Xsys | I |" in text and "A, B, C" in text
    for site in ("a1", "b1", "c1"):
        assert site not in text
    assert not any(ch.isdigit() for ch in text.replace(UNROCA["I"], ""))
    assert "A, B, C" in flat(result.output)  # the command prints the Markdown it wrote


# --- stress given a scenario --------------------------------------------------------------------------------


def test_stress_given_a_scenario_solves_it_first_and_ranks_the_losses(three, three_run, tmp_path):
    """Stress of the optimum a1 3, b1 2, c1 1 (package 6 units of value 1). Losing A: 3 short (50%), what
    is left arrives from b1 (2 at 2 h) and c1 (1 at 3 h): mean 7/3, worst 3. Losing B: 2 short (33.3%), a1 3
    at 1 h and c1 1 at 3 h: mean 6/4, worst 3. Losing C: 1 short (16.7%), a1 3 and b1 2: mean 7/5, worst 2.
    Given the scenario, the command gives what it gives for the run folder of the same scenario."""
    out = tmp_path / "stress"
    result = invoke("stress", three, "--out", out, "--lose", 1)
    assert result.exit_code == 0, result.output
    table = rows(out / "stress.csv")
    expected = [
        ("A", 50.0, 3, 7 / 3, 3.0),
        ("B", 100 * 2 / 6, 2, 6 / 4, 3.0),
        ("C", 100 * 1 / 6, 1, 7 / 5, 2.0),
    ]
    assert [r["lost_hosts"] for r in table] == [e[0] for e in expected]
    for r, (_, pct, short, mean_h, worst_h) in zip(table, expected, strict=True):
        assert float(r["value_short_pct"]) == pytest.approx(pct, abs=1e-4)
        assert float(r["value_lost_pct"]) == pytest.approx(pct, abs=1e-4)  # no spare stock elsewhere
        assert (int(r["units_short"]), int(r["x_short"]), r["systems_short"]) == (short, short, "x")
        assert float(r["x_mean_h"]) == pytest.approx(mean_h, abs=1e-4)
        assert float(r["x_worst_h"]) == pytest.approx(worst_h, abs=1e-4)
    text = flat(result.output)
    assert "three: losing 1 host(s), worst first by the value that cannot be delivered" in text
    assert f"wrote {out}" in text
    of_run = tmp_path / "stress_of_run"
    assert invoke("stress", three_run, "--out", of_run, "--lose", 1).exit_code == 0
    assert rows(of_run / "stress.csv") == table


# --- exit 3: every way a command finds no posture -----------------------------------------------------------

COMMANDS = {
    "solve": ("solve", "--no-maps"),
    "pareto": ("pareto", "--points", "2"),
    "alternatives": ("alternatives", "--count", "1"),
    "stress": ("stress",),
}
INFEASIBLE = {
    # no route within the deadline: the fastest, a1, delivers at 1 h > 0.5 h; refused before any model row
    "deadline": (
        ["systems.x.deadline_h=0.5"],
        "6 Xsys (x) for d: no site can deliver within the 0.5 h deadline (fastest: a1 at 1.0 h); "
        "raise systems.x.deadline_h or add a closer site",
    ),
    # a value cap of 20% of 6 units lets each host hold 1: 3 of 6 in all; HiGHS proves it, the explanation
    # names the caps (relaxing any one alone would let that host hold the other 3)
    "caps": (
        [f"hosts.{h}.max_value_share=0.2" for h in "ABC"],
        "relaxing any one of these alone would make it feasible: host caps (A value 20%, B value 20%, C value 20%)",
    ),
    # one open site, and C (the only site with room for 6) capped at half the package: each site alone holds
    # at most 3; relaxing either rule alone gives a posture (a1 3 + c1 3, or c1 6)
    "site_limit": (
        ["constraints.max_sites=1", "hosts.C.max_value_share=0.5"],
        "relaxing any one of these alone would make it feasible: ",
    ),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("why", sorted(INFEASIBLE))
def test_every_solving_command_exits_3_with_the_explanation(command, why, three, tmp_path):
    """Exit 3 means the scenario has no posture (``errors.InfeasibleError``, ``cli.common.guarded``): each
    command that solves reports it with the reason in domain words and writes nothing."""
    overrides, reason = INFEASIBLE[why]
    out = tmp_path / "out"
    name, *options = COMMANDS[command]
    sets = [arg for o in overrides for arg in ("--set", o)]
    result = invoke(name, three, "--out", out, *options, *sets)
    assert result.exit_code == 3, result.output
    text = flat(result.output)
    assert f"error: the scenario is infeasible: - {reason}" in text or (
        "error: the scenario is infeasible: - " in text and reason in text.split("error: ", 1)[1]
    ), text
    assert "Traceback" not in result.output
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_a_rule_that_no_allowed_site_can_meet_is_exit_3_before_the_solver(three, tmp_path):
    """Keeping half of x (3 units) after losing one host, with B and C excluded: nothing can be stored outside
    A, so the resilience row for losing A reads 0 >= 3 and can never hold. The build says so in one message
    (``rows.constraint``) instead of handing HiGHS a constant row, and pyomo's own log of the exception it
    passed on is not shown: exit 3 is an answer, not a failure."""
    sets = [
        "constraints.exclude_hosts=B,C",
        "systems.x.resilience.lose_hosts=1",
        "systems.x.resilience.keep_fraction=0.5",
    ]
    result = invoke("solve", three, "--out", tmp_path / "out", *[a for o in sets for a in ("--set", o)])
    assert result.exit_code == 3, result.output
    assert flat(result.output).endswith(
        "error: the scenario is infeasible: - host_loss_resilience x/A cannot hold: no allowed site left for it "
        "(check site kinds, exclusions and deadlines)"
    ), result.output
    assert "Rule failed" not in result.output and "Constructing component" not in result.output
    assert list(tmp_path.iterdir()) == []


# --- the manifest's road files ------------------------------------------------------------------------------


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def road_run(folder: Path, data: str) -> Path:
    """``three`` on the equator with the given [data] road lines (no avoided country); its scenario file."""
    write_tables(folder, lat=0.0)
    path = folder / "roads.toml"
    rules = RULES.replace("[network]\n", "[network]\navoid_countries = []\n")
    path.write_text(f'name = "roads"\n[data]\n{TABLES}{data}\n{rules}')
    return path


def solve_manifest(scenario: Path, out: Path) -> dict:
    result = invoke("solve", scenario, "--out", out, "--no-maps")
    assert result.exit_code == 0, result.output
    return json.loads((out / "manifest.json").read_text())


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DEPOTSITE_CACHE", str(tmp_path / "cache"))


def test_the_manifest_hashes_each_file_of_a_road_extract_under_its_own_role(tmp_path, private_cache):
    """A road extract folder is two files: ``roads_nodes`` is its nodes.csv.gz and ``roads_edges`` its
    edges.csv.gz, each with the SHA-256 of that file; no ``roads`` entry stands for the folder."""
    paths = write_network(tmp_path / "net", {1: 0.0, 2: 0.1, 3: 0.2}, [(1, 2, 11.1), (2, 3, 11.1)], {"AA": (-1.0, 0.5)})
    scenario = road_run(tmp_path, f'roads = "{paths["roads"]}"\nboundaries = "{paths["boundaries"]}"')
    inputs = solve_manifest(scenario, tmp_path / "run")["inputs"]
    assert Path(inputs["roads_nodes"]["path"]) == paths["roads"] / "nodes.csv.gz"
    assert Path(inputs["roads_edges"]["path"]) == paths["roads"] / "edges.csv.gz"
    assert Path(inputs["boundaries"]["path"]) == paths["boundaries"]
    assert "roads" not in inputs and "travel_times" not in inputs
    for entry in inputs.values():
        assert entry["sha256"] == sha256(Path(entry["path"]))


def test_the_manifest_hashes_an_osm_file_as_roads(tmp_path, private_cache):
    """A single .osm file is the road source itself: one ``roads`` entry naming it."""
    osm, boundaries = FIXTURES / "tiny.osm", FIXTURES / "tiny_countries.geojson"
    scenario = road_run(tmp_path, f'roads = "{osm}"\nboundaries = "{boundaries}"')
    inputs = solve_manifest(scenario, tmp_path / "run")["inputs"]
    assert Path(inputs["roads"]["path"]) == osm and inputs["roads"]["sha256"] == sha256(osm)
    assert Path(inputs["boundaries"]["path"]) == boundaries
    assert not {"roads_nodes", "roads_edges", "travel_times"} & set(inputs)


def test_the_manifest_of_a_matrix_run_names_the_matrix_and_no_road_file(three_run):
    """A run on a brought travel-time matrix read no road file and no boundaries."""
    inputs = json.loads((three_run / "manifest.json").read_text())["inputs"]
    assert Path(inputs["travel_times"]["path"]).name == "matrix.csv"
    assert inputs["travel_times"]["sha256"] == sha256(Path(inputs["travel_times"]["path"]))
    assert not {"roads", "roads_nodes", "roads_edges", "boundaries"} & set(inputs)


@pytest.mark.parametrize("tier", ["full", "host"])
def test_report_refuses_with_hosts_on_a_tier_that_names_the_hosts_already(three_run, tmp_path, tier):
    """--with-hosts changes the kinds tier only: on the others it is an input error (exit 1), and nothing is
    written, rather than an option silently ignored."""
    out = tmp_path / "report"
    result = invoke("report", three_run, "--tier", tier, "--out", out, "--with-hosts")
    assert result.exit_code == 1, result.output
    assert (
        "--with-hosts applies to --tier kinds only (the full and host tiers name every host already): drop "
        "--with-hosts, or use --tier kinds" in flat(result.output)
    )
    assert not out.exists()


def test_report_names_a_bad_tier_and_a_misplaced_with_hosts_at_once(three_run, tmp_path):
    result = invoke("report", three_run, "--tier", "public", "--out", tmp_path / "r", "--with-hosts")
    assert result.exit_code == 1, result.output
    text = flat(result.output)
    assert "2 problems" in text
    assert "--tier 'public': use one of full, host, kinds" in text
    assert "--with-hosts applies to --tier kinds only" in text
