"""The CSV layer at its edges: each cell parser exactly at its limits, the reader's refusals and messages, the
demand checks of repeated and unknown rows. Every case here was a mutant of ``tables.py`` or
``input_checks.py`` that the message tests of ``test_inputs.py`` let through (``tests/README.md``)."""

from __future__ import annotations

import csv
import hashlib
import os
import socket
import stat
import sys
from io import BytesIO
from pathlib import Path

import pytest

from conftest import problems_of
from depotsite.tables import (
    MAX_ID_CHARS,
    MAX_TABLE_BYTES,
    MAX_TEXT_CHARS,
    OPTIONAL,
    SCHEMAS,
    SHOWN_CHARS,
    NotUtf8,
    _footprint,
    _lat,
    _lon,
    _optional_hours,
    _positive_count,
    _profiles,
    _site_kinds,
    _text,
    file_sha256,
    identifier,
    nonneg,
    read_rows,
    read_table,
    shown,
    suggest,
    unreadable,
    utf8_lines,
)

HOSTS_HEADER = "host_id,name,group,release_delay_h"


def _raises(parse, raw: str) -> str:
    with pytest.raises(ValueError) as caught:
        parse(raw)
    return str(caught.value)


# --- cell parsers, at their limits ---------------------------------------------------------------------


def test_text_and_ids_at_their_length_limits():
    assert _text("x" * MAX_TEXT_CHARS) == "x" * MAX_TEXT_CHARS
    assert _raises(_text, "x" * (MAX_TEXT_CHARS + 1)) == "must be at most 1,000 characters, got 1,001"
    assert identifier("x" * MAX_ID_CHARS) == "x" * MAX_ID_CHARS
    assert _raises(identifier, "x" * (MAX_ID_CHARS + 1)).startswith("must be a non-empty id of at most 100 ")


def test_numbers_at_their_limits():
    """Both ends of every range are valid (the ranges are closed), a step past either end is not."""
    assert nonneg("1000000") == 1_000_000.0
    assert _footprint("0.001") == 0.001  # MIN_RATE itself is valid; only 0 < value < MIN_RATE is refused
    assert _raises(_footprint, "-1") == "must be 0 or a number between 0.001 and 1,000,000, got '-1'"
    assert _raises(_positive_count, "0") == "must be a whole number between 1 and 1,000,000, got '0'"
    assert (_lat("-90"), _lat("90"), _lon("-180"), _lon("180")) == (-90.0, 90.0, -180.0, 180.0)
    for raw in ("-90.5", "90.5"):
        assert _raises(_lat, raw) == f"must be a latitude in degrees between -90 and 90, got {raw!r}"
    for raw in ("-180.5", "180.5"):
        assert _raises(_lon, raw) == f"must be a longitude in degrees between -180 and 180, got {raw!r}"
    assert _optional_hours("0.5") == 0.5
    assert _optional_hours(" ") is None


def test_site_kind_lists():
    assert _site_kinds(" port ; air_base ") == frozenset({"port", "air_base"})
    message = "must be a ';'-separated list of air_base, army_base, logistics_hub, rail_hub, port, ammo_depot, got "
    assert _raises(_site_kinds, "air_base;castle") == message + "'air_base;castle'"
    assert _raises(_site_kinds, ";") == message + "';'"


def test_profile_alternatives():
    assert _profiles(" rail ; tracked ") == "rail;tracked"
    assert _profiles("x" * MAX_ID_CHARS) == "x" * MAX_ID_CHARS
    message = (
        "must be a transport profile or ';'-separated profiles (e.g. rail;tracked), each an id of at most 100 "
        "printable characters without spaces, got "
    )
    for raw in ("rail;", "ra il", "x" * (MAX_ID_CHARS + 1)):
        assert _raises(_profiles, raw) == message + shown(raw)


def test_shown_cuts_only_past_its_limit():
    assert shown("x" * SHOWN_CHARS) == repr("x" * SHOWN_CHARS)
    assert shown("x" * (SHOWN_CHARS + 1)) == f"{'x' * SHOWN_CHARS!r}... (61 characters)"


def test_suggest_is_looser_up_to_three_characters():
    """difflib's ratio is 2 x matches / total length: 'abx' against 'abc' is 4/6 = 0.67, accepted at the
    0.5 cutoff of ids of up to 3 characters; 'abcd' against 'abxy' is 4/8 = 0.5, refused at 0.7."""
    assert suggest("abx", ["abc"]) == "did you mean 'abc'?"
    assert suggest("abcd", ["abxy"]) == "known ids: abxy"


# --- files ---------------------------------------------------------------------------------------------


def test_unreadable_names_sockets_and_block_devices(tmp_path):
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(tmp_path / "s.csv"))
        assert unreadable(tmp_path / "s.csv") == "is not a regular file"
    finally:
        server.close()
    block = next((p for p in sorted(Path("/dev").iterdir()) if stat.S_ISBLK(os.stat(p).st_mode)), None)
    if block is None:
        pytest.skip("no block device under /dev on this machine")
    assert unreadable(block) == "is a device, not a regular file"


def test_utf8_lines_drops_only_the_leading_bom_and_counts_offsets_over_lines():
    assert list(utf8_lines(BytesIO(b"\xef\xbb\xbfa\n\xef\xbb\xbfb\n"))) == ["a\n", "\ufeffb\n"]
    with pytest.raises(NotUtf8) as caught:
        list(utf8_lines(BytesIO(b"ab\ncd\ne\xff\n")))
    assert caught.value.offset == 7  # 3 + 3 bytes of the first two lines, then 'e'


def test_file_sha256_over_several_blocks(tmp_path):
    data = os.urandom(3 * (1 << 20) + 5)
    (tmp_path / "f").write_bytes(data)
    assert file_sha256(tmp_path / "f") == hashlib.sha256(data).hexdigest()


def test_read_rows_drops_the_bom_and_keeps_newlines_in_quoted_cells(tmp_path):
    (tmp_path / "t.csv").write_bytes(b'\xef\xbb\xbfa,b\r\n"x\r\ny",2\r\n')
    assert read_rows(tmp_path / "t.csv") == [{"a": "x\r\ny", "b": "2"}]


def _hosts(tmp_path: Path, text: str, **kwargs):
    (tmp_path / "hosts.csv").write_text(text, encoding="utf-8")
    problems: list[str] = []
    rows = read_table(tmp_path / "hosts.csv", SCHEMAS["hosts"], problems, **kwargs)
    return rows, problems


def test_read_table_row_limit_counts_blank_rows_and_keeps_rows_after_them(tmp_path):
    rows, problems = _hosts(tmp_path, f"{HOSTS_HEADER}\nPL,Poland,EU,\n\nDE,Germany,EU,\n", max_rows=3)
    assert problems == []
    assert [(line, row["host_id"]) for line, row in rows] == [(2, "PL"), (4, "DE")]
    rows, problems = _hosts(tmp_path, f"{HOSTS_HEADER}\nPL,Poland,EU,\nDE,Germany,EU,\nRO,Romania,EU,\n", max_rows=2)
    assert rows is None
    assert problems == [
        "hosts.csv: more than 2 rows; depotsite handles at most 2 (the model has a variable per site, destination "
        "and system, and beyond this it cannot be built and solved in minutes); pre-select the candidates"
    ]


def test_read_table_bad_rows_without_a_rejected_set(tmp_path):
    rows, problems = _hosts(tmp_path, f"{HOSTS_HEADER}\n,Nowhere,EU,\nPL,Poland,EU,\n")
    assert [row["host_id"] for _, row in rows] == ["PL"]
    assert problems == [
        "hosts.csv line 2 (?): host_id must be a non-empty id of at most 100 printable characters without "
        "spaces, got ''"
    ]


def test_read_table_empty_file_strict_csv_and_unexpected_columns(tmp_path):
    expected = "host_id, name, group, release_delay_h"
    assert _hosts(tmp_path, "") == (
        None,
        [
            f"hosts.csv: the first row has none of the expected columns; is this the right file? The header must be: "
            f"{expected}"
        ],
    )
    with pytest.raises(csv.Error) as caught:  # what the csv module says of a quote inside a field
        list(csv.reader(['PL,"Pol"and,EU,'], strict=True))
    assert _hosts(tmp_path, f'{HOSTS_HEADER}\nPL,"Pol"and,EU,\n') == (
        None,
        [f"hosts.csv: not a readable CSV file ({caught.value}); save it as CSV with a header row"],
    )
    assert _hosts(tmp_path, f"{HOSTS_HEADER},zzzz\n")[1] == [
        f"hosts.csv: unexpected column 'zzzz'; the header must be: {expected}"
    ]


def test_header_message_lists_every_optional_column(tmp_path):
    header = [c for c in SCHEMAS["systems"] if c != "name"]
    (tmp_path / "systems.csv").write_text(",".join(header) + "\n", encoding="utf-8")
    problems: list[str] = []
    assert read_table(tmp_path / "systems.csv", SCHEMAS["systems"], problems, optional=OPTIONAL["systems"]) is None
    assert problems == [
        "systems.csv: missing column 'name'; the header must be: system_id, name, unroca_category, profile, "
        "value_musd, vehicle_bays_per_unit, shelters_per_unit, crew_per_unit, min_lot, site_kinds "
        "(optional: net_explosive_t_per_unit) (optional: dispatch_slots_per_unit)"
    ]


def test_read_table_refuses_a_table_over_the_size_limit(tmp_path):
    path = tmp_path / "hosts.csv"
    with path.open("wb") as stream:  # sparse: no disk space used
        stream.truncate(MAX_TABLE_BYTES + 1)
    problems: list[str] = []
    assert read_table(path, SCHEMAS["hosts"], problems) is None
    assert problems == [f"{path}: is larger than 256 MB; check the path in the scenario's [data] table"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/mem is Linux's")
def test_read_table_reports_a_read_error():
    """``/proc/self/mem`` stats as an empty regular file, and reading its first page fails with EIO."""
    problems: list[str] = []
    assert read_table(Path("/proc/self/mem"), SCHEMAS["hosts"], problems) is None
    assert problems == ["/proc/self/mem: cannot be read (Input/output error)"]


# --- demand and profiles through load_inputs -----------------------------------------------------------


def test_a_repeated_unknown_demand_row_is_not_also_a_duplicate(tables):
    folder, load = tables
    (folder / "demand.csv").write_text("destination_id,system_id,units\nua_kiev,patriot,2\nua_kiev,patriot,1\n")
    unknown = "unknown destination_id 'ua_kiev'; add it to destinations.csv or fix the id (did you mean 'ua_kyiv'?)"
    assert problems_of(load) == [f"demand.csv line 2: {unknown}", f"demand.csv line 3: {unknown}"]


def test_every_repeat_names_the_first_row(tables):
    folder, load = tables
    (folder / "demand.csv").write_text("destination_id,system_id,units\n" + "ua_kyiv,patriot,1\n" * 3)
    assert problems_of(load) == [
        f"demand.csv line {line}: duplicate row for ua_kyiv/patriot (first on line 2); merge the two rows into one"
        for line in (3, 4)
    ]


def test_zero_demand_rows_are_left_out(tables):
    folder, load = tables
    (folder / "demand.csv").write_text("destination_id,system_id,units\nua_kyiv,patriot,2\nua_kharkiv,patriot,0\n")
    assert dict(load().demand) == {("ua_kyiv", "patriot"): 2}


def test_profile_alternatives_are_checked_one_by_one(tables):
    folder, load = tables
    text = (folder / "systems.csv").read_text(encoding="utf-8")
    assert "Patriot air-defence battery,NONE,wheeled," in text
    (folder / "systems.csv").write_text(text.replace(",NONE,wheeled,", ",NONE,wheeled;tracked,", 1), "utf-8")
    assert load(profiles={"tracked", "wheeled", "air"}).systems["patriot"].profile == "wheeled;tracked"
    (folder / "systems.csv").write_text(text.replace(",NONE,wheeled,", ",NONE,wheeled;hover,", 1), "utf-8")
    assert problems_of(load, profiles={"tracked", "wheeled", "air"}) == [
        "systems.csv line 2 (patriot): unknown transport profile 'hover'; use one of air, tracked, wheeled or "
        "define it under [network.profiles] in the scenario"
    ]
