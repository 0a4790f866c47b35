"""Output folders and files that cannot destroy anything: refusals before any work, atomic replacement of
depotsite's own folders, a lock between writers, no staged folder left by SIGTERM or by a killed run."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from conftest import ROOT, invoke
from depotsite.errors import InputError
from depotsite.output.outdir import atomic_folder, clean_stale, file_problems, folder_kind, folder_problems, marker

HEADING = "cannot write the output (1 problem): - "
FOREIGN = (
    "is a folder that depotsite did not write (it is not empty and has no manifest.json of a {kind} folder); "
    "nothing was changed. Give a new or empty folder, or move this one away yourself"
)


def write_table(path: Path, header: str, *rows: str) -> None:
    path.write_text("\n".join([header, *rows]) + "\n")


@pytest.fixture
def tiny(tmp_path) -> Path:
    """Two hosts, one site each, 2 units to one destination, its own travel-time matrix: solves at once.
    Layout: data/ (tables), models/tiny.toml, runs/ (empty, for outputs)."""
    data, models = tmp_path / "data", tmp_path / "models"
    data.mkdir()
    models.mkdir()
    (tmp_path / "runs").mkdir()
    write_table(data / "hosts.csv", "host_id,name,group,release_delay_h", "A,A,,0", "B,B,,0")
    write_table(
        data / "sites.csv",
        "site_id,name,host_id,lat,lon,kind,vehicle_bays,aircraft_shelters,dispatch_per_day,fixed_cost_musd,source",
        "a1,a1,A,0,0,logistics_hub,10,0,10,0,test",
        "b1,b1,B,0,0,logistics_hub,10,0,10,0,test",
    )
    write_table(
        data / "systems.csv",
        "system_id,name,unroca_category,profile,value_musd,vehicle_bays_per_unit,"
        "shelters_per_unit,crew_per_unit,min_lot,site_kinds",
        "goods,goods,I,road,1,1,0,1,1,logistics_hub",
    )
    write_table(data / "destinations.csv", "destination_id,name,lat,lon,kind", "d1,d1,0,0,city")
    write_table(data / "demand.csv", "destination_id,system_id,units", "d1,goods,2")
    write_table(data / "matrix.csv", "site_id,destination_id,system_id,hours", "a1,d1,goods,1", "b1,d1,goods,2")
    tables = "\n".join(f'{k} = "../data/{k}.csv"' for k in ("hosts", "sites", "systems", "destinations", "demand"))
    (models / "tiny.toml").write_text(
        f'name = "tiny"\n[data]\n{tables}\ntravel_times = "../data/matrix.csv"\n'
        "[network]\nrelease_delay_h = 0\n[network.profiles.road]\nspeed_kph = 1\n"
        "[objective]\ntime_weight = 1\nrisk_weight = 0\ncost_weight = 0\n"
    )
    return models / "tiny.toml"


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` (hidden ones too) with the bytes of each file."""
    return {str(p.relative_to(folder)): None if p.is_dir() else p.read_bytes() for p in sorted(folder.rglob("*"))}


def text(result) -> str:
    return " ".join(result.output.split())


def refused(result, shown: str, problem: str) -> None:
    assert result.exit_code == 1, result.output
    assert text(result) == f"error: {HEADING}{shown}: {problem}"


def solved(tiny: Path, out: Path, *args: object) -> None:
    result = invoke("solve", tiny, "--out", out, "--no-maps", *args)
    assert result.exit_code == 0, result.output


# ---- refusals, before any work -------------------------------------------------------------------------


def test_a_foreign_folder_survives_byte_identical(tiny, tmp_path):
    thesis = tmp_path / "runs" / "thesis"
    thesis.mkdir()
    (thesis / "thesis.txt").write_bytes(b"four years of work\n")
    before = snapshot(tmp_path)
    refused(invoke("solve", tiny, "--out", thesis), f"--out {thesis}", FOREIGN.format(kind="run"))
    assert snapshot(tmp_path) == before  # no temp folder, no lock file, nothing


@pytest.mark.parametrize("command", ["pareto", "alternatives", "stress"])
def test_every_folder_command_refuses_a_foreign_folder_before_solving(command, tiny, tmp_path):
    thesis = tmp_path / "runs" / "thesis"
    thesis.mkdir()
    (thesis / "thesis.txt").write_text("mine\n")
    before = snapshot(tmp_path)
    refused(invoke(command, tiny, "--out", thesis), f"--out {thesis}", FOREIGN.format(kind=command))
    assert snapshot(tmp_path) == before


def test_a_regular_file_stays_a_file(tiny, tmp_path):
    notes = tmp_path / "runs" / "notes.txt"
    notes.write_text("notes\n")
    refused(
        invoke("solve", tiny, "--out", notes),
        f"--out {notes}",
        "is a file, not a folder; give a new or empty folder, or a run folder written by depotsite",
    )
    assert notes.is_file() and notes.read_text() == "notes\n"


@pytest.mark.parametrize("dangling", [False, True])
def test_a_symlink_is_not_replaced(dangling, tiny, tmp_path):
    real = tmp_path / "elsewhere"
    if not dangling:
        real.mkdir()  # an empty folder: it would be accepted if given directly
    link = tmp_path / "runs" / "link"
    link.symlink_to(real)
    refused(
        invoke("solve", tiny, "--out", link),
        f"--out {link}",
        "is a symbolic link; depotsite does not write through links: give the real path or a new one",
    )
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.is_dir() != dangling and (dangling or not any(real.iterdir()))


def test_root_dot_and_dotdot_are_refused_and_leave_no_temp_folder(tiny, tmp_path, monkeypatch):
    work = tmp_path / "runs" / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    hidden_in_root = {n for n in os.listdir("/") if n.startswith(".")}  # where staging or a lock would go
    before = snapshot(tmp_path)
    refused(invoke("solve", tiny, "--out", "/"), "--out /", "is the root folder; give a new or empty folder elsewhere")
    where = "is the current folder or one of its parents; give a new or empty folder elsewhere"
    refused(invoke("solve", tiny, "--out", "."), f"--out . ({work})", where)
    refused(invoke("solve", tiny, "--out", ".."), f"--out .. ({work.parent})", where)
    assert snapshot(tmp_path) == before
    assert {n for n in os.listdir("/") if n.startswith(".")} == hidden_in_root


def test_the_scenarios_own_folder_is_refused(tiny, tmp_path):
    models = tiny.parent
    refused(
        invoke("solve", tiny, "--out", models),
        f"--out {models}",
        f"is the folder of an input of this run ({tiny}); give a new or empty folder elsewhere",
    )
    assert [p.name for p in models.iterdir()] == ["tiny.toml"]


def test_an_earlier_run_is_refused_when_its_resolved_scenario_is_the_one_solved(tiny, tmp_path):
    run = tmp_path / "runs" / "run"
    solved(tiny, run)
    before = snapshot(run)
    resolved = run / "scenario.resolved.toml"
    refused(
        invoke("solve", resolved, "--out", run),
        f"--out {run}",
        f"is the folder of an input of this run ({resolved}); give a new or empty folder elsewhere",
    )
    assert snapshot(run) == before


@pytest.mark.parametrize(
    ("where", "problem"),
    [
        ("data", "is the folder of an input of this run ({root}/data/hosts.csv)"),
        (".", "holds an input of this run ({root}/models/tiny.toml)"),
    ],
)
def test_an_input_folder_or_a_folder_holding_inputs_is_refused(where, problem, tiny, tmp_path):
    out = (tmp_path / where).resolve()
    before = snapshot(tmp_path)
    refused(
        invoke("solve", tiny, "--out", out),
        f"--out {out}",
        problem.format(root=tmp_path) + "; give a new or empty folder elsewhere",
    )
    assert snapshot(tmp_path) == before


def test_a_folder_inside_an_input_folder_is_refused(tmp_path):
    roads = tmp_path / "roads"
    roads.mkdir()
    assert folder_problems(roads / "run", kind="run", inputs=[roads]) == [
        f"--out {roads / 'run'}: is inside the input folder {roads}; give a new or empty folder elsewhere"
    ]
    assert folder_problems(tmp_path, kind="run", inputs=[roads]) == [
        f"--out {tmp_path}: holds the input folder {roads}; give a new or empty folder elsewhere"
    ]


def test_which_existing_folders_may_be_replaced(tmp_path):
    empty, legacy, pareto = tmp_path / "empty", tmp_path / "legacy", tmp_path / "pareto"
    for folder in (empty, legacy, pareto):
        folder.mkdir()
    (legacy / "manifest.json").write_text(json.dumps({"created_utc": "x", "versions": {"depotsite": "0.1.0"}}))
    (pareto / "manifest.json").write_text(json.dumps(marker("pareto")))
    assert folder_kind(legacy) == "run" and folder_kind(pareto) == "pareto" and folder_kind(empty) is None
    assert folder_problems(empty, kind="run") == [] and folder_problems(legacy, kind="run") == []
    assert folder_problems(pareto, kind="run") == [
        f"--out {pareto}: is a depotsite pareto folder, not a run folder; give another folder"
    ]
    (empty / "manifest.json").write_text('{"tool": "depotsite", "kind": "run"')  # truncated: not ours
    assert folder_problems(empty, kind="run") == [f"--out {empty}: " + FOREIGN.format(kind="run")]


def test_a_parent_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    assert folder_problems(tmp_path / "file" / "run", kind="run") == [
        f"--out {tmp_path / 'file' / 'run'}: {tmp_path / 'file'} is not a folder"
    ]


# ---- single files: travel-times --out, --save-lp ---------------------------------------------------------


def test_travel_times_replaces_a_regular_file_but_not_a_folder_or_an_input(tiny, tmp_path):
    csv_file = tmp_path / "runs" / "tt.csv"
    csv_file.write_text("old\n")
    assert invoke("travel-times", tiny, "--out", csv_file).exit_code == 0
    assert csv_file.read_text().splitlines()[1].startswith("a1,d1,goods,road,,1.0000")  # no mode: a matrix
    assert sorted(p.name for p in csv_file.parent.iterdir()) == ["tt.csv"]  # nothing beside it
    folder = tmp_path / "runs"
    refused(invoke("travel-times", tiny, "--out", folder), f"--out {folder}", "is a folder; give a file name")
    matrix = tmp_path / "data" / "matrix.csv"
    before = matrix.read_bytes()
    refused(
        invoke("travel-times", tiny, "--out", matrix),
        f"--out {matrix}",
        f"is an input of this run ({matrix}); give another file name",
    )
    assert matrix.read_bytes() == before


def test_save_lp_refuses_an_input_a_path_inside_out_and_an_unknown_format(tiny, tmp_path):
    before = tiny.read_bytes()
    run = tmp_path / "runs" / "run"
    refused(
        invoke("solve", tiny, "--out", run, "--save-lp", tiny),
        f"--save-lp {tiny}",
        f"is an input of this run ({tiny}); give another file name",
    )
    assert tiny.read_bytes() == before
    refused(
        invoke("solve", tiny, "--out", run, "--save-lp", run / "m.lp"),
        f"--save-lp {run / 'm.lp'}",
        f"is inside --out {run}, which the run folder replaces; save the LP file elsewhere",
    )
    lp_txt = tmp_path / "m.txt"
    refused(
        invoke("solve", tiny, "--out", run, "--save-lp", lp_txt),
        f"--save-lp {lp_txt}",
        "name the file .lp (CPLEX LP) or .mps (MPS)",
    )
    assert not run.exists()
    solved(tiny, run, "--save-lp", tmp_path / "m.lp")
    assert "meet_demand(d1_goods)" in (tmp_path / "m.lp").read_text()


# ---- replacing earlier folders ----------------------------------------------------------------------------


def test_an_earlier_run_is_replaced_whole(tiny, tmp_path):
    run = tmp_path / "runs" / "run"
    solved(tiny, run)
    (run / "stray.txt").write_text("left from the first run\n")
    solved(tiny, run, "--set", "objective.time_weight=2")
    assert not (run / "stray.txt").exists()
    assert json.loads((run / "summary.json").read_text())["weights"]["time_weight"] == 2
    assert folder_kind(run) == "run"
    assert sorted(p.name for p in run.parent.iterdir()) == ["run"]  # no lock file, no leftover


def test_a_failed_run_leaves_the_earlier_run_intact(tiny, tmp_path):
    run = tmp_path / "runs" / "run"
    solved(tiny, run)
    before = snapshot(tmp_path / "runs")
    caps = ["--set", "hosts.A.max_value_share=0.1", "--set", "hosts.B.max_value_share=0.1"]
    result = invoke("solve", tiny, "--out", run, "--no-maps", *caps)
    assert result.exit_code == 3, result.output
    assert snapshot(tmp_path / "runs") == before


def test_report_refuses_its_run_folder_and_replaces_an_earlier_report(tiny, tmp_path):
    run, report = tmp_path / "runs" / "run", tmp_path / "runs" / "report"
    solved(tiny, run)
    before = snapshot(run)
    refused(
        invoke("report", run, "--tier", "host", "--out", run),
        f"--out {run}",
        f"is an input of this run ({run}); give a new or empty folder elsewhere",
    )
    refused(
        invoke("report", run, "--tier", "host", "--out", run / "report"),
        f"--out {run / 'report'}",
        f"is inside the input folder {run}; give a new or empty folder elsewhere",
    )
    assert snapshot(run) == before
    assert invoke("report", run, "--tier", "host", "--out", report).exit_code == 0
    assert invoke("report", run, "--tier", "kinds", "--out", report).exit_code == 0
    assert folder_kind(report) == "report" and (report / "kinds.csv").is_file()
    assert not (report / "hosts.csv").exists()  # the host tier's files went with the earlier report


def test_pareto_replaces_an_earlier_front_and_refuses_a_run_folder(tiny, tmp_path):
    front, run = tmp_path / "runs" / "front", tmp_path / "runs" / "run"
    for _ in range(2):
        result = invoke("pareto", tiny, "--out", front, "--points", 2)
        assert result.exit_code == 0, result.output
    assert folder_kind(front) == "pareto" and (front / "front.csv").is_file()
    solved(tiny, run)
    refused(
        invoke("pareto", tiny, "--out", run, "--points", 2),
        f"--out {run}",
        "is a depotsite run folder, not a pareto folder; give another folder",
    )


# ---- the writing machinery ---------------------------------------------------------------------------------


def test_an_error_while_staging_removes_the_staged_folder_and_keeps_the_earlier_one(tmp_path):
    front = tmp_path / "front"
    with atomic_folder(front, kind="pareto") as folder:
        (folder / "front.csv").write_text("first\n")
    before = snapshot(tmp_path)
    with pytest.raises(ZeroDivisionError), atomic_folder(front, kind="pareto") as folder:
        (folder / "front.csv").write_text("second, half written")
        1 / 0  # noqa: B018
    assert snapshot(tmp_path) == before


def test_a_run_folder_without_its_manifest_is_never_committed(tmp_path):
    with (
        pytest.raises(RuntimeError, match="the run folder lacks its manifest marker; nothing was written"),
        atomic_folder(tmp_path / "run", kind="run") as folder,
    ):
        (folder / "allocation.csv").write_text("site_id\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_lock_serialises_two_writers(tmp_path, caplog):
    """B tries while A holds the lock: B logs that it waits (proof it was blocked), then A finishes and B
    goes in. Without the lock B would go in at once, and the order would show it."""
    caplog.set_level(logging.WARNING, logger="depotsite.output.outdir")
    target, events, errors = tmp_path / "front", [], []
    a_inside, proceed = threading.Event(), threading.Event()

    class Waiting(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith("waiting for another depotsite process writing"):
                proceed.set()

    def writer(name: str) -> None:
        try:
            if name == "B":
                assert a_inside.wait(60)
            with atomic_folder(target, kind="pareto") as folder:
                events.append(f"{name} in")
                (folder / "who.txt").write_text(name)
                if name == "A":
                    a_inside.set()
                    assert proceed.wait(60)  # until B says it waits (or, were the lock broken, B is in)
                else:
                    proceed.set()
                events.append(f"{name} out")
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    handler = Waiting()
    logging.getLogger("depotsite.output.outdir").addHandler(handler)
    try:
        threads = [threading.Thread(target=writer, args=(n,)) for n in "AB"]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        logging.getLogger("depotsite.output.outdir").removeHandler(handler)
    assert errors == []
    assert events == ["A in", "A out", "B in", "B out"]
    assert (target / "who.txt").read_text() == "B"
    assert any(
        r.getMessage() == f"waiting for another depotsite process writing into {tmp_path} (for {target})"
        for r in caplog.records
    )


STAGE_THEN_WAIT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from depotsite.output.outdir import atomic_folder

    with atomic_folder(Path(sys.argv[1]), kind="pareto") as folder:
        (folder / "front.csv").write_text("half written")
        print(folder, flush=True)
        time.sleep(600)
""")


@pytest.mark.parametrize("earlier", [False, True])
def test_sigterm_while_staging_leaves_no_staged_folder(earlier, tmp_path):
    front = tmp_path / "front"
    if earlier:
        with atomic_folder(front, kind="pareto") as folder:
            (folder / "front.csv").write_text("the earlier front\n")
    before = snapshot(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    with subprocess.Popen(
        [sys.executable, "-c", STAGE_THEN_WAIT, str(front)], stdout=subprocess.PIPE, text=True, env=env
    ) as child:
        assert child.stdout is not None
        staged = Path(child.stdout.readline().strip())  # the child is staging now
        assert staged.parent == tmp_path and staged.name.startswith(f".front.tmp-{child.pid}-")
        assert (staged / "front.csv").is_file()
        child.send_signal(signal.SIGTERM)
        assert child.wait(60) == 128 + signal.SIGTERM
    assert snapshot(tmp_path) == before


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_leftovers_of_a_dead_process_are_removed_with_a_warning(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="depotsite.output.outdir")
    pid = dead_pid()
    front = tmp_path / "front"
    with atomic_folder(front, kind="pareto") as folder:
        (folder / "front.csv").write_text("the earlier front\n")
    staged, aside = tmp_path / f".front.tmp-{pid}-abc123", tmp_path / f".front.old-{pid}-def456"
    for leftover in (staged, aside):
        leftover.mkdir()
        (leftover / "front.csv").write_text("left by a killed run\n")
    other = tmp_path / f".other.tmp-{pid}-abc123"  # another target's: not ours to touch
    other.mkdir()
    with atomic_folder(front, kind="pareto") as folder:
        (folder / "front.csv").write_text("the new front\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == [other.name, "front"]
    assert (front / "front.csv").read_text() == "the new front\n"
    messages = [r.getMessage() for r in caplog.records]
    for leftover in (aside, staged):
        assert f"removed {leftover}, left behind by process {pid} that no longer runs" in messages


def test_an_earlier_folder_caught_between_the_two_renames_is_put_back(tmp_path, caplog):
    """A run killed after moving the earlier folder aside and before moving the new one in: the next writer
    puts the earlier folder back first, so even if that writer fails, the earlier folder is there."""
    caplog.set_level(logging.WARNING, logger="depotsite.output.outdir")
    pid = dead_pid()
    front, aside = tmp_path / "front", tmp_path / f".front.old-{pid}-abc123"
    aside.mkdir()
    (aside / "manifest.json").write_text(json.dumps(marker("pareto")))
    (aside / "front.csv").write_text("the earlier front\n")
    with pytest.raises(ZeroDivisionError), atomic_folder(front, kind="pareto"):
        1 / 0  # noqa: B018
    assert (front / "front.csv").read_text() == "the earlier front\n"
    assert f"put back {aside} as {front}: process {pid} was stopped while replacing it" in [
        r.getMessage() for r in caplog.records
    ]


def test_a_leftover_of_a_running_process_is_reported_and_kept(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="depotsite.output.outdir")
    running = os.getppid()
    leftover = tmp_path / f".front.tmp-{running}-abc123"
    leftover.mkdir()
    clean_stale(tmp_path / "front")
    assert leftover.is_dir()
    assert f"{leftover} was left by process {running}, which still runs; left in place" in [
        r.getMessage() for r in caplog.records
    ]


def test_file_targets_follow_the_same_rules(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert file_problems(fifo) == [f"--out {fifo}: is not a regular file (a device, pipe or socket); give a file name"]
    assert file_problems(Path("/dev/null"), option="--save-lp") == [
        "--save-lp /dev/null: is not a regular file (a device, pipe or socket); give a file name"
    ]
    assert file_problems(tmp_path / "new" / "tt.csv") == []


def test_stress_refuses_the_run_folder_it_reads_and_replaces_its_earlier_output(tiny, tmp_path):
    run, stress = tmp_path / "runs" / "run", tmp_path / "runs" / "stress"
    solved(tiny, run)
    before = snapshot(run)
    refused(
        invoke("stress", run, "--out", run),
        f"--out {run}",
        f"is an input of this run ({run}); give a new or empty folder elsewhere",
    )
    assert snapshot(run) == before
    for _ in range(2):
        result = invoke("stress", run, "--out", stress)
        assert result.exit_code == 0, result.output
    assert folder_kind(stress) == "stress" and (stress / "stress.csv").is_file()


def test_the_home_folder_and_its_parents_are_refused(tmp_path, monkeypatch):
    home = tmp_path / "home" / "me"
    home.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    where = "is your home folder or one of its parents; give a new or empty folder elsewhere"
    assert folder_problems(home, kind="run") == [f"--out {home}: {where}"]
    assert folder_problems(home.parent, kind="report") == [f"--out {home.parent}: {where}"]
    assert folder_problems(home / "runs" / "base", kind="run") == []


def test_writing_checks_again_under_the_lock(tmp_path):
    """A folder that became foreign while the command worked is refused when the writer gets to it."""
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "thesis.txt").write_text("mine\n")
    before = snapshot(tmp_path)
    with pytest.raises(InputError) as caught, atomic_folder(thesis, kind="pareto"):
        pass
    assert caught.value.problems == [f"--out {thesis}: " + FOREIGN.format(kind="pareto")]
    assert snapshot(tmp_path) == before


def test_the_lock_leaves_nothing_outside_the_output(tmp_path):
    """The lock is the parent folder itself: no lock file, before, during or after writing."""
    with atomic_folder(tmp_path / "front", kind="pareto") as folder:
        (folder / "front.csv").write_text("a front\n")
        assert sorted(p.name for p in tmp_path.iterdir()) == [folder.name]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["front"]
