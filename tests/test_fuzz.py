"""Property-based fuzzing of the command line: one table cell, one scenario value or one ``--set`` value is
replaced by a drawn oddity (huge, negative, inf, nan, empty, unicode, whitespace, markup, very long), and
``validate`` or ``solve`` must answer with a documented exit code, never a traceback or an internal error.

The run is reproducible (derandomised, no example database). ``DEPOTSITE_FUZZ_EXAMPLES`` sets the number
of ``validate`` examples over the three fuzzers (default 200; ``solve`` gets a tenth of it, at least 10);
set it to thousands for a long hunt.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import ROOT, invoke
from instances import HEADERS
from test_byo_matrix import write_csv

EXAMPLES = int(os.environ.get("DEPOTSITE_FUZZ_EXAMPLES", "200"))
TABLES = ("hosts", "sites", "systems", "destinations", "demand")
VALIDATE_EXIT = {0, 1}
SOLVE_EXIT = {0, 1, 3, 4, 5}


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=max(examples, 1),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


ODD_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\t",
        "  7  ",
        "1e16",
        "1e308",
        "1e400",
        "-1e16",
        "-1",
        "-0",
        "0",
        "0.0000001",
        "1e-320",
        str(2**70),
        "inf",
        "-inf",
        "nan",
        "NaN",
        "Infinity",
        "1_000",
        "٣",
        "0x10",
        "1,5",
        "1;2",
        '"',
        "'",
        "[bold]x[/]",
        "[/]",
        ":x:",
        "[red]",
        "é",
        "hôst",
        "site_é",
        "日本",
        "\u200b",
        "\x00",
        "\x7f",
        "a\nb",
        "9" * 5_000,
        "x" * 5_000,
        "army_base",
        "air_base;port",
        "VII",
        "PL",
        "f16",
        "ua_kyiv",
    ]
)
CELL = st.one_of(
    ODD_TEXT, st.text(max_size=30), st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers().map(str)
)
TOML_VALUE = st.one_of(
    st.sampled_from(
        [
            "inf",
            "-inf",
            "nan",
            "1e16",
            "-1",
            "0",
            "0.5",
            "1",
            "2",
            "3",
            "1.5",
            '"makespan"',
            '"hhi"',
            '"expected_loss"',
            "{ x = 0.5 }",
            "{ lose_hosts = 1, keep_fraction = 0.5 }",
            '["a1"]',
            '["B"]',
            "1" + "0" * 30,
            "true",
            '""',
            '"[bold]x[/]"',
            '":x:"',
            '"é"',
            "[]",
            "[1, 2]",
            '["PL"]',
            "{}",
            "{ f16 = 2.0 }",
            "[" * 40 + "]" * 40,
            "{a=" * 20 + "1" + "}" * 20,
            '"' + "x" * 5_000 + '"',
            "'/dev/null'",
            "'/tmp'",
        ]
    ),
    st.floats().map(repr),
    st.integers().map(str),
    st.text(max_size=20),
)
PLAUSIBLE = st.one_of(st.integers(0, 12).map(str), st.sampled_from(["A", "B", "a1", "d2", "x", "g", "port"]))
KEYS = st.sampled_from(
    [
        "name",
        "description",
        "objective.time_weight",
        "objective.risk",
        "objective.hhi_tangents",
        "hosts.PL.max_value_share",
        "hosts.PL.max_unit_share",
        "hosts.PL.threat",
        "hosts.PL.release_delay_h",
        "groups.baltics.max_unit_share",
        "systems.f16.min_hosts",
        "systems.f16.deadline_h",
        "systems.f16.priority",
        "systems.leopard2.resilience",
        "systems.himars.max_host_share",
        "constraints.max_sites",
        "constraints.budget_musd",
        "constraints.exclude_hosts",
        "constraints.force_open",
        "solver.threads",
        "solver.time_limit_s",
        "solver.mip_gap",
        "network.release_delay_h",
        "network.profiles.tracked.speed_kph",
        "report.counted_share",
        "data.sites",
        "data.demand",
        "hôst.x",
        "[bold]",
        ":x:",
    ]
)


def assert_clean(result, allowed: set[int]) -> None:
    """A documented exit code, and no Python exception escaped (CliRunner turns those into exit 1)."""
    assert result.exit_code in allowed, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output


def read_cells(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.reader(stream))


def write_cells(path: Path, rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path.write_bytes(buffer.getvalue().encode("utf-8", "surrogatepass"))


# --- validate on a copy of the shipped data -------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz-validate")
    for name in TABLES:
        shutil.copy(ROOT / "data" / f"{name}.csv", folder / f"{name}.csv")
    base = (ROOT / "models" / "base.toml").read_text(encoding="utf-8")
    base = (
        base.replace("../data/roads", str(ROOT / "data" / "roads"))
        .replace("../data/boundaries", str(ROOT / "data" / "boundaries"))
        .replace('purchasers = "../data/purchasers.csv"\n', "")
    )
    base = base.replace("../data/regions", str(ROOT / "data" / "regions"))
    base = base.replace("../data/countries", str(ROOT / "data" / "countries")).replace("../data/", "")
    (folder / "base.toml").write_text(base, encoding="utf-8")
    assert_clean(invoke("validate", folder / "base.toml"), {0})
    return folder, {name: read_cells(folder / f"{name}.csv") for name in TABLES}


@fuzz_settings(EXAMPLES // 2)
@given(data=st.data(), table=st.sampled_from(TABLES), value=CELL)
def test_validate_survives_any_table_cell(shipped, data, table, value):
    folder, original = shipped
    rows = [list(r) for r in original[table]]
    row = data.draw(st.integers(0, len(rows) - 1), label="row")  # row 0 is the header
    column = data.draw(st.integers(0, len(rows[row]) - 1), label="column")
    rows[row][column] = value
    try:
        write_cells(folder / f"{table}.csv", rows)
        result = invoke("validate", folder / "base.toml")
        event(f"exit {result.exit_code}")  # the share of each outcome shows with --hypothesis-show-statistics
        assert_clean(result, VALIDATE_EXIT)
    finally:
        write_cells(folder / f"{table}.csv", original[table])


@fuzz_settings(EXAMPLES // 4)
@given(key=KEYS, value=TOML_VALUE)
def test_validate_survives_any_scenario_value(shipped, key, value):
    folder, _ = shipped
    *table, leaf = key.split(".")
    header = f"[{'.'.join(table)}]\n" if table else ""
    scenario = folder / "fuzzed.toml"
    scenario.write_bytes(f'extends = "base.toml"\n{header}{leaf} = {value}\n'.encode("utf-8", "surrogatepass"))
    result = invoke("validate", scenario)
    event(f"exit {result.exit_code}")
    assert_clean(result, VALIDATE_EXIT)


@fuzz_settings(EXAMPLES // 4)
@given(key=KEYS, value=st.one_of(TOML_VALUE, CELL), sep=st.sampled_from(["=", " = ", "==", ""]))
def test_validate_survives_any_set_value(shipped, key, value, sep):
    folder, _ = shipped
    result = invoke("validate", folder / "base.toml", "--set", f"{key}{sep}{value}")
    event(f"exit {result.exit_code}")
    assert_clean(result, VALIDATE_EXIT)


# --- solve on a tiny instance with its own travel-time matrix -------------------------------------------

TINY = {
    "hosts": [["host_id", "name", "group", "release_delay_h"], ["A", "A", "g", "1"], ["B", "B", "g", ""]],
    "sites": [
        HEADERS["sites"],
        ["a1", "a1", "A", "0", "0", "army_base", "10", "0", "5", "2", "t"],
        ["b1", "b1", "B", "0", "0", "army_base", "10", "0", "5", "3", "t"],
    ],
    "systems": [
        HEADERS["systems"],
        ["x", "x", "I", "road", "2", "1", "0", "1", "1", "army_base"],
    ],
    "destinations": [
        ["destination_id", "name", "lat", "lon", "kind"],
        ["d1", "d1", "0", "0", "city"],
        ["d2", "d2", "0", "0", "city"],
    ],
    "demand": [["destination_id", "system_id", "units"], ["d1", "x", "3"], ["d2", "x", "2"]],
    "matrix": [
        ["site_id", "destination_id", "system_id", "hours"],
        ["a1", "d1", "x", "1"],
        ["a1", "d2", "x", "4"],
        ["b1", "d1", "x", "3"],
        ["b1", "d2", "x", "2"],
    ],
}
TINY_SCENARIO = """name = "tiny"
[data]
hosts = "hosts.csv"
sites = "sites.csv"
systems = "systems.csv"
destinations = "destinations.csv"
demand = "demand.csv"
travel_times = "matrix.csv"
[network.profiles.road]
speed_kph = 1
[objective]
risk_weight = 1
[systems.x]
min_hosts = 2
[solver]
threads = 1
"""
TINY_KEYS = st.sampled_from(
    [
        "objective.time",
        "objective.risk",
        "objective.hhi_tangents",
        "hosts.A.max_value_share",
        "hosts.A.max_unit_share",
        "systems.x.min_hosts",
        "systems.x.deadline_h",
        "systems.x.resilience",
        "constraints.max_sites",
        "constraints.force_open",
        "constraints.exclude_hosts",
        "solver.threads",
        "solver.mip_gap",
        "name",
    ]
)


def snapshot(folder: Path, *, skip: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``folder`` (but ``skip``) with its size and modification time in nanoseconds."""
    return {
        str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime_ns)
        for p in folder.rglob("*")
        if p != skip and skip not in p.parents
    }


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz-solve")
    for name, rows in TINY.items():
        write_csv(folder / f"{name}.csv", rows[0], rows[1:])
    (folder / "tiny.toml").write_text(TINY_SCENARIO, encoding="utf-8")
    return folder


@fuzz_settings(max(10, EXAMPLES // 10))
@given(
    data=st.data(),
    table=st.sampled_from(sorted(TINY)),
    value=st.one_of(st.none(), PLAUSIBLE, CELL),
    use_set=st.booleans(),
    key=TINY_KEYS,
    set_value=TOML_VALUE,
)
def test_solve_fails_cleanly_and_touches_nothing_but_its_out_folder(tiny, data, table, value, use_set, key, set_value):
    out = tiny / "run"
    rows = [list(r) for r in TINY[table]]
    if value is not None:  # None: the table as it is, so that some examples solve
        row = data.draw(st.integers(1, len(rows) - 1), label="row")
        rows[row][data.draw(st.integers(0, len(rows[row]) - 1), label="column")] = value
    write_cells(tiny / f"{table}.csv", rows)
    before = snapshot(tiny, skip=out)
    try:
        extra = ["--set", f"{key}={set_value}"] if use_set else []
        result = invoke("solve", tiny / "tiny.toml", "--out", out, "--no-maps", *extra)
        event(f"exit {result.exit_code}")
        assert_clean(result, SOLVE_EXIT)
        assert out.is_dir() == (result.exit_code == 0), result.output
        assert snapshot(tiny, skip=out) == before
    finally:
        shutil.rmtree(out, ignore_errors=True)
        write_csv(tiny / f"{table}.csv", TINY[table][0], TINY[table][1:])
