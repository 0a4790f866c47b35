"""Robustness sweeps on a real 2-worker Dask LocalCluster (one thread each), on a hand-solvable instance.

The instance (``test_api.tiny_scenario``): hosts A and B with one site each, 2 units of one system (value 1)
for one destination, a1 2 h of transit away and b1 5 h, release delays 0, time alone in the objective. A
unit at a1 is available after ``2 + delay_A`` hours, at b1 after ``5``; a host capped at a value share ``c``
may hold ``floor(2 c)`` units. The optimum fills the faster site up to its cap and puts the rest on the
other; with ``floor(2 c_A) + floor(2 c_B) < 2`` no posture exists (infeasible). ``expected_time`` computes it.
"""

from __future__ import annotations

import json
import math
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT, invoke
from depotsite.errors import ScenarioError
from depotsite.sweep.engine import dask_client
from depotsite.sweep.run import routing_key, run_sweep
from depotsite.sweep.spec import Distribution, SweepFile, plan_sweep
from test_api import tiny_scenario
from test_network import FIXTURES, tiny_inputs
from test_network import tiny_scenario as tiny_road_scenario

GRID = """
scenario = "tiny.toml"
[grid]
"hosts.A.release_delay_h" = [0, 4]
"hosts.A.max_value_share" = [1.0, 0.5]
"hosts.B.max_value_share" = [1.0, 0.0]
"""


def expected_time(delay_a: float, cap_a: float, cap_b: float) -> float | None:
    """The optimum's mean time by hand: fill the faster site up to its cap, the rest on the other."""
    sites = sorted([(2 + delay_a, math.floor(2 * cap_a + 1e-9)), (5.0, math.floor(2 * cap_b + 1e-9))])
    left, total = 2, 0.0
    for hours, room in sites:
        units = min(left, room)
        total, left = total + units * hours, left - units
    return None if left else total / 2


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=2) as c:
        yield c


def sweep_file(folder: Path, text: str, name: str = "sweep.toml") -> Path:
    tiny_scenario(folder)
    path = folder / name
    path.write_text(text)
    return path


def test_grid_sweep_on_two_workers_finds_every_optimum_and_records_failures(tmp_path, client):
    """8 cases; the two with caps that leave room for one unit are infeasible and recorded as such, while
    the other six are solved to the optimum derived by hand."""
    plan = plan_sweep(sweep_file(tmp_path, GRID))
    outcome = run_sweep(plan, tmp_path / "out", client=client)
    frame = pd.read_parquet(tmp_path / "out" / "cases.parquet")
    assert (outcome.skipped, outcome.solved, len(frame)) == (0, 8, 8)
    assert outcome.routing_groups == 1  # one matrix: release delays and caps do not change routing
    for row in frame.itertuples():
        want = expected_time(row[4], row[5], row[6])  # the three grid columns, in file order
        if want is None:
            assert row.status == "infeasible" and "host caps" in row.message
            assert math.isnan(row.time_h)
        else:
            assert row.status == "optimal"
            assert row.time_h == pytest.approx(want, abs=1e-9)
            assert row.objective == pytest.approx(want, abs=1e-6)
    assert frame["status"].value_counts().to_dict() == {"optimal": 6, "infeasible": 2}
    assert pd.read_csv(tmp_path / "out" / "cases.csv")["time_h"].equals(frame["time_h"])
    # the cases ran in the cluster's two worker processes, not here (each task names the process that ran
    # it); how Dask spreads them between the two depends on timing, so it is not asserted
    import os
    import socket

    pids = client.run(os.getpid)
    assert len(pids) == 2 and os.getpid() not in pids.values()
    assert set(frame["worker"]) <= {f"{socket.gethostname()}:{pid}" for pid in pids.values()}
    # site frequencies: a1 is open where a unit is faster there or b1 may hold too few
    sites = pd.read_csv(tmp_path / "out" / "sites.csv").set_index("site_id")
    solved = frame[frame["status"] == "optimal"]
    assert sites.loc["a1", "cases_open"] == sum("a1" in s.split(";") for s in solved["open_sites"])
    assert sites.loc["a1", "open_share"] == pytest.approx(sites.loc["a1", "cases_open"] / 6)
    # the release delay moves the mean objective most: by hand, 2.5 at 0 h and 16/3 at 4 h over the solved cases
    tornado = pd.read_csv(tmp_path / "out" / "tornado.csv")
    assert tornado.loc[0, "key"] == "hosts.A.release_delay_h"
    assert tornado.loc[0, "low_mean_objective"] == pytest.approx((2 + 2 + 3.5) / 3)
    assert tornado.loc[0, "high_mean_objective"] == pytest.approx((5 + 6 + 5) / 3)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["kind"] == "sweep" and manifest["complete"] is True
    assert set(manifest["outputs"]) >= {"cases.parquet", "sites.csv", "robustness.html", "tornado.png"}
    html = (tmp_path / "out" / "robustness.html").read_text()
    assert "data:image/png;base64," in html and "hosts.A.release_delay_h" in html


def test_an_interrupted_sweep_resumes_without_solving_its_finished_cases_again(tmp_path, client):
    plan = plan_sweep(sweep_file(tmp_path, GRID))
    out = tmp_path / "out"
    seen = []

    def interrupt(result):
        seen.append(result["case_id"])
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(plan, out, client=client, on_result=interrupt)
    stored = {p.stem: p.read_text() for p in (out / "tasks").glob("*.json")}
    assert sorted(stored) == sorted(seen)
    assert not (out / "cases.parquet").exists()
    assert json.loads((out / "manifest.json").read_text())["complete"] is False

    again = []
    outcome = run_sweep(plan, out, client=client, on_result=lambda r: again.append(r["case_id"]))
    assert (outcome.skipped, outcome.solved) == (3, 5)
    assert sorted(again) == sorted(set(c.case_id for c in plan.cases) - set(seen))
    assert {p.stem: p.read_text() for p in (out / "tasks").glob("*.json") if p.stem in stored} == stored
    times = pd.read_parquet(out / "cases.parquet")["time_h"]
    fresh = [expected_time(*c.values.values()) for c in plan.cases]
    assert [None if math.isnan(t) else round(t, 9) for t in times] == fresh
    # a third run finds every case done
    assert run_sweep(plan, out, client=client).solved == 0


def test_fixed_posture_is_rerouted_in_every_case_with_its_regret(tmp_path, client):
    """The base posture (both units at a1) is available after 2 + delay_A hours in every case, caps aside;
    its regret is that less the case's optimum, and none where the case itself is infeasible."""
    path = sweep_file(tmp_path, GRID)
    done = invoke("-q", "solve", tmp_path / "tiny.toml", "--out", tmp_path / "base")
    assert done.exit_code == 0, done.output
    from depotsite.output.runfolder import RunFolder

    stock = RunFolder.read(tmp_path / "base").stock
    assert stock == {("a1", "x"): 2}
    plan = plan_sweep(path)
    run_sweep(plan, tmp_path / "out", client=client, posture=stock, posture_source=tmp_path / "base")
    frame = pd.read_parquet(tmp_path / "out" / "cases.parquet")
    for case, row in zip(plan.cases, frame.itertuples(), strict=True):
        delay_a = case.values["hosts.A.release_delay_h"]
        assert row.posture_time_h == pytest.approx(2 + delay_a)
        assert row.posture_short_units == 0
        best = expected_time(*case.values.values())
        if best is None:
            assert math.isnan(row.regret_h)
        else:
            assert row.regret_h == pytest.approx(2 + delay_a - best, abs=1e-9)


DRAWS = """
scenario = "tiny.toml"
draws = {draws}
seed = {seed}
[uncertain."hosts.A.release_delay_h"]
distribution = "uniform"
low = 0
high = 6
"""


def test_draws_are_reproducible_from_the_seed_draw_by_draw_and_solved_to_their_optimum(tmp_path, client):
    """Draw i of a key comes from a generator seeded by (seed, i, crc32(key)): the same whatever the number of
    draws. With delay d the optimum is min(2 + d, 5): both units at a1, or both at b1."""
    key = "hosts.A.release_delay_h"
    six = plan_sweep(sweep_file(tmp_path, DRAWS.format(draws=6, seed=3), "six.toml"))
    again = plan_sweep(tmp_path / "six.toml")
    three = plan_sweep(sweep_file(tmp_path, DRAWS.format(draws=3, seed=3), "three.toml"))
    other = plan_sweep(sweep_file(tmp_path, DRAWS.format(draws=6, seed=4), "other.toml"))
    values = [c.values[key] for c in six.cases]
    assert values == [c.values[key] for c in again.cases]
    assert values[:3] == [c.values[key] for c in three.cases]
    assert values != [c.values[key] for c in other.cases]
    assert values == [np.random.default_rng([3, i, zlib.crc32(key.encode())]).uniform(0, 6) for i in range(6)]
    assert [c.case_id for c in six.cases] == [f"d{i:04d}" for i in range(6)]
    run_sweep(six, tmp_path / "out", client=client)
    frame = pd.read_parquet(tmp_path / "out" / "cases.parquet")
    assert frame[key].tolist() == values
    assert frame["time_h"].tolist() == pytest.approx([min(2 + d, 5.0) for d in values])


def test_a_bad_sweep_file_is_reported_all_at_once_before_any_solve(tmp_path):
    path = sweep_file(
        tmp_path,
        """
scenario = "tiny.toml"
draw = 3
[grid]
"hosts.A.max_valu_share" = [0.5]
"network.release_delay_h" = ["soon"]
"hosts.B.max_value_share" = []
"hosts.A.max_value_share" = [0.5, 1.5]
""",
    )
    with pytest.raises(ScenarioError) as caught:
        plan_sweep(path)
    text = "\n".join(caught.value.problems)
    assert "unknown key 'draw'" in text
    assert 'grid."hosts.B.max_value_share": an empty list of values' in text
    assert "unknown key 'hosts.A.max_valu_share'; did you mean 'max_value_share'" in text
    assert "'network.release_delay_h' = \"soon\"" in text and "valid number" in text
    assert "'hosts.A.max_value_share' = 1.5" in text and "less than or equal to 1" in text
    assert "'hosts.A.max_value_share' = 0.5:" not in text  # a good value is not reported
    assert len(caught.value.problems) == 5
    done = invoke("sweep", path, "--out", tmp_path / "out", "--workers", "1")
    assert done.exit_code == 1
    assert not (tmp_path / "out").exists()  # nothing was started, nothing written


def test_a_case_whose_ids_do_not_exist_is_named_with_its_cases(tmp_path):
    path = sweep_file(tmp_path, '\nscenario = "tiny.toml"\n[grid]\n"constraints.exclude_sites" = ["a1", "zz"]\n')
    with pytest.raises(ScenarioError) as caught:
        plan_sweep(path)
    (problem,) = caught.value.problems
    assert "unknown site 'zz'" in problem and "g0001" in problem and "1 of 2 cases" in problem


def test_distribution_parameters_are_checked():
    with pytest.raises(ValueError, match="needs mode"):
        Distribution(distribution="triangular", low=0, high=1)
    with pytest.raises(ValueError, match="low \\(2\\) is above high \\(1\\)"):
        Distribution(distribution="uniform", low=2, high=1)
    with pytest.raises(ValueError, match="takes no mode"):
        Distribution(distribution="uniform", low=0, high=1, mode=0.5)
    with pytest.raises(ValueError, match="but no \\[uncertain\\]"):
        SweepFile(scenario=Path("x.toml"), draws=4)
    bounded = Distribution(distribution="normal", mean=0, sd=10, low=-1, high=1)
    rng = np.random.default_rng(0)
    assert all(-1 <= bounded.draw(rng) <= 1 for _ in range(200))


def test_cases_share_a_travel_matrix_unless_their_routing_inputs_differ():
    """A release delay is added after routing; a convoy speed changes the route times: its own matrix."""
    inputs = tiny_inputs({"a": (0.0, 0.0, "army_base")})
    base = tiny_road_scenario(FIXTURES / "tiny.osm")
    later = base.model_copy(update={"network": base.network.model_copy(update={"release_delay_h": 99.0})})
    slower = tiny_road_scenario(
        FIXTURES / "tiny.osm",
        profiles={"wheeled": {"speed_kph": 30, "border_h": {"internal": 1.0, "external": 1.0, "non_eu": 1.0}}},
    )
    assert routing_key(base, inputs) == routing_key(later, inputs)
    assert routing_key(base, inputs) != routing_key(slower, inputs)


def test_the_command_runs_on_a_scheduler_by_address_and_refuses_a_foreign_folder(tmp_path, client):
    path = sweep_file(tmp_path, GRID)
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep")
    refused = invoke("sweep", path, "--out", foreign, "--scheduler", client.scheduler.address)
    assert refused.exit_code == 1 and "did not write" in refused.output
    assert (foreign / "notes.txt").read_text() == "keep"
    done = invoke("sweep", path, "--out", tmp_path / "out", "--scheduler", client.scheduler.address)
    assert done.exit_code == 0, done.output
    assert "infeasible" in done.output and "optimal" in done.output


def test_the_readme_documents_every_key_of_a_sweep_file():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Robustness sweeps", 1)[1].split("\n## ", 1)[0]
    for name in (*SweepFile.model_fields, *Distribution.model_fields):
        assert f"`{name}`" in section, name


def test_the_shipped_example_sweeps_check_against_the_shipped_data():
    """Every case of each example is valid before any solve (no road network is needed to check them)."""
    sizes = {path.name: len(plan_sweep(path).cases) for path in sorted((ROOT / "models" / "sweeps").glob("*.toml"))}
    assert sizes == {"delay_x_ro_cap.toml": 3 * 3, "uncertain_roads.toml": 20}


def test_site_capacity_keys_change_the_sites_table_case_by_case(tmp_path, client):
    """sites.*.vehicle_bays scales every site's 10 bays (0.1: 1 bay, 1 unit each), then sites.b1.vehicle_bays
    sets b1's: 1 bay at a1 and none at b1 leaves room for 1 of 2 units (infeasible); 1 and 10 bays put one
    unit on each site (mean (2 + 5) / 2); with 10 bays at a1 both units go there (2 h)."""
    text = '\nscenario = "tiny.toml"\n[grid]\n"sites.*.vehicle_bays" = [1.0, 0.1]\n"sites.b1.vehicle_bays" = [0, 10]\n'
    plan = plan_sweep(sweep_file(tmp_path, text))
    run_sweep(plan, tmp_path / "out", client=client)
    frame = pd.read_parquet(tmp_path / "out" / "cases.parquet")
    assert frame["status"].tolist() == ["optimal", "optimal", "infeasible", "optimal"]
    assert frame["time_h"].tolist()[:2] == [2.0, 2.0] and frame["time_h"].tolist()[3] == 3.5
    bad = sweep_file(tmp_path, '\nscenario = "tiny.toml"\n[grid]\n"sites.zz.vehicle_bays" = [1]\n', "bad.toml")
    with pytest.raises(ScenarioError, match="unknown site 'zz'"):
        plan_sweep(bad)


def test_a_worker_killed_under_its_cases_records_them_as_lost_and_a_resumed_sweep_solves_them(tmp_path):
    """The cluster's one worker is held busy by a task that waits on an event, the sweep's cases queue up
    behind it on that worker, and the worker process is killed (SIGKILL, as the kernel's out-of-memory
    killer would): the scheduler, allowed no retry, fails the cases with ``KilledWorker``. Every case is
    then recorded ``worker_lost`` with the reason, the sweep ends without a traceback, and the next run
    (on the worker the nanny restarted) solves exactly those cases again, to the optima by hand. (With
    every case lost, the figures once failed: an empty legend and an all-None share column.)"""
    import os
    import signal
    import threading
    import time as clock

    import dask
    import distributed

    plan = plan_sweep(sweep_file(tmp_path, GRID))
    out = tmp_path / "out"
    config = {"distributed.scheduler.allowed-failures": 0, "distributed.scheduler.worker-saturation": "inf"}
    with dask.config.set(config), dask_client(workers=1) as client:
        (pid,) = client.run(os.getpid).values()
        started, release = distributed.Event("test-held", client=client), distributed.Event("test-release")
        # the worker's one thread: taken until the release (or 5 minutes, should the test fail first)
        held = client.submit(
            lambda: (distributed.Event("test-held").set(), distributed.Event("test-release").wait(300)), pure=False
        )
        assert started.wait(120), "the holding task never started"
        killed = threading.Event()

        def kill_once_the_cases_wait():
            deadline = clock.monotonic() + 120
            while clock.monotonic() < deadline:
                waiting = [k for keys in client.processing().values() for k in keys if "depotsite-case-" in str(k)]
                if len(waiting) == len(plan.cases):
                    os.kill(pid, signal.SIGKILL)
                    killed.set()
                    return
                clock.sleep(0.05)

        killer = threading.Thread(target=kill_once_the_cases_wait)
        killer.start()
        outcome = run_sweep(plan, out, client=client)
        killer.join()
        assert killed.is_set(), "the cases never all waited on the worker"
        frame = pd.read_parquet(out / "cases.parquet")
        assert (outcome.solved, len(frame)) == (8, 8)
        assert set(frame["status"]) == {"worker_lost"}
        assert all(m.startswith("the worker running it was lost (") for m in frame["message"])
        # a sweep with no posture at all still writes every output (its figures say so)
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["complete"] is True
        assert set(manifest["outputs"]) >= {"cases.parquet", "sites.csv", "robustness.html", "tornado.png"}
        release.set()
        del held
        client.wait_for_workers(1, timeout=120)
        again = run_sweep(plan, out, client=client)
    assert (again.skipped, again.solved) == (0, 8)  # lost cases are solved again, none skipped
    frame = pd.read_parquet(out / "cases.parquet")
    assert frame["status"].value_counts().to_dict() == {"optimal": 6, "infeasible": 2}
    for row in frame[frame["status"] == "optimal"].itertuples():
        assert row.time_h == pytest.approx(expected_time(row[4], row[5], row[6]), abs=1e-9)
